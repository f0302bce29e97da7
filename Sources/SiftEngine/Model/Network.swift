import SiftRandom
import SiftSpec

/// A view of one trainable tensor: its values, its gradient, and its mask when it can be pruned.
struct Parameter {
    let values: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    let mask: UnsafeMutablePointer<Float>?
    let count: Int
    /// Keeps the memory behind the pointers alive as long as the view.
    let owner: AnyObject
    /// Told after the optimiser changes the values.
    let onUpdate: (() -> Void)?
}

/// The fully connected network of science §3, with masks on every weight matrix and bias.
public final class Network {
    public let spec: ModelSpec
    public let layers: [DenseLayer]
    /// Per-layer buffers of the last pass for each batch size (tests read the pre-activations here).
    var buffersByRows: [Int: [DenseLayer.Buffers]] = [:]
    private var lossGradients: [Int: Matrix] = [:]

    public init(spec: ModelSpec) {
        self.spec = spec
        let count = spec.layerCount
        layers = (0..<count).map { l in
            let norm =
                spec.batchNorm
                ? BatchNorm(features: spec.widths[l], epsilon: spec.batchNormEpsilon, decay: spec.batchNormDecay) : nil
            return DenseLayer(
                fanIn: spec.widths[l], fanOut: spec.widths[l + 1], isOutput: l == count - 1,
                activation: spec.activation, batchNorm: norm)
        }
    }

    public var inputSize: Int { spec.widths[0] }
    public var outputSize: Int { spec.widths[spec.widths.count - 1] }

    /// Fresh weights (Glorot or Kaiming normal), zero biases, identity batch norm; masks are applied.
    public func initialize(stream: RandomStream) {
        for (l, layer) in layers.enumerated() {
            var s = stream.derived("layer-\(l)")
            let std: Double
            switch spec.initScheme {
            case .glorot: std = (2 / Double(layer.fanIn + layer.fanOut)).squareRoot()
            case .kaiming: std = (2 / Double(layer.fanIn)).squareRoot()
            }
            let w = layer.weights.pointer
            for i in 0..<layer.weights.count { w[i] = Float(s.nextNormal() * std) }
            layer.bias.fill(0)
            layer.batchNorm?.reset()
            layer.applyMask()
        }
    }

    /// The trainable tensors; a mask is attached only where something is pruned.
    func parameters(includingWeights: Bool = true) -> [Parameter] {
        layers.flatMap { layer -> [Parameter] in
            var list = [
                Parameter(
                    values: layer.bias.pointer, gradient: layer.gradBias.pointer,
                    mask: layer.biasDense ? nil : layer.biasMask.pointer, count: layer.fanOut,
                    owner: layer, onUpdate: nil)
            ]
            if includingWeights { list.append(layer.weightParameter) }
            if let bn = layer.batchNorm {
                list.append(
                    Parameter(
                        values: bn.gamma.pointer, gradient: bn.gradGamma.pointer, mask: nil, count: bn.features,
                        owner: bn, onUpdate: nil))
                list.append(
                    Parameter(
                        values: bn.beta.pointer, gradient: bn.gradBeta.pointer, mask: nil, count: bn.features,
                        owner: bn, onUpdate: nil))
            }
            return list
        }
    }

    private func buffers(rows: Int) -> [DenseLayer.Buffers] {
        if let cached = buffersByRows[rows] { return cached }
        let made = layers.map { DenseLayer.Buffers(layer: $0, rows: rows) }
        buffersByRows[rows] = made
        return made
    }

    /// The network's output for `input` (rows × inputSize); valid until the next call with the same row count.
    /// `inputT`, the same input feature-major, spares the first layer a transpose when it reads that layout.
    @discardableResult
    public func forward(_ input: Matrix, training: Bool, inputT: Matrix? = nil) -> Matrix {
        precondition(input.cols == inputSize, "input has \(input.cols) features, the network expects \(inputSize)")
        var x: Activations = .rowMajor(input)
        if let inputT, firstLayerReadsFeatureMajor { x = .featureMajor(inputT) }
        return forward(x, rows: input.rows, training: training)
    }

    /// `forward` on `rows` inputs in either layout (feature-major only when the first layer reads it so).
    private func forward(_ input: Activations, rows: Int, training: Bool) -> Matrix {
        let buffers = buffers(rows: rows)
        var x = input
        for (layer, b) in zip(layers, buffers) { x = layer.forward(x, b, training: training) }
        return buffers[buffers.count - 1].a
    }

    /// Indices (0-based) of the layers that train on the sparse path under the current masks.
    var sparseLayerIndices: [Int] { layers.indices.filter { layers[$0].sparse != nil } }

    /// Whether the first layer reads its input feature-major (see `forward`), as laid out for `rows` rows.
    func inputLayoutWanted(rows: Int) -> SparseWeights.Layout? {
        firstLayerReadsFeatureMajor ? SparseWeights.Layout(rows: rows) : nil
    }

