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
            mean.update(repeating: 0, count: f)
            inv.update(repeating: 0, count: f)
            for r in 0..<rows { for j in 0..<f { mean[j] += x[r * f + j] } }
            for j in 0..<f { mean[j] /= Float(rows) }
            for r in 0..<rows { for j in 0..<f { let d = x[r * f + j] - mean[j]; inv[j] += d * d } }
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
        let g = gamma.pointer, b = beta.pointer
        for r in 0..<rows {
            for j in 0..<f {
                let v = (x[r * f + j] - mean[j]) * inv[j]
                xhat[r * f + j] = v
                y[r * f + j] = g[j] * v + b[j]
            }
        }
    }

    /// From d(loss)/d(output) computes the parameter gradients and, given `gradInput`, d(loss)/d(input).
    func backward(_ gradOutput: Matrix, normalized: Matrix, gradInput: Matrix?) {
        let rows = gradOutput.rows, f = features
        let dy = gradOutput.pointer, xhat = normalized.pointer
        let dg = gradGamma.pointer, db = gradBeta.pointer, g = gamma.pointer, inv = inverseStd.pointer
        dg.update(repeating: 0, count: f)
        db.update(repeating: 0, count: f)
        for r in 0..<rows {
            for j in 0..<f {
                db[j] += dy[r * f + j]
                dg[j] += dy[r * f + j] * xhat[r * f + j]
            }
        }
        guard let dx = gradInput?.pointer else { return }
        // dx = γ·inv/B · (B·dy − Σdy − x̂·Σ(dy·x̂))
        let n = Float(rows)
        for r in 0..<rows {
            for j in 0..<f {
                let i = r * f + j
                dx[i] = g[j] * inv[j] / n * (n * dy[i] - db[j] - xhat[i] * dg[j])
            }
        }
    }
}
