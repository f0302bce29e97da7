/// One fully connected layer y = f(BN(x)·(W⊙M) + b⊙m), weights stored [fan_in, fan_out] (SPEC 2).
///
/// Pruned entries are kept exactly 0 in `weights` and their gradients are masked
/// in the update, so the forward pass needs no W⊙M product.
public final class DenseLayer {
    public let fanIn: Int
    public let fanOut: Int
    public let isOutput: Bool
    public let activation: Activation
    public let weights: Matrix
    public let bias: Matrix
    /// 1 where a weight is alive, 0 where pruned; Float so the update multiplies by it.
    public let weightMask: Matrix
    public let biasMask: Matrix
    let gradWeights: Matrix
    let gradBias: Matrix
    let batchNorm: BatchNorm?
    /// No weight is pruned, so masking can be skipped.
    var weightsDense = true
    var biasDense = true

    /// What the backward pass does with the weight gradient.
    enum WeightGradient {
        /// Keep it in `gradWeights` for the optimiser.
        case store
        /// Plain SGD inside the product, W ← W − η·xᵀ·δ, which saves a pass over the gradient.
        case descend(learningRate: Float)
    }

    init(fanIn: Int, fanOut: Int, isOutput: Bool, activation: Activation, batchNorm: BatchNorm?) {
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.isOutput = isOutput
        self.activation = activation
        self.batchNorm = batchNorm
        weights = Matrix(rows: fanIn, cols: fanOut)
        bias = Matrix(rows: 1, cols: fanOut)
        weightMask = Matrix(rows: fanIn, cols: fanOut)
        biasMask = Matrix(rows: 1, cols: fanOut)
        gradWeights = Matrix(rows: fanIn, cols: fanOut)
        gradBias = Matrix(rows: 1, cols: fanOut)
        weightMask.fill(1)
        biasMask.fill(1)
    }

    /// Buffers for one batch size; reused every step.
    final class Buffers {
        let normalized: Matrix?, batchNormOutput: Matrix?
        let z: Matrix, a: Matrix, gradZ: Matrix
        /// d(loss)/d(layer input): the previous layer's gradient of its activation.
        let gradInput: Matrix
        let gradNormalizedInput: Matrix?
        unowned(unsafe) var input: Matrix?

        init(layer: DenseLayer, rows: Int) {
            let hasNorm = layer.batchNorm != nil
            normalized = hasNorm ? Matrix(rows: rows, cols: layer.fanIn) : nil
            batchNormOutput = hasNorm ? Matrix(rows: rows, cols: layer.fanIn) : nil
            gradNormalizedInput = hasNorm ? Matrix(rows: rows, cols: layer.fanIn) : nil
            z = Matrix(rows: rows, cols: layer.fanOut)
            a = layer.isOutput ? z : Matrix(rows: rows, cols: layer.fanOut)
            gradZ = Matrix(rows: rows, cols: layer.fanOut)
            gradInput = Matrix(rows: rows, cols: layer.fanIn)
        }
    }

    /// Computes the layer's output into `buffers.a` (logits for the output layer).
    func forward(_ input: Matrix, _ buffers: Buffers, training: Bool) {
        var x = input
        if let batchNorm, let normalized = buffers.normalized, let out = buffers.batchNormOutput {
            batchNorm.forward(input, normalized: normalized, output: out, training: training)
            x = out
        }
        buffers.input = x
        let z = buffers.z
        for r in 0..<z.rows { (z.pointer + r * fanOut).update(from: bias.pointer, count: fanOut) }
        BLAS.gemm(x, weights, into: z, beta: 1)
        if !isOutput { activation.apply(z.pointer, into: buffers.a.pointer, count: z.count) }
    }

    /// Given d(loss)/d(output) in `gradOutput`, fills the parameter gradients and, when asked, `buffers.gradInput`.
    /// The input gradient is computed before any in-place weight update, so it uses this step's weights.
    func backward(_ gradOutput: Matrix, _ buffers: Buffers, needInputGradient: Bool, weightGradient: WeightGradient) {
        let gradZ: Matrix
        if isOutput {
            gradZ = gradOutput
        } else {
            activation.backward(gradOutput.pointer, z: buffers.z.pointer, a: buffers.a.pointer,
                                into: buffers.gradZ.pointer, count: buffers.gradZ.count)
            gradZ = buffers.gradZ
        }
        let db = gradBias.pointer
        db.update(repeating: 0, count: fanOut)
        for r in 0..<gradZ.rows {
            let row = gradZ.pointer + r * fanOut
            for j in 0..<fanOut { db[j] += row[j] }
        }
        if let batchNorm, let gradNormalized = buffers.gradNormalizedInput, let normalized = buffers.normalized {
            BLAS.gemm(gradZ, weights, transposeB: true, into: gradNormalized)
            batchNorm.backward(gradNormalized, normalized: normalized, gradInput: buffers.gradInput)
        } else if needInputGradient {
            BLAS.gemm(gradZ, weights, transposeB: true, into: buffers.gradInput)
        }
        switch weightGradient {
        case .store:
            BLAS.gemm(buffers.input!, transposeA: true, gradZ, into: gradWeights)
        case .descend(let learningRate):
            BLAS.gemm(buffers.input!, transposeA: true, gradZ, into: weights, alpha: -learningRate, beta: 1)
            if !weightsDense { maskWeights() }
        }
    }

    /// Zeroes the pruned entries, so that W always equals W⊙M.
    func applyMask() {
        maskWeights()
        let b = bias.pointer, bm = biasMask.pointer
        for j in 0..<fanOut { b[j] *= bm[j] }
    }

    private func maskWeights() {
        let w = weights.pointer, m = weightMask.pointer
        for i in 0..<weights.count { w[i] *= m[i] }
    }
}
