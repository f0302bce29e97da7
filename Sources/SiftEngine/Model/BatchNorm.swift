import CEngineKernels

/// Batch normalisation of a layer's input, per feature, with a learned scale and shift.
final class BatchNorm {
    let features: Int
    let epsilon: Float
    let decay: Float
    let gamma: Matrix, beta: Matrix
    let gradGamma: Matrix, gradBeta: Matrix
    let runningMean: Matrix, runningVariance: Matrix
    /// Per-batch statistics kept for the backward pass.
    private let batchMean: Matrix, inverseStd: Matrix

    init(features: Int, epsilon: Double, decay: Double) {
        self.features = features
        self.epsilon = Float(epsilon)
        self.decay = Float(decay)
        gamma = Matrix(rows: 1, cols: features)
        beta = Matrix(rows: 1, cols: features)
        gradGamma = Matrix(rows: 1, cols: features)
        gradBeta = Matrix(rows: 1, cols: features)
        runningMean = Matrix(rows: 1, cols: features)
        runningVariance = Matrix(rows: 1, cols: features)
        batchMean = Matrix(rows: 1, cols: features)
        inverseStd = Matrix(rows: 1, cols: features)
        reset()
    }

    /// Whether the running statistics hold anything yet: the first training batch after a (re)start
    /// sets them outright, as the paper's code does (`amv = mv` at step 0), and later batches average in.
    var hasRunningStatistics = false

    func reset() {
        gamma.fill(1); beta.fill(0)
        restartRunningStatistics()
    }

    /// Forgets the running statistics (mean 0, variance 1 until the next training batch sets them).
    func restartRunningStatistics() {
        runningMean.fill(0); runningVariance.fill(1)
        hasRunningStatistics = false
    }

    /// Writes γ·x̂+β into `output` and x̂ into `normalized`. Training mode uses and records batch statistics.
    func forward(_ input: Matrix, normalized: Matrix, output: Matrix, training: Bool) {
        let rows = input.rows, f = features
        let x = input.pointer, xhat = normalized.pointer, y = output.pointer
        let mean = batchMean.pointer, inv = inverseStd.pointer
        if training {
            sift_column_sums(rows, f, x, mean)
            for j in 0..<f { mean[j] /= Float(rows) }
            sift_column_squared_deviations(rows, f, x, mean, inv)
            for j in 0..<f {
                let variance = inv[j] / Float(rows)
                if hasRunningStatistics {
                    runningMean.pointer[j] = decay * runningMean.pointer[j] + (1 - decay) * mean[j]
                    runningVariance.pointer[j] = decay * runningVariance.pointer[j] + (1 - decay) * variance
                } else {
                    runningMean.pointer[j] = mean[j]
                    runningVariance.pointer[j] = variance
                }
                inv[j] = 1 / (variance + epsilon).squareRoot()
            }
            hasRunningStatistics = true
        } else {
            for j in 0..<f {
                mean[j] = runningMean.pointer[j]
                inv[j] = 1 / (runningVariance.pointer[j] + epsilon).squareRoot()
            }
        }
        sift_batch_norm_forward(rows, f, x, mean, inv, gamma.pointer, beta.pointer, xhat, y)
    }

    /// From d(loss)/d(output) computes the parameter gradients and, given `gradInput`, d(loss)/d(input).
    func backward(_ gradOutput: Matrix, normalized: Matrix, gradInput: Matrix?) {
        let rows = gradOutput.rows, f = features
        let dy = gradOutput.pointer, xhat = normalized.pointer
        sift_batch_norm_parameter_gradients(rows, f, dy, xhat, gradBeta.pointer, gradGamma.pointer)
        guard let dx = gradInput?.pointer else { return }
        // dx = γ·inv/B · (B·dy − Σdy − x̂·Σ(dy·x̂))
        sift_batch_norm_input_gradient(rows, f, dy, xhat, gamma.pointer, inverseStd.pointer, gradBeta.pointer,
                                       gradGamma.pointer, dx)
    }
}
