import SiftArtifacts
import SiftData
import SiftFiles
import SiftSpec

/// Masks and network states as named .npy files, and back, checked against the model's widths.
extension NamedFiles {
    /// mask-<l>.npy (weights, uint8) and bias-mask-<l>.npy for every layer.
    public init(masks: MaskSet) {
        self.init()
        for (l, mask) in masks.layers.enumerated() {
            add("mask-\(l).npy", NumpyArray(uint8: mask.weights, shape: [mask.fanIn, mask.fanOut]).encoded())
            add("bias-mask-\(l).npy", NumpyArray(uint8: mask.bias, shape: [mask.fanOut]).encoded())
        }
    }

    /// weights-<l>.npy, bias-<l>.npy and, with batch norm, bn-<l>.npy ([4, fan_in]: γ, β, running mean, running variance).
    public init(state: NetworkState, model: ModelSpec) {
        self.init()
        for (l, layer) in state.layers.enumerated() {
            let fanIn = model.widths[l], fanOut = model.widths[l + 1]
            add("weights-\(l).npy", NumpyArray(float32: layer.weights, shape: [fanIn, fanOut]).encoded())
            add("bias-\(l).npy", NumpyArray(float32: layer.bias, shape: [fanOut]).encoded())
            if let gamma = layer.gamma, let beta = layer.beta, let mean = layer.runningMean,
                let variance = layer.runningVariance
            {
                add("bn-\(l).npy", NumpyArray(float32: gamma + beta + mean + variance, shape: [4, fanIn]).encoded())
            }
        }
    }

    /// The names `init(masks:)` gives a mask set of `model`.
    public static func maskNames(model: ModelSpec) -> [String] {
        (0..<model.layerCount).flatMap { ["mask-\($0).npy", "bias-mask-\($0).npy"] }
    }

    /// The names `init(state:model:)` gives a network state of `model`.
    public static func stateNames(model: ModelSpec) -> [String] {
        (0..<model.layerCount).flatMap {
            ["weights-\($0).npy", "bias-\($0).npy"] + (model.batchNorm ? ["bn-\($0).npy"] : [])
        }
    }

    /// Layer l's weight-shaped and bias-shaped arrays, checked against the model's widths.
    private func layerArrays(
        _ weightsName: String, _ biasName: String, layer l: Int, model: ModelSpec,
        origin: String
    ) throws -> (weights: NumpyArray, bias: NumpyArray) {
        let fanIn = model.widths[l], fanOut = model.widths[l + 1]
        let weights = try array(weightsName, origin: origin), bias = try array(biasName, origin: origin)
        guard weights.shape == [fanIn, fanOut], bias.shape == [fanOut] else {
            throw DataError.inconsistent(
                path: "\(origin)/\(weightsName)",
                reason: "shape \(weights.shape) does not fit layer \(l) of \(model.architecture)")
        }
        return (weights, bias)
    }

    public func masks(model: ModelSpec, origin: String) throws -> MaskSet {
        MaskSet(
            layers: try (0..<model.layerCount).map { l in
                let fanIn = model.widths[l], fanOut = model.widths[l + 1]
                let (weights, bias) = try layerArrays(
                    "mask-\(l).npy", "bias-mask-\(l).npy", layer: l, model: model, origin: origin)
                return LayerMask(
                    fanIn: fanIn, fanOut: fanOut, weights: weights.integers().map { UInt8($0 != 0 ? 1 : 0) },
                    bias: bias.integers().map { UInt8($0 != 0 ? 1 : 0) })
            })
    }

    public func state(model: ModelSpec, origin: String) throws -> NetworkState {
        NetworkState(
            layers: try (0..<model.layerCount).map { l in
                let fanIn = model.widths[l]
                let (weights, bias) = try layerArrays(
                    "weights-\(l).npy", "bias-\(l).npy", layer: l, model: model, origin: origin)
                var layer = NetworkState.Layer(weights: weights.floats(), bias: bias.floats())
                if model.batchNorm {
                    let bn = try array("bn-\(l).npy", origin: origin).floats()
                    guard bn.count == 4 * fanIn else {
                        throw DataError.inconsistent(path: "\(origin)/bn-\(l).npy", reason: "expected [4, \(fanIn)]")
                    }
                    (layer.gamma, layer.beta) = (Array(bn[0..<fanIn]), Array(bn[fanIn..<(2 * fanIn)]))
                    (layer.runningMean, layer.runningVariance) = (
                        Array(bn[(2 * fanIn)..<(3 * fanIn)]), Array(bn[(3 * fanIn)...])
                    )
                }
                return layer
            })
    }
}

extension NetworkState {
    /// The file (as `NamedFiles(state:model:)` names it) of the first array that holds a NaN or an infinity,
    /// if any: weights, biases and batch-norm state must be numbers before a later level is derived from them.
    public var firstNonFiniteFile: String? {
        for (l, layer) in layers.enumerated() {
            if !layer.weights.allSatisfy(\.isFinite) { return "weights-\(l).npy" }
            if !layer.bias.allSatisfy(\.isFinite) { return "bias-\(l).npy" }
            let batchNorm = [layer.gamma, layer.beta, layer.runningMean, layer.runningVariance].compactMap { $0 }
            if !batchNorm.allSatisfy({ $0.allSatisfy(\.isFinite) }) { return "bn-\(l).npy" }
        }
        return nil
    }
}
