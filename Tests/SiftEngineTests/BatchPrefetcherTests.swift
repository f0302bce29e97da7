@testable import SiftEngine
import SiftData
import SiftFiles
import SiftRandom
import Testing

/// The background copy hands each step exactly the rows it asked for, whichever slot it used, and
/// transposes them when asked.
@Suite struct BatchPrefetcherTests {
    @Test func everyBatchHoldsTheRowsAskedFor() {
        let shape = ImageShape(channels: 1, height: 2, width: 3)
        let count = 50
        // Image n is filled with n + pixel/10, and labelled n mod 7.
        let images = LabelledImages(
            shape: shape,
            features: (0..<(count * shape.size)).map { Float($0 / shape.size) + Float($0 % shape.size) / 10 },
            labels: (0..<count).map { Int32($0 % 7) })
        let prefetcher = BatchPrefetcher(images: images, rows: 4)
        var stream = RandomStream(root: 5, seed: 0, purpose: "order")
        let order = stream.permutation(count)
        let batches = count / 4
        // Odd batches also come feature-major, as a sparse first layer reads them.
        let layout = SparseWeights.Layout(rows: 4)
        func transposed(_ b: Int) -> SparseWeights.Layout? { b % 2 == 1 ? layout : nil }
        prefetcher.fill(batch: 0, indices: order[0..<4], transposed: transposed(0))
        for b in 0..<batches {
            let slot = prefetcher.slot(batch: b)
            if b + 1 < batches {
                prefetcher.fill(
                    batch: b + 1, indices: order[((b + 1) * 4)..<((b + 2) * 4)], transposed: transposed(b + 1))
            }
            #expect((slot.inputT != nil) == (b % 2 == 1))
            for r in 0..<4 {
                let n = order[b * 4 + r]
                #expect(slot.labels[r] == Int32(n % 7))
                for p in 0..<shape.size {
                    #expect(slot.input[r, p] == Float(n) + Float(p) / 10)
                    if let inputT = slot.inputT { #expect(inputT[p, r] == Float(n) + Float(p) / 10) }
                }
            }
            if let inputT = slot.inputT {
                #expect(inputT.cols == layout.stride)
                for p in 0..<shape.size {
                    #expect((4..<layout.stride).allSatisfy { inputT[p, $0] == 0 }, "padding must stay 0")
                }
            }
        }
    }
}
