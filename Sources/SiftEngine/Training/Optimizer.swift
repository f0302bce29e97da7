import Foundation
import SiftSpec

/// SGD (optional momentum) and Adam over masked parameters.
///
/// The gradient is multiplied by the mask before it reaches any state, so a
/// pruned weight that starts at 0 stays exactly 0 and its moments stay 0.
/// Plain SGD updates weight matrices inside the backward product instead
/// (`weightGradient`), and this object updates the rest.
final class Optimizer {
    private let spec: TrainSpec
    private let parameters: [Parameter]
    private var firstMoments: [Matrix] = []
    private var secondMoments: [Matrix] = []
    private var stepCount = 0
    let weightGradient: DenseLayer.WeightGradient

    /// Binds to the network's current masks: create one per level, after the masks are applied.
    init(spec: TrainSpec, network: Network) {
        self.spec = spec
        let plainSGD = spec.optimizer == .sgd && spec.momentum == 0
        weightGradient = plainSGD ? .descend(learningRate: Float(spec.learningRate)) : .store
        parameters = network.parameters(includingWeights: !plainSGD)
        let needsFirst = spec.optimizer == .adam || spec.momentum != 0
        if needsFirst { firstMoments = parameters.map { Matrix(rows: 1, cols: $0.count) } }
        if spec.optimizer == .adam { secondMoments = parameters.map { Matrix(rows: 1, cols: $0.count) } }
    }

    func step() {
        stepCount += 1
        let lr = Float(spec.learningRate)
        for (p, parameter) in parameters.enumerated() {
            let w = parameter.values, g = parameter.gradient, n = parameter.count
            if let mask = parameter.mask {
                for i in 0..<n { g[i] *= mask[i] }
            }
            switch spec.optimizer {
            case .sgd where firstMoments.isEmpty:
                BLAS.axpy(-lr, g, w, count: n)
            case .sgd:
                let v = firstMoments[p].pointer, mu = Float(spec.momentum)
                for i in 0..<n {
                    v[i] = mu * v[i] + g[i]
                    w[i] -= lr * v[i]
                }
            case .adam:
                let m = firstMoments[p].pointer, v = secondMoments[p].pointer
                let b1 = Float(spec.adamBeta1), b2 = Float(spec.adamBeta2), eps = Float(spec.adamEpsilon)
                let correction1 = 1 - Float(pow(spec.adamBeta1, Double(stepCount)))
                let correction2 = 1 - Float(pow(spec.adamBeta2, Double(stepCount)))
                let stepSize = lr / correction1, root2 = correction2.squareRoot()
                for i in 0..<n {
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    w[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + eps)
                }
            }
            parameter.onUpdate?()
        }
    }
}
