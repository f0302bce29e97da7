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

    /// The vector ReLU and its derivative give the bits of the Swift loops they replaced: −0 becomes +0,
    /// NaN passes through the ReLU, and the derivative is +0 wherever a is not positive (NaN included),
    /// for counts with and without a remainder after groups of eight.
    @Test(arguments: [5, 8, 37])
    func elementwisePassesMatchTheSwiftLoops(count: Int) {
        var stream = RandomStream(root: 12, seed: UInt64(count), purpose: "relu")
        let special: [Float] = [-0.0, 0.0, .nan, .infinity, -.infinity, -.leastNonzeroMagnitude]
        var z = (0..<count).map { _ in Float(stream.nextNormal()) }
        var gradient = (0..<count).map { _ in Float(stream.nextNormal()) }
        for (k, value) in special.enumerated() where k < count {
            z[(k * 7) % count] = value
            gradient[(k * 5 + 1) % count] = value
        }
        var a = [Float](repeating: 1, count: count), dz = [Float](repeating: 1, count: count)
        sift_relu(count, z, &a)
        #expect(a.map(\.bitPattern) == z.map { max($0, 0) }.map(\.bitPattern))
        sift_relu_backward(count, gradient, z, &dz)
        #expect(dz.map(\.bitPattern) == zip(gradient, z).map { g, a in a > 0 ? g : 0 }.map(\.bitPattern))
    }
}
