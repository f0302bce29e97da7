/// One fully connected layer y = f(BN(x)·(W⊙M) + b⊙m), weights stored [fan_in, fan_out] (SPEC 2).
///
/// Pruned entries are kept exactly 0 in `weights` and their gradients are masked
/// in the update, so the forward pass needs no W⊙M product. A layer whose surviving
/// fraction is below the model's `sparseBelow` runs its products over the survivors
/// alone (`SparseWeights`); the choice is made when a mask is applied.
public final class DenseLayer {
    public let fanIn: Int
    public let fanOut: Int
    public let isOutput: Bool
    public let activation: Activation
    /// The weights as a dense matrix; current whenever read, and writes to it are seen by the next pass.
    /// Do not keep the matrix across training steps: on the sparse path the step updates a compressed copy.
    public var weights: Matrix { sparse?.denseForAccess() ?? weightStore }
    private let weightStore: Matrix
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
    /// The compressed survivors, when this level's layer takes the sparse path.
    private(set) var sparse: SparseWeights?

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
        weightStore = Matrix(rows: fanIn, cols: fanOut)
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
        /// The last forward pass's input (the batch, or the previous layer's activations), for the backward pass.
        var input: Matrix?
        private let fanIn: Int, fanOut: Int
        /// Feature-major copies for the sparse path, made on its first use.
        private(set) lazy var featureMajor = FeatureMajor(rows: z.rows, fanIn: fanIn, fanOut: fanOut)

        init(layer: DenseLayer, rows: Int) {
            fanIn = layer.fanIn
            fanOut = layer.fanOut
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

    /// Activations transposed to one row per unit, the batch along the row padded to whole kernel panels.
    /// The padding stays 0: transposes write only the batch's own columns.
    final class FeatureMajor {
        let layout: SparseWeights.Layout
        /// The last forward pass's input: `ownInputT`, or a caller's copy that stays valid until the backward pass.
        var inputT: Matrix
        let ownInputT: Matrix, outputT: Matrix, gradOutputT: Matrix, gradInputT: Matrix

        init(rows: Int, fanIn: Int, fanOut: Int) {
            layout = SparseWeights.Layout(rows: rows)
            ownInputT = Matrix(rows: fanIn, cols: layout.stride)
            inputT = ownInputT
            outputT = Matrix(rows: fanOut, cols: layout.stride)
            gradOutputT = Matrix(rows: fanOut, cols: layout.stride)
            gradInputT = Matrix(rows: fanIn, cols: layout.stride)
        }
    }

    /// Takes the sparse path for the current mask, which keeps `density` of the weights, when that is
    /// below `sparseBelow`; the dense path otherwise.
    func choosePath(density: Double, sparseBelow: Double) {
        _ = weights  // brings the dense matrix up to date before a compressed copy is dropped
        sparse = density < sparseBelow ? SparseWeights(mask: weightMask, dense: weightStore) : nil
    }

    /// Where the optimiser finds this layer's weights and gradient: compressed or dense.
    var weightParameter: Parameter {
        if let sparse {
            return Parameter(values: sparse.valuesForStep(), gradient: sparse.gradient, mask: nil, count: sparse.count,
                             owner: sparse, onUpdate: sparse.valuesChanged)
        }
        return Parameter(values: weightStore.pointer, gradient: gradWeights.pointer,
                         mask: weightsDense ? nil : weightMask.pointer, count: weightStore.count, owner: self, onUpdate: nil)
    }

    /// The weight gradient of the last `.store` pass as a dense matrix, 0 at pruned entries.
    var denseWeightGradient: Matrix {
        sparse?.denseGradient(into: gradWeights)
        return gradWeights
    }

    /// Whether `forward` can take its input already feature-major (`inputT`), saving a transpose.
    var readsFeatureMajorInput: Bool { sparse != nil && batchNorm == nil }

    /// Computes the layer's output into `buffers.a` (logits for the output layer). `inputT`, when given
    /// and `readsFeatureMajorInput`, is `input` transposed as `SparseWeights.Layout` lays it out.
    func forward(_ input: Matrix, _ buffers: Buffers, training: Bool, inputT: Matrix? = nil) {
        var x = input
        if let batchNorm, let normalized = buffers.normalized, let out = buffers.batchNormOutput {
            batchNorm.forward(input, normalized: normalized, output: out, training: training)
            x = out
        }
        buffers.input = x
        let z = buffers.z
        if let sparse {
            let t = buffers.featureMajor
            if let inputT, readsFeatureMajorInput {
                precondition(inputT.rows == fanIn && inputT.cols == t.layout.stride, "feature-major input has the wrong layout")
                t.inputT = inputT
            } else {
                t.inputT = t.ownInputT
                BLAS.transpose(x, into: t.inputT)
            }
            sparse.multiply(inputT: t.inputT.pointer, bias: bias.pointer, into: t.outputT.pointer, layout: t.layout)
            BLAS.transpose(t.outputT, rows: fanOut, cols: z.rows, into: z)
        } else {
            for r in 0..<z.rows { (z.pointer + r * fanOut).update(from: bias.pointer, count: fanOut) }
            BLAS.gemm(x, weightStore, into: z, beta: 1)
        }
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
        if let sparse {
            sparseBackward(sparse, gradZ, buffers, needInputGradient: needInputGradient, weightGradient: weightGradient)
            return
        }
        let gradNormalized = buffers.gradNormalizedInput
        if needInputGradient || gradNormalized != nil {
            BLAS.gemm(gradZ, weightStore, transposeB: true, into: gradNormalized ?? buffers.gradInput)
        }
        finishInputGradient(buffers, needInputGradient: needInputGradient)
        switch weightGradient {
        case .store:
            BLAS.gemm(buffers.input!, transposeA: true, gradZ, into: gradWeights)
        case .descend(let learningRate):
            BLAS.gemm(buffers.input!, transposeA: true, gradZ, into: weightStore, alpha: -learningRate, beta: 1)
            if !weightsDense { maskWeights() }
        }
    }

    /// The backward products over the survivors only, on feature-major copies of the gradients.
    private func sparseBackward(_ sparse: SparseWeights, _ gradZ: Matrix, _ buffers: Buffers,
                                needInputGradient: Bool, weightGradient: WeightGradient) {
        let t = buffers.featureMajor
        BLAS.transpose(gradZ, into: t.gradOutputT)
        if let gradNormalized = buffers.gradNormalizedInput ?? (needInputGradient ? buffers.gradInput : nil) {
            sparse.multiplyTransposed(gradOutputT: t.gradOutputT.pointer, into: t.gradInputT.pointer, layout: t.layout)
            BLAS.transpose(t.gradInputT, rows: fanIn, cols: gradZ.rows, into: gradNormalized)
        }
        finishInputGradient(buffers, needInputGradient: needInputGradient)
        var rate: Float?
        if case .descend(let learningRate) = weightGradient { rate = learningRate }
        sparse.weightGradient(inputT: t.inputT.pointer, gradOutputT: t.gradOutputT.pointer, layout: t.layout, descend: rate)
    }

    /// With batch norm, computes γ's and β's gradients and, when asked, carries d(loss)/d(normalised input)
    /// back to the layer's input (the first layer's input is the data: nothing needs its gradient).
    private func finishInputGradient(_ buffers: Buffers, needInputGradient: Bool) {
        if let batchNorm, let gradNormalized = buffers.gradNormalizedInput, let normalized = buffers.normalized {
            batchNorm.backward(gradNormalized, normalized: normalized, gradInput: needInputGradient ? buffers.gradInput : nil)
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
        for i in 0..<weightMask.count { w[i] *= m[i] }
    }
}
