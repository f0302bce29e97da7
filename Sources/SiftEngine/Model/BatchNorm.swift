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

    /// While the statistics are measured again (`beginRecalibration`): each feature's sums of the batches'
    /// means (first `features` entries) and variances (the next), and how many batches went in.
    private var recalibrationSums: UnsafeMutablePointer<Double>?
    private var recalibratedBatches = 0

    deinit { recalibrationSums?.deallocate() }

    /// From now until `finishRecalibration`, a training-mode pass normalises with its batch's statistics, as
    /// in training, but adds them to sums instead of averaging them into the running statistics.
    func beginRecalibration() {
        let sums = recalibrationSums ?? .allocate(capacity: 2 * features)
        sums.initialize(repeating: 0, count: 2 * features)
        recalibrationSums = sums
        recalibratedBatches = 0
    }

    /// Sets the running statistics to the plain average of the batches' since `beginRecalibration`.
    func finishRecalibration() {
        guard let sums = recalibrationSums else { return }
        if recalibratedBatches > 0 {
            let n = Double(recalibratedBatches)
            for j in 0..<features {
                runningMean.pointer[j] = Float(sums[j] / n)
                runningVariance.pointer[j] = Float(sums[features + j] / n)
            }
            hasRunningStatistics = true
        }
        sums.deallocate()
        recalibrationSums = nil
    }

    /// How many features have a running variance below `threshold`: inputs that are nearly constant on the
    /// data (a border pixel of Fashion-MNIST, a unit that is almost never active), which a small epsilon
    /// turns into very large normalised values whenever the running mean lags the weights.
    func nearConstantFeatures(below threshold: Double) -> Int {
        (0..<features).reduce(0) { $0 + (Double(runningVariance.pointer[$1]) < threshold ? 1 : 0) }
    }

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
    /// examples. Training mode uses and records batch statistics. Both layouts give the same bits, and so does
    /// any thread count: every feature is one thread's, start to end (`ThreadRanges`).
    func forward(_ input: Activations, rows: Int, normalized: Matrix, output: Matrix, training: Bool) {
        switch input {
        case .rowMajor(let x):
            precondition(
                x.rows == rows && normalized.cols == features && output.cols == features,
                "batch norm's row-major buffers")
        case .featureMajor(let xT):
            precondition(
                normalized.cols == xT.cols && output.cols == xT.cols && rows <= xT.cols,
                "batch norm's feature-major buffers")
        }
        let update: RunningUpdate =
            recalibrationSums.map { .accumulate($0) } ?? (hasRunningStatistics ? .average : .set)
        ThreadRanges.run(items: features, work: rows * features) { units in
            if training {
                measureBatch(input, rows: rows, units: units, update: update)
            } else {
                for j in units {
                    batchMean.pointer[j] = runningMean.pointer[j]
                    inverseStd.pointer[j] = 1 / (runningVariance.pointer[j] + epsilon).squareRoot()
                }
            }
            normalize(input, rows: rows, units: units, normalized: normalized, output: output)
        }
        if training && recalibrationSums == nil { hasRunningStatistics = true }
        if training && recalibrationSums != nil { recalibratedBatches += 1 }
    }

    /// What a training batch's statistics do to the running ones.
    private enum RunningUpdate {
        /// Set them outright (the first batch after a start, as the paper's code does).
        case set
        /// Average them in with the decay.
        case average
        /// Add them to the recalibration's sums (means, then variances) and leave the running ones alone.
        case accumulate(UnsafeMutablePointer<Double>)
    }

    /// The batch's mean and 1/std for `units`, and what `update` says to do with them.
    private func measureBatch(_ input: Activations, rows: Int, units: Range<Int>, update: RunningUpdate) {
        let first = units.lowerBound, count = units.count
        let mean = batchMean.pointer + first, inv = inverseStd.pointer + first
        let runningMean = runningMean.pointer + first, runningVariance = runningVariance.pointer + first
        switch input {
        case .rowMajor(let x): sift_column_sums(rows, count, features, x.pointer + first, mean)
        case .featureMajor(let xT): sift_row_sums(count, xT.pointer + first * xT.cols, rows, xT.cols, mean)
        }
        for j in 0..<count { mean[j] /= Float(rows) }
        switch input {
        case .rowMajor(let x): sift_column_squared_deviations(rows, count, features, x.pointer + first, mean, inv)
        case .featureMajor(let xT):
            sift_unit_squared_deviations(count, rows, xT.cols, xT.pointer + first * xT.cols, mean, inv)
        }
        for j in 0..<count {
            let variance = inv[j] / Float(rows)
            switch update {
            case .average:
                runningMean[j] = decay * runningMean[j] + (1 - decay) * mean[j]
                runningVariance[j] = decay * runningVariance[j] + (1 - decay) * variance
            case .set:
                runningMean[j] = mean[j]
                runningVariance[j] = variance
            case .accumulate(let sums):
                sums[first + j] += Double(mean[j])
                sums[features + first + j] += Double(variance)
            }
            inv[j] = 1 / (variance + epsilon).squareRoot()
        }
    }

    /// x̂ and γ·x̂+β for `units`, from the statistics in `batchMean` and `inverseStd`.
    private func normalize(_ input: Activations, rows: Int, units: Range<Int>, normalized: Matrix, output: Matrix) {
        let first = units.lowerBound, count = units.count
        let mean = batchMean.pointer + first, inv = inverseStd.pointer + first
        let gamma = gamma.pointer + first, beta = beta.pointer + first
        switch input {
        case .rowMajor(let x):
            sift_batch_norm_forward(
                rows, count, features, x.pointer + first, mean, inv, gamma, beta,
                normalized.pointer + first, output.pointer + first)
        case .featureMajor(let xT):
            let offset = first * xT.cols
            sift_batch_norm_forward_by_unit(
                count, rows, xT.cols, xT.pointer + offset, mean, inv, gamma, beta,
                normalized.pointer + offset, output.pointer + offset)
        }
    }

    /// From d(loss)/d(output) computes the parameter gradients and, given `gradInput`, d(loss)/d(input);
    /// `normalized` and `gradInput` are laid out as `gradOutput` is. A feature's gradients are one thread's.
    func backward(_ gradOutput: Activations, rows: Int, normalized: Matrix, gradInput: Matrix?) {
        if case .featureMajor(let dyT) = gradOutput {
            precondition(
                normalized.cols == dyT.cols && gradInput.map { $0.cols == dyT.cols } ?? true,
                "batch norm's feature-major buffers")
        }
        // dx = γ·inv/B · (B·dy − Σdy − x̂·Σ(dy·x̂))
        ThreadRanges.run(items: features, work: rows * features) { units in
            let first = units.lowerBound, count = units.count
            let gradBeta = gradBeta.pointer + first, gradGamma = gradGamma.pointer + first
            let gamma = gamma.pointer + first, inv = inverseStd.pointer + first
            switch gradOutput {
            case .rowMajor(let dy):
                let xhat = normalized.pointer + first
                sift_batch_norm_parameter_gradients(
                    rows, count, features, dy.pointer + first, xhat, gradBeta, gradGamma)
                guard let dx = gradInput?.pointer else { return }
                sift_batch_norm_input_gradient(
                    rows, count, features, dy.pointer + first, xhat, gamma, inv, gradBeta,
                    gradGamma, dx + first)
            case .featureMajor(let dyT):
                let offset = first * dyT.cols, xhat = normalized.pointer + offset
                sift_batch_norm_parameter_gradients_by_unit(
                    count, rows, dyT.cols, dyT.pointer + offset, xhat, gradBeta,
                    gradGamma)
                guard let dx = gradInput?.pointer else { return }
                sift_batch_norm_input_gradient_by_unit(
                    count, rows, dyT.cols, dyT.pointer + offset, xhat, gamma, inv,
                    gradBeta, gradGamma, dx + offset)
            }
        }
    }
}
