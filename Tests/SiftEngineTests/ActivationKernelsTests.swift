import CEngineKernels
import Testing

/// The C ReLU and its derivative give the bits of the Swift expressions they replaced, on the values where
/// those could differ (−0, +0, NaN, infinities) and on a length that leaves a tail after the vectors.
@Suite struct ActivationKernelsTests {
    let inputs: [Float] = [-0.0, 0.0, .nan, -.nan, .infinity, -.infinity, 1.5, -2.5, .leastNonzeroMagnitude,
                           -.leastNonzeroMagnitude, 3, -3, 7, -7, 0.25, -0.25, 1e-30, -1e-30, 42]

    @Test func reluIsSwiftsMax() {
        var got = [Float](repeating: 1, count: inputs.count)
        sift_relu(inputs, &got, inputs.count)
        #expect(got.map(\.bitPattern) == inputs.map { max($0, 0).bitPattern })
    }

    @Test func reluDerivativePassesTheGradientWhereTheUnitIsOn() {
        let gradients = inputs.indices.map { Float($0) - 9.5 }
        var got = [Float](repeating: 1, count: inputs.count)
        sift_relu_backward(gradients, inputs, &got, inputs.count)
        let expected = zip(gradients, inputs).map { g, a in a > 0 ? g : 0 }
        #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}
