import CEngineKernels
import SiftSpec

/// One fully connected layer y = f(BN(x)·(W⊙M) + b⊙m), weights stored [fan_in, fan_out] (science §2).
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
        var input: Activations?
        /// Whether that input came feature-major (after batch norm, which keeps the layout it is given).
        var tookFeatureMajorInput: Bool {
            if case .featureMajor = input { return true }
            return false
        }
        private let fanIn: Int, fanOut: Int
        /// Feature-major copies for the sparse path, made on its first use.
        private(set) lazy var featureMajor = FeatureMajor(rows: z.rows, fanIn: fanIn, fanOut: fanOut)
        /// The pre-activations' gradient with one row per unit, for the narrow input-gradient kernel.
        private(set) lazy var gradZByUnit = Matrix(rows: fanOut, cols: z.rows)

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
    /// Each matrix is made on its first use: a dense layer that reads feature-major input needs only the
    /// input's gradient (and batch norm's matrices, when it normalises).
    final class FeatureMajor {
        let layout: SparseWeights.Layout
        private let fanIn: Int, fanOut: Int
        /// The last forward pass's input: `ownInputT`, or the layer below's activations, valid until the backward pass.
        lazy var inputT: Matrix = ownInputT
        /// The input transposed here, when it came row-major. Its padding stays 0: transposes write only the batch's columns.
        private(set) lazy var ownInputT = matrix(fanIn)
        /// Pre-activations; their padding holds the bias, which only padding columns downstream ever read.
        private(set) lazy var outputT = matrix(fanOut)
        /// Activations, when the layer above reads them feature-major.
        private(set) lazy var activationsT = matrix(fanOut)
        /// Gradients of the pre-activations and of the input. Their padding is 0, so sums over the padded batch are exact.
        private(set) lazy var gradOutputT = matrix(fanOut)
        private(set) lazy var gradInputT = matrix(fanIn)
        /// Batch norm's normalised input and output, and the gradient of its output, when the input arrives
        /// feature-major. Their padding stays 0: batch norm writes only the batch's columns.
        private(set) lazy var normalizedT = matrix(fanIn)
        private(set) lazy var batchNormOutputT = matrix(fanIn)
        private(set) lazy var gradNormalizedInputT = matrix(fanIn)

        init(rows: Int, fanIn: Int, fanOut: Int) {
            layout = SparseWeights.Layout(rows: rows)
            self.fanIn = fanIn
            self.fanOut = fanOut
        }

        private func matrix(_ units: Int) -> Matrix { Matrix(rows: units, cols: layout.stride) }
    }

    /// Takes the sparse path for the current mask, which keeps `density` of the weights, when that is
    /// below `sparseBelow`; the dense path otherwise. Its products use as many threads as BLAS does.
    func choosePath(density: Double, sparseBelow: Double) {
        _ = weights  // brings the dense matrix up to date before a compressed copy is dropped
        sparse = density < sparseBelow ? SparseWeights(mask: weightMask, dense: weightStore) : nil
    }

    /// Where the optimiser finds this layer's weights and gradient: compressed or dense.
    var weightParameter: Parameter {
        if let sparse {
            return Parameter(
                values: sparse.valuesForStep(), gradient: sparse.gradient, mask: nil, count: sparse.count,
                owner: sparse, onUpdate: sparse.valuesChanged)
        }
        return Parameter(
            values: weightStore.pointer, gradient: gradWeights.pointer,
            mask: weightsDense ? nil : weightMask.pointer, count: weightStore.count, owner: self, onUpdate: nil)
    }

    /// The weight gradient of the last `.store` pass as a dense matrix, 0 at pruned entries.
    var denseWeightGradient: Matrix {
        sparse?.denseGradient(into: gradWeights)
        return gradWeights
    }

    /// The layer hands its activations to the layer above feature-major (and takes their gradient back so):
    /// set on every sparse hidden layer (the neighbour's batch norm takes either layout), so no transpose is left
    /// between them.
    var emitsFeatureMajor = false

    /// Computes the layer's output (logits for the output layer) from `input`, and returns it as the layer
    /// above reads it: feature-major when `emitsFeatureMajor`, row-major otherwise.
    func forward(_ input: Activations, _ buffers: Buffers, training: Bool) -> Activations {
        var x = input
        let z = buffers.z
        if let batchNorm {
            switch input {
            case .rowMajor:
                guard let normalized = buffers.normalized, let out = buffers.batchNormOutput else {
                    preconditionFailure("a batch-norm layer without its buffers")
                }
                batchNorm.forward(input, rows: z.rows, normalized: normalized, output: out, training: training)
                x = .rowMajor(out)
            case .featureMajor:
                let t = buffers.featureMajor
                batchNorm.forward(
                    input, rows: z.rows, normalized: t.normalizedT, output: t.batchNormOutputT, training: training)
                x = .featureMajor(t.batchNormOutputT)
            }
        }
        buffers.input = x
        if let sparse {
            let t = buffers.featureMajor
            switch x {
            case .featureMajor(let inputT):
                precondition(
                    inputT.rows == fanIn && inputT.cols == t.layout.stride, "feature-major input has the wrong layout")
                t.inputT = inputT
            case .rowMajor(let rows):
                t.inputT = t.ownInputT
                BLAS.transpose(rows, into: t.inputT)
            }
            sparse.multiply(inputT: t.inputT.pointer, bias: bias.pointer, into: t.outputT.pointer, layout: t.layout)
            if !emitsFeatureMajor { BLAS.transpose(t.outputT, rows: fanOut, cols: z.rows, into: z) }
        } else {
            ThreadRanges.run(items: z.rows, work: z.count, alignment: 1) { rows in
                for r in rows { (z.pointer + r * fanOut).update(from: bias.pointer, count: fanOut) }
            }
            switch x {
            case .rowMajor(let rows): BLAS.gemm(rows, weightStore, into: z, beta: 1)
            case .featureMajor(let inputT):
                BLAS.gemm(
                    m: z.rows, n: fanOut, k: fanIn, inputT.pointer, lda: inputT.cols, transposeA: true,
                    weightStore.pointer, ldb: fanOut, into: z.pointer, ldc: fanOut, beta: 1)
            }
        }
        return activate(buffers)
    }

    /// Applies the activation to the last forward pass's pre-activations (feature-major when the layer emits
    /// that layout) and returns the output as the layer above reads it.
    private func activate(_ buffers: Buffers) -> Activations {
        if emitsFeatureMajor {
            let t = buffers.featureMajor
            activation.apply(t.outputT.pointer, into: t.activationsT.pointer, count: t.outputT.count)
            return .featureMajor(t.activationsT)
        }
        if !isOutput { activation.apply(buffers.z.pointer, into: buffers.a.pointer, count: buffers.z.count) }
        return .rowMajor(buffers.a)
    }

    /// Given d(loss)/d(output) in the layout `forward` returned, fills the parameter gradients and, when
    /// asked, returns d(loss)/d(input) in the layout the input came in (nil when not asked for).
    /// The input gradient is computed before any in-place weight update, so it uses this step's weights.
    func backward(
        _ gradOutput: Activations, _ buffers: Buffers, needInputGradient: Bool,
        weightGradient: WeightGradient
    ) -> Activations? {
        let rows = buffers.z.rows
        let db = gradBias.pointer
        if emitsFeatureMajor, let sparse {
            guard case .featureMajor(let gradActivationsT) = gradOutput else {
                preconditionFailure("gradient arrives row-major")
            }
            let t = buffers.featureMajor
            // The bias gradient is summed over the batch in the same order as the row-major sum below, so it is the same.
            activation.backward(
                gradActivationsT.pointer, z: t.outputT.pointer, a: t.activationsT.pointer,
                into: t.gradOutputT.pointer, units: fanOut, width: rows, stride: t.layout.stride, rowSums: db)
            return sparseBackward(sparse, buffers, needInputGradient: needInputGradient, weightGradient: weightGradient)
        }
        guard case .rowMajor(let gradRows) = gradOutput else { preconditionFailure("gradient arrives feature-major") }
        let gradZ: Matrix
        if isOutput {
            gradZ = gradRows
        } else {
            activation.backward(
                gradRows.pointer, z: buffers.z.pointer, a: buffers.a.pointer,
                into: buffers.gradZ.pointer, count: buffers.gradZ.count)
            gradZ = buffers.gradZ
        }
        ThreadRanges.run(items: fanOut, work: gradZ.count) { columns in
            sift_column_sums(rows, columns.count, fanOut, gradZ.pointer + columns.lowerBound, db + columns.lowerBound)
        }
        if let sparse {
            BLAS.transpose(gradZ, into: buffers.featureMajor.gradOutputT)
            return sparseBackward(sparse, buffers, needInputGradient: needInputGradient, weightGradient: weightGradient)
        }
        return denseBackward(gradZ, buffers, needInputGradient: needInputGradient, weightGradient: weightGradient)
    }

    /// Layers with at most this many units whose input arrives feature-major take their input gradient from
    /// `sift_narrow_input_gradient`, written feature-major at once, rather than from OpenBLAS and a transpose
    /// (512 → 10 at batch 128: 15-21 µs against 40). Its sums run over the units in order, as OpenBLAS sums
    /// so short a product: the quickstart's files did not change.
    static let narrowUnits = 16

    /// The backward products on the dense weights, from the pre-activations' gradient `gradZ` (row-major).
    private func denseBackward(
        _ gradZ: Matrix, _ buffers: Buffers, needInputGradient: Bool,
        weightGradient: WeightGradient
    ) -> Activations? {
        var gradInput: Activations?
        let featureMajor = buffers.tookFeatureMajorInput
        if featureMajor && needsProductInputGradient(needInputGradient) && fanOut <= Self.narrowUnits {
            let productGradT = productInputGradientT(buffers), gradZT = buffers.gradZByUnit
            BLAS.transpose(gradZ, into: gradZT)
            sift_narrow_input_gradient(
                fanIn, fanOut, weightStore.pointer, gradZT.pointer, gradZ.rows, productGradT.cols,
                productGradT.pointer)
            gradInput = finishInputGradient(.featureMajor(productGradT), buffers, needInputGradient: needInputGradient)
        } else if needsProductInputGradient(needInputGradient) {
            let gradRows = buffers.gradNormalizedInput ?? buffers.gradInput
            BLAS.gemm(gradZ, weightStore, transposeB: true, into: gradRows)
            if featureMajor {
                // Transposed for the layer below, rather than taken directly as dxᵀ = W · dzᵀ, which OpenBLAS
                // rounds differently: this keeps every result what the row-major path gives. (The forward
                // product and the weight gradient read feature-major input as they are, with the same bits.)
                let productGradT = productInputGradientT(buffers)
                BLAS.transpose(gradRows, into: productGradT)
                gradInput = finishInputGradient(
                    .featureMajor(productGradT), buffers, needInputGradient: needInputGradient)
            } else {
                gradInput = finishInputGradient(.rowMajor(gradRows), buffers, needInputGradient: needInputGradient)
            }
        }
        let (target, alpha, beta): (Matrix, Float, Float)
        switch weightGradient {
        case .store: (target, alpha, beta) = (gradWeights, 1, 0)
        case .descend(let learningRate): (target, alpha, beta) = (weightStore, -learningRate, 1)
        }
        switch buffers.input! {
        case .rowMajor(let x): BLAS.gemm(x, transposeA: true, gradZ, into: target, alpha: alpha, beta: beta)
        case .featureMajor(let xT):
            BLAS.gemm(
                m: fanIn, n: fanOut, k: gradZ.rows, xT.pointer, lda: xT.cols, gradZ.pointer, ldb: fanOut,
                into: target.pointer, ldc: fanOut, alpha: alpha, beta: beta)
        }
        if case .descend = weightGradient, !weightsDense { maskWeights() }
        return gradInput
    }

    /// The backward products over the survivors only, from the pre-activations' gradient in `gradOutputT`.
    private func sparseBackward(
        _ sparse: SparseWeights, _ buffers: Buffers, needInputGradient: Bool,
        weightGradient: WeightGradient
    ) -> Activations? {
        let t = buffers.featureMajor
        var gradInput: Activations?
        if needsProductInputGradient(needInputGradient) {
            let productGradT = productInputGradientT(buffers)
            sparse.multiplyTransposed(gradOutputT: t.gradOutputT.pointer, into: productGradT.pointer, layout: t.layout)
            if buffers.tookFeatureMajorInput {
                gradInput = finishInputGradient(
                    .featureMajor(productGradT), buffers, needInputGradient: needInputGradient)
            } else {
                let gradRows = buffers.gradNormalizedInput ?? buffers.gradInput
                BLAS.transpose(productGradT, rows: fanIn, cols: buffers.z.rows, into: gradRows)
                gradInput = finishInputGradient(.rowMajor(gradRows), buffers, needInputGradient: needInputGradient)
            }
        }
        var rate: Float?
        if case .descend(let learningRate) = weightGradient { rate = learningRate }
        sparse.weightGradient(
            inputT: t.inputT.pointer, gradOutputT: t.gradOutputT.pointer, layout: t.layout, descend: rate)
        return gradInput
    }

    /// Whether the backward pass needs the gradient of the product's input: for the layer below, or for γ
    /// and β of batch norm (the first layer's input is the data: nothing needs its own gradient).
    private func needsProductInputGradient(_ needInputGradient: Bool) -> Bool { needInputGradient || batchNorm != nil }

    /// Where the product's input gradient goes when the input came feature-major: batch norm's output
    /// gradient when the layer normalises, the input's own gradient otherwise.
    private func productInputGradientT(_ buffers: Buffers) -> Matrix {
        batchNorm == nil ? buffers.featureMajor.gradInputT : buffers.featureMajor.gradNormalizedInputT
    }

    /// Turns the gradient of the product's input (in the layout the input came in) into the input's own:
    /// through batch norm, which also computes γ's and β's gradients, when the layer normalises. Returns it
    /// when asked for, nil otherwise.
    private func finishInputGradient(
        _ productGradient: Activations, _ buffers: Buffers,
        needInputGradient: Bool
    ) -> Activations? {
        guard let batchNorm else { return needInputGradient ? productGradient : nil }
        let rows = buffers.z.rows
        switch productGradient {
        case .rowMajor:
            guard let normalized = buffers.normalized else {
                preconditionFailure("a batch-norm layer without its buffers")
            }
            batchNorm.backward(
                productGradient, rows: rows, normalized: normalized,
                gradInput: needInputGradient ? buffers.gradInput : nil)
            return needInputGradient ? .rowMajor(buffers.gradInput) : nil
        case .featureMajor:
            let t = buffers.featureMajor
            batchNorm.backward(
                productGradient, rows: rows, normalized: t.normalizedT,
                gradInput: needInputGradient ? t.gradInputT : nil)
            return needInputGradient ? .featureMajor(t.gradInputT) : nil
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
