@testable import SiftEngine
import SiftRandom
import Testing
import SiftSpec

/// Analytic gradients against central finite differences, for every activation, loss and batch norm.
@Suite struct GradientTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var activation: Activation
        var loss: LossKind
        var batchNorm: Bool
        var testDescription: String { "\(activation.rawValue) \(loss.rawValue)\(batchNorm ? " +bn" : "")" }
    }

    static let cases: [Case] = Activation.allCases.flatMap { a in
        LossKind.allCases.flatMap { l in [false, true].map { Case(activation: a, loss: l, batchNorm: $0) } }
    }

    @Test(arguments: cases)
    func matchesFiniteDifferences(_ c: Case) {
        var model = ModelSpec(widths: [6, 5, 4, 3])
        model.activation = c.activation
        model.loss = c.loss
        model.batchNorm = c.batchNorm
        model.batchNormEpsilon = 1e-5
        let network = Network(spec: model)
        network.initialize(stream: RandomStream(root: 3, seed: 1, purpose: "init"))
        var s = RandomStream(root: 3, seed: 1, purpose: "data")
        // Perturb biases and batch-norm parameters so their gradients are not trivially symmetric.
        for layer in network.layers {
            for j in 0..<layer.fanOut { layer.bias.pointer[j] = Float(0.1 * s.nextNormal()) }
            if let bn = layer.batchNorm {
                for j in 0..<bn.features {
                    bn.gamma.pointer[j] = Float(1 + 0.2 * s.nextNormal())
                    bn.beta.pointer[j] = Float(0.2 * s.nextNormal())
                }
            }
        }
        let rows = 8
        let input = Matrix(rows: rows, cols: 6)
        for i in 0..<input.count { input.pointer[i] = Float(s.nextNormal()) }
        let labels: [Int32] = (0..<rows).map { Int32($0 % 3) }
        func loss() -> Double {
            Double(labels.withUnsafeBufferPointer { network.computeGradients(input, labels: $0.baseAddress!) })
        }
        /// Signs of every hidden pre-activation: a ReLU difference quotient is only valid when none flips.
        func kinkPattern() -> [Bool] {
            network.buffersByRows[rows]!.dropLast().flatMap { $0.z.values.map { $0 > 0 } }
        }
        _ = loss()
        let pattern = kinkPattern()
        let parameters = network.parameters()
        let analytic = parameters.map { Array(UnsafeBufferPointer(start: $0.gradient, count: $0.count)) }

        let h: Float = c.activation == .relu ? 2e-3 : 1e-2
        var worst = 0.0, checked = 0
        for (p, parameter) in parameters.enumerated() {
            for i in 0..<parameter.count {
                let saved = parameter.values[i]
                parameter.values[i] = saved + h
                let up = loss()
                let upPattern = kinkPattern()
                parameter.values[i] = saved - h
                let down = loss()
                let downPattern = kinkPattern()
                parameter.values[i] = saved
                if c.activation == .relu && (upPattern != pattern || downPattern != pattern) { continue }
                checked += 1
                let numeric = (up - down) / (2 * Double(h))
                let exact = Double(analytic[p][i])
                let error = abs(numeric - exact) / max(abs(numeric), abs(exact), 1e-2)
                worst = max(worst, error)
            }
        }
        #expect(worst < 2e-2, "worst relative gradient error \(worst)")
        let total = parameters.reduce(0) { $0 + $1.count }
        #expect(checked > total * 3 / 4, "only \(checked) of \(total) parameters were away from a ReLU kink")
    }
}