    /// One training forward and backward pass; returns the mean loss and leaves gradients in the layers.
    public func computeGradients(_ input: Matrix, labels: UnsafePointer<Int32>) -> Float {
        pass(input, labels: labels, weightGradient: .store)
    }

    /// One optimisation step on a batch; returns the batch's mean loss.
    func trainStep(_ input: Matrix, inputT: Matrix? = nil, labels: UnsafePointer<Int32>, optimizer: Optimizer) -> Float
    {
        let loss = pass(input, inputT: inputT, labels: labels, weightGradient: optimizer.weightGradient)
        optimizer.step()
        return loss
    }

    private func pass(
        _ input: Matrix, inputT: Matrix? = nil, labels: UnsafePointer<Int32>,
        weightGradient: DenseLayer.WeightGradient
    ) -> Float {
        let output = forward(input, training: true, inputT: inputT)
        let gradient = lossGradients[input.rows] ?? Matrix(rows: input.rows, cols: outputSize)
        lossGradients[input.rows] = gradient
        let loss = spec.loss.evaluate(output: output, labels: labels, rows: input.rows, gradient: gradient)
        let buffers = buffers(rows: input.rows)
        var upstream: Activations? = .rowMajor(gradient)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            guard let gradOutput = upstream else { preconditionFailure("layer \(l + 2) returned no input gradient") }
            upstream = layers[l].backward(
                gradOutput, buffers[l], needInputGradient: l > 0, weightGradient: weightGradient)
        }
        return loss
    }

    /// Starts measuring every batch norm's statistics again: training-mode passes until
    /// `finishBatchNormRecalibration` add their batches' statistics up instead of averaging them in.
    func beginBatchNormRecalibration() { for layer in layers { layer.batchNorm?.beginRecalibration() } }

    /// Sets every batch norm's running statistics to the average of the batches' since the beginning.
    func finishBatchNormRecalibration() { for layer in layers { layer.batchNorm?.finishRecalibration() } }

    /// For each layer, how many of its batch norm's inputs have a running variance below `threshold`; nil
    /// without batch norm.
    public func nearConstantBatchNormInputs(below threshold: Double) -> [Int]? {
        guard spec.batchNorm else { return nil }
        return layers.map { $0.batchNorm?.nearConstantFeatures(below: threshold) ?? 0 }
    }

    /// Predicted class of each row.
    public func predict(_ input: Matrix) -> [Int] {
        Self.predictedClasses(forward(input, training: false))
    }

    /// Predicted class of each image of an evaluation chunk.
    func predict(_ chunk: EvaluationChunks.Chunk) -> [Int] {
        Self.predictedClasses(forward(chunk.input, rows: chunk.rows, training: false))
    }

    /// The first layer's output for `input` in evaluation mode, as a copy the caller keeps (in the layout the
    /// layer hands it on), for `predict(rows:firstLayerOutput:silencing:scratch:)`.
    func firstLayerOutput(_ input: Matrix) -> Activations {
        firstLayerOutput(.rowMajor(input), rows: input.rows)
    }

    /// `firstLayerOutput` of an evaluation chunk.
    func firstLayerOutput(_ chunk: EvaluationChunks.Chunk) -> Activations {
        firstLayerOutput(chunk.input, rows: chunk.rows)
    }

    private func firstLayerOutput(_ input: Activations, rows: Int) -> Activations {
        switch layers[0].forward(input, buffers(rows: rows)[0], training: false) {
        case .rowMajor(let a): return .rowMajor(a.clone())
        case .featureMajor(let aT): return .featureMajor(aT.clone())
        }
    }

    /// What `predict` returns for `rows` inputs whose first-layer output is `output` (as `firstLayerOutput`
    /// gave it) once the first layer's incoming weights of `silenced` units are zeroed: those units'
    /// pre-activations fall to their biases and no other unit's changes, so only the layers above need to
    /// run again. The silenced units' outputs are set in `output` for that run and put back after it, by way
    /// of `scratch` (at least rows × silenced.count floats), so an evaluation touches only what it silences.
    func predict(
        rows: Int, firstLayerOutput output: Activations, silencing silenced: some Collection<Int>,
        scratch scratchMatrix: Matrix
    ) -> [Int] {
        let first = layers[0], units = Array(silenced), scratch = scratchMatrix.pointer
        precondition(
            rows * units.count <= scratchMatrix.count,
            "scratch of \(scratchMatrix.count) floats for \(units.count) units × \(rows) rows")
        // `+ 0`: the product over zeroed weights adds a zero to the bias, which turns a bias of −0 into +0.
        let biases = units.map { first.bias.pointer[$0] + 0 }
        var values = biases
        if !first.isOutput { first.activation.apply(biases, into: &values, count: biases.count) }
        switch output {
        case .featureMajor(let aT):
            for (k, unit) in units.enumerated() {
                let row = aT.pointer + unit * aT.cols
                (scratch + k * rows).update(from: row, count: rows)
                row.update(repeating: values[k], count: rows)
            }
        case .rowMajor(let a):
            for r in 0..<rows {
                let row = a.pointer + r * a.cols, saved = scratch + r * units.count
                for (k, unit) in units.enumerated() {
                    saved[k] = row[unit]
                    row[unit] = values[k]
                }
            }
        }
        var x = output
        for (layer, b) in zip(layers, buffers(rows: rows)).dropFirst() { x = layer.forward(x, b, training: false) }
        guard case .rowMajor(let logits) = x else { preconditionFailure("the output layer hands on rows") }
        let predicted = Self.predictedClasses(logits)
        // Last saved, first put back: a unit listed twice gets its own value back, not the silenced one.
        switch output {
        case .featureMajor(let aT):
            for (k, unit) in units.enumerated().reversed() {
                (aT.pointer + unit * aT.cols).update(from: scratch + k * rows, count: rows)
            }
        case .rowMajor(let a):
            for r in 0..<rows {
                let row = a.pointer + r * a.cols, saved = scratch + r * units.count
                for (k, unit) in units.enumerated().reversed() { row[unit] = saved[k] }
            }
        }
        return predicted
    }

    /// The index of each row's largest output (the first, on a tie).
    private static func predictedClasses(_ output: Matrix) -> [Int] {
        (0..<output.rows).map { r in
            let row = output.pointer + r * output.cols
            var best = 0
            for c in 1..<output.cols where row[c] > row[best] { best = c }
            return best
        }
    }

    /// Puts the mask into every layer and zeroes the pruned weights.
    public func apply(_ masks: MaskSet) {
        precondition(
            masks.layers.count == layers.count, "mask set has \(masks.layers.count) layers, network \(layers.count)")
        for (layer, mask) in zip(layers, masks.layers) {
            precondition(mask.weights.count == layer.weights.count, "mask size disagrees with layer size")
            let wm = layer.weightMask.pointer
            for i in 0..<mask.weights.count { wm[i] = Float(mask.weights[i]) }
            let bm = layer.biasMask.pointer
            for j in 0..<layer.fanOut { bm[j] = Float(mask.bias[j]) }
            layer.weightsDense = !mask.weights.contains(0)
            layer.biasDense = !mask.bias.contains(0)
            layer.applyMask()
            layer.choosePath(density: mask.weightDensity, sparseBelow: spec.sparseBelow)
        }
        chooseLayouts()
    }

    /// Keeps activations feature-major from a sparse hidden layer to its neighbour above (through that one's
    /// batch norm, which takes either layout). Each layer reads its input in the layout it arrives in.
    private func chooseLayouts() {
        for (l, layer) in layers.enumerated() { layer.emitsFeatureMajor = layer.sparse != nil && l + 1 < layers.count }
    }

    /// A sparse first layer takes its data feature-major, when the caller offers it so (the batch prefetcher does).
    var firstLayerReadsFeatureMajor: Bool { layers[0].sparse != nil }

    /// Whether every parameter and running statistic is a finite number, read in place (no copy of the state).
    var isFinite: Bool {
        layers.allSatisfy { layer in
            ([layer.weights, layer.bias]
                + (layer.batchNorm.map { [$0.gamma, $0.beta, $0.runningMean, $0.runningVariance] } ?? []))
                .allSatisfy { $0.buffer.allSatisfy(\.isFinite) }
        }
    }

    /// Everything that training changes, so a level can restart from a rewind point.
    public var state: NetworkState {
        get {
            NetworkState(
                layers: layers.map { layer in
                    NetworkState.Layer(
                        weights: layer.weights.values, bias: layer.bias.values,
                        gamma: layer.batchNorm?.gamma.values, beta: layer.batchNorm?.beta.values,
                        runningMean: layer.batchNorm?.runningMean.values,
                        runningVariance: layer.batchNorm?.runningVariance.values)
                })
        }
        set {
            for (layer, saved) in zip(layers, newValue.layers) {
                layer.weights.copy(from: saved.weights)
                layer.bias.copy(from: saved.bias)
                if let bn = layer.batchNorm, let gamma = saved.gamma, let beta = saved.beta,
                    let mean = saved.runningMean, let variance = saved.runningVariance
                {
                    bn.gamma.copy(from: gamma); bn.beta.copy(from: beta)
                    bn.runningMean.copy(from: mean); bn.runningVariance.copy(from: variance)
                    bn.hasRunningStatistics = true
                }
                layer.applyMask()
            }
        }
    }
}

extension Network {
    /// Restarts from a rewind point (science §4) as the paper's code does: the weights, the biases and batch
    /// norm's γ and β come back; the running statistics start afresh (the level's first batch sets them),
    /// since they described the dense run's activations, not this level's network.
    public func rewind(to point: NetworkState) {
        state = point
        for layer in layers { layer.batchNorm?.restartRunningStatistics() }
    }
}

/// A copy of a network's trainable values and batch-norm statistics.
public struct NetworkState: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        public var weights: [Float]
        public var bias: [Float]
        public var gamma, beta, runningMean, runningVariance: [Float]?
    }
    public var layers: [Layer]
}
