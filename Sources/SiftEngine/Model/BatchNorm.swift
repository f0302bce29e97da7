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

    /// Writes γ·x̂+β into `output` and x̂ into `normalized`, both laid out as `input` is, for a batch of `rows`
    /// examples. Training mode uses and records batch statistics. Both layouts give the same bits.
    func forward(_ input: Activations, rows: Int, normalized: Matrix, output: Matrix, training: Bool) {
        let f = features
        let mean = batchMean.pointer, inv = inverseStd.pointer
        if training {
            switch input {
            case .rowMajor(let x): sift_column_sums(rows, f, x.pointer, mean)
            case .featureMajor(let xT): sift_row_sums(f, xT.pointer, rows, xT.cols, mean)
            }
            for j in 0..<f { mean[j] /= Float(rows) }
            switch input {
            case .rowMajor(let x): sift_column_squared_deviations(rows, f, x.pointer, mean, inv)
            case .featureMajor(let xT): sift_unit_squared_deviations(f, rows, xT.cols, xT.pointer, mean, inv)
            }
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
        switch input {
        case .rowMajor(let x):
            precondition(x.rows == rows && normalized.cols == f && output.cols == f, "batch norm's row-major buffers")
            sift_batch_norm_forward(rows, f, x.pointer, mean, inv, gamma.pointer, beta.pointer, normalized.pointer,
                                    output.pointer)
        case .featureMajor(let xT):
            precondition(normalized.cols == xT.cols && output.cols == xT.cols && rows <= xT.cols, "batch norm's feature-major buffers")
            sift_batch_norm_forward_by_unit(f, rows, xT.cols, xT.pointer, mean, inv, gamma.pointer, beta.pointer,
                                            normalized.pointer, output.pointer)
        }
    }

    /// From d(loss)/d(output) computes the parameter gradients and, given `gradInput`, d(loss)/d(input);
    /// `normalized` and `gradInput` are laid out as `gradOutput` is.
    func backward(_ gradOutput: Activations, rows: Int, normalized: Matrix, gradInput: Matrix?) {
        let f = features, xhat = normalized.pointer
        // dx = γ·inv/B · (B·dy − Σdy − x̂·Σ(dy·x̂))
        switch gradOutput {
        case .rowMajor(let dy):
            sift_batch_norm_parameter_gradients(rows, f, dy.pointer, xhat, gradBeta.pointer, gradGamma.pointer)
            guard let dx = gradInput?.pointer else { return }
            sift_batch_norm_input_gradient(rows, f, dy.pointer, xhat, gamma.pointer, inverseStd.pointer, gradBeta.pointer,
                                           gradGamma.pointer, dx)
        case .featureMajor(let dyT):
            precondition(normalized.cols == dyT.cols && gradInput.map { $0.cols == dyT.cols } ?? true,
                         "batch norm's feature-major buffers")
            sift_batch_norm_parameter_gradients_by_unit(f, rows, dyT.cols, dyT.pointer, xhat, gradBeta.pointer,
                                                        gradGamma.pointer)
            guard let dx = gradInput?.pointer else { return }
            sift_batch_norm_input_gradient_by_unit(f, rows, dyT.cols, dyT.pointer, xhat, gamma.pointer, inverseStd.pointer,
                                                   gradBeta.pointer, gradGamma.pointer, dx)
        }
    }
}
