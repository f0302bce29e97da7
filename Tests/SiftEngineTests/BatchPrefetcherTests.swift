@testable import SiftEngine
import SiftData
import SiftRandom
import Testing

/// The background copy hands each step exactly the rows it asked for, whichever slot it used.
@Suite struct BatchPrefetcherTests {
    @Test func everyBatchHoldsTheRowsAskedFor() {
        let shape = ImageShape(channels: 1, height: 2, width: 3)
        let count = 50
        // Image n is filled with n + pixel/10, and labelled n mod 7.
        let images = LabelledImages(shape: shape,
                                    features: (0..<(count * shape.size)).map { Float($0 / shape.size) + Float($0 % shape.size) / 10 },
                                    labels: (0..<count).map { Int32($0 % 7) })
        let prefetcher = BatchPrefetcher(images: images, rows: 4)
        var stream = RandomStream(root: 5, seed: 0, purpose: "order")
        let order = stream.permutation(count)
        let batches = count / 4
        prefetcher.fill(batch: 0, indices: order[0..<4])
        for b in 0..<batches {
            let slot = prefetcher.slot(batch: b)
            if b + 1 < batches { prefetcher.fill(batch: b + 1, indices: order[((b + 1) * 4)..<((b + 2) * 4)]) }
            for r in 0..<4 {
                let n = order[b * 4 + r]
                #expect(slot.labels[r] == Int32(n % 7))
                for p in 0..<shape.size { #expect(slot.input[r, p] == Float(n) + Float(p) / 10) }
            }
        }
    }
}
