@testable import SiftEngine
import SiftRandom
import Synchronization
import Testing
import SiftSpec

/// The passes that `ThreadRanges` cuts between threads (batch norm, the activations, the bias gradient) give
/// the same bits at any thread count, and the cut itself covers every item once, on the kernels' vector
/// boundaries, only where each range repays its thread.
@Suite(.serialized) struct ThreadRangesTests {
    private func ranges(items: Int, work: Int, threads: Int) -> [Range<Int>] {
        let seen = Mutex<[Range<Int>]>([])
        ThreadRanges.run(items: items, work: work, threads: threads) { range in seen.withLock { $0.append(range) } }
        return seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
    }

    @Test func rangesCoverEveryItemOnceOnVectorBoundaries() {
        let minimum = ThreadRanges.minimumWorkPerRange
        for (items, threads) in [(676, 3), (1024, 2), (13, 4), (8, 3)] {
            let cut = ranges(items: items, work: 100 * minimum, threads: threads)
            #expect(cut.first?.lowerBound == 0 && cut.last?.upperBound == items, "\(items) items: \(cut)")
            #expect(zip(cut, cut.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(cut)")
            #expect(cut.dropFirst().allSatisfy { $0.lowerBound % 8 == 0 }, "\(cut)")
            #expect(cut.count == min(threads, (items + 7) / 8), "\(items) items on \(threads) threads: \(cut)")
        }
        #expect(ranges(items: 1024, work: 2 * minimum - 1, threads: 4).count == 1, "too little work to share")
        #expect(ranges(items: 1024, work: 3 * minimum, threads: 4).count == 3)
        #expect(ranges(items: 0, work: 0, threads: 4) == [0..<0])
    }

    /// Batch norm in both layouts, forward in training and evaluation mode and backward, on 676 features of
    /// 600 examples (enough work for three ranges, with a tail of four features after the last vector).
    @Test func batchNormHasTheSameBitsAtAnyThreadCount() {
        let features = 676, rows = 600
        func run(threads: Int, featureMajor: Bool) -> [[UInt32]] {
            let saved = BLAS.threads
            BLAS.threads = threads
            defer { BLAS.threads = saved }
            var stream = RandomStream(root: 5, seed: 1, purpose: "batch norm")
            let cols = featureMajor ? rows + 24 : features
            let shape = featureMajor ? (features, cols) : (rows, features)
            func matrix() -> Matrix {
                let m = Matrix(rows: shape.0, cols: shape.1)
                for i in 0..<m.count { m.pointer[i] = Float(stream.nextNormal()) }
                return m
            }
            let x = matrix(), dy = matrix(), normalized = matrix(), output = matrix(), dx = matrix()
            let wrap: (Matrix) -> Activations = { featureMajor ? .featureMajor($0) : .rowMajor($0) }
            let norm = BatchNorm(features: features, epsilon: 1e-10, decay: 0.99)
            for i in 0..<features { norm.gamma.pointer[i] = 1 + Float(i % 5) / 7 }
            var bits: [[UInt32]] = []
            func keep(_ m: Matrix) {
                bits.append(
                    featureMajor
                        ? (0..<features).flatMap { u in (0..<rows).map { m.pointer[u * cols + $0].bitPattern } }
                        : m.values.map(\.bitPattern))
            }
            for training in [true, true, false] {
                norm.forward(wrap(x), rows: rows, normalized: normalized, output: output, training: training)
                keep(normalized)
                keep(output)
            }
            norm.backward(wrap(dy), rows: rows, normalized: normalized, gradInput: dx)
            keep(dx)
            for m in [norm.gradGamma, norm.gradBeta, norm.runningMean, norm.runningVariance] {
                bits.append(m.values.map(\.bitPattern))
            }
            return bits
        }
        for featureMajor in [false, true] {
            let one = run(threads: 1, featureMajor: featureMajor)
            for threads in [2, 3] {
                #expect(
                    run(threads: threads, featureMajor: featureMajor) == one,
                    "featureMajor \(featureMajor), \(threads) threads")
            }
        }
    }

    /// The activations and the bias gradient, elementwise and feature-major with row sums (676 units of 600
    /// examples, rows padded to 624), for each activation the engine has.
    @Test func activationsHaveTheSameBitsAtAnyThreadCount() {
        let units = 676, width = 600, stride = 624, count = units * stride
        var stream = RandomStream(root: 5, seed: 2, purpose: "activations")
        let z = Matrix(rows: units, cols: stride), da = Matrix(rows: units, cols: stride)
        for i in 0..<count { z.pointer[i] = Float(stream.nextNormal()); da.pointer[i] = Float(stream.nextNormal()) }
        for activation in Activation.allCases {
            func run(threads: Int) -> [[UInt32]] {
                let saved = BLAS.threads
                BLAS.threads = threads
                defer { BLAS.threads = saved }
                let a = Matrix(rows: units, cols: stride), dz = Matrix(rows: units, cols: stride)
                let dzBySum = Matrix(rows: units, cols: stride), sums = Matrix(rows: 1, cols: units)
                activation.apply(z.pointer, into: a.pointer, count: count)
                activation.backward(da.pointer, z: z.pointer, a: a.pointer, into: dz.pointer, count: count)
                activation.backward(
                    da.pointer, z: z.pointer, a: a.pointer, into: dzBySum.pointer, units: units, width: width,
                    stride: stride, rowSums: sums.pointer)
                return [a, dz, dzBySum, sums].map { $0.values.map(\.bitPattern) }
            }
            let one = run(threads: 1)
            for threads in [2, 3] { #expect(run(threads: threads) == one, "\(activation) on \(threads) threads") }
        }
    }
}
