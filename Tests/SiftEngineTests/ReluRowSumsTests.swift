import CEngineKernels
import SiftRandom
import Testing

/// The one-pass ReLU derivative with the bias gradient gives the bits of the two passes it replaced (the
/// elementwise derivative, then `sift_row_sums`), with rows and columns left over after groups of eight.
@Suite struct ReluRowSumsTests {
    @Test func onePassMatchesTheTwoPasses() {
        let count = 13, width = 19, stride = 24
        var stream = RandomStream(root: 12, seed: 0, purpose: "relu-row-sums")
        let special: [Float] = [-0.0, 0.0, .nan, .infinity, -.infinity]
        var gradient = (0..<(count * stride)).map { _ in Float(stream.nextNormal()) }
        var activations = (0..<(count * stride)).map { _ in max(Float(stream.nextNormal()), 0) }
        for (k, value) in special.enumerated() {
            activations[7 * k] = value
            gradient[7 * k + 3] = value
        }
        let derivative = zip(gradient, activations).map { g, a in a > 0 ? g : 0 }
        var expectedSums = [Float](repeating: .nan, count: count)
        sift_row_sums(count, derivative, width, stride, &expectedSums)

        var got = [Float](repeating: 1, count: count * stride), sums = [Float](repeating: 1, count: count)
        sift_relu_backward_row_sums(count, gradient, activations, &got, width, stride, &sums)
        #expect(got.map(\.bitPattern) == derivative.map(\.bitPattern))
        #expect(sums.map(\.bitPattern) == expectedSums.map(\.bitPattern))
    }
}
