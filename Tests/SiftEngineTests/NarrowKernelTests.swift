import CEngineKernels
import SiftRandom
import Testing

/// The input gradient of a layer with few units over a sparse one: every entry is its one defined sum, in
/// both builds, and the padding columns of the feature-major result are left alone.
@Suite struct NarrowKernelTests {
    /// Batch sizes around the vector widths (8 and 16) and the eight-vector groups (64 and 128 columns).
    @Test(arguments: [1, 5, 16, 37, 100, 128, 131])
    func everyEntryIsItsDefinedSumInBothBuilds(rows: Int) {
        let fanIn = 37, stride = (rows + 31) / 32 * 32 + 32
        for outputs in [1, 7, 10, 16] {
            var stream = RandomStream(root: 14, seed: UInt64(rows * 100 + outputs), purpose: "narrow")
            let weights = (0..<(fanIn * outputs)).map { _ in Float(stream.nextNormal()) }
            let gradZT = (0..<(outputs * rows)).map { _ in Float(stream.nextNormal()) }  // one row per unit
            // Σ over the units in order, from +0, each step one fused multiply-add.
            var expected = [Float](repeating: 7, count: fanIn * stride)
            for i in 0..<fanIn {
                for b in 0..<rows {
                    var sum: Float = 0
                    for o in 0..<outputs { sum = sum.addingProduct(weights[i * outputs + o], gradZT[o * rows + b]) }
                    expected[i * stride + b] = sum
                }
            }
            for (build, kernel) in [
                ("dispatched", sift_narrow_input_gradient), ("eight-float", sift_narrow_input_gradient_eight_wide),
            ] {
                var result = [Float](repeating: 7, count: fanIn * stride)
                kernel(fanIn, outputs, weights, gradZT, rows, stride, &result)
                let same = result.map(\.bitPattern) == expected.map(\.bitPattern)  // a Bool: a failure prints no floats
                #expect(same, "\(build) build, \(outputs) units, \(rows) rows")
            }
        }
    }
}
