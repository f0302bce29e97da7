import SiftRandom
import SiftSpec

/// The pruning rules of science §4: magnitude rounds, and the controls at matched density.
///
/// Each layer's "pool" is its weights, followed by its biases when biases are pruned.
/// Entries are ranked by |value|, ties broken by lower pool index.
public struct Pruner: Sendable {
    public let spec: PruningSpec
    public let model: ModelSpec
    public let rates: [Double]

    public init(spec: PruningSpec, model: ModelSpec) {
        self.spec = spec
        self.model = model
        rates = spec.rates(layerCount: model.layerCount)
    }

    private func poolSize(_ l: Int) -> Int {
        model.widths[l] * model.widths[l + 1] + (spec.pruneBiases ? model.widths[l + 1] : 0)
    }

    private var prunableLayers: [Int] { (0..<model.layerCount).filter { rates[$0] > 0 } }

    /// Pool entry p of a layer: (mask value, magnitude).
    private func poolAlive(_ mask: LayerMask) -> [UInt8] {
        spec.pruneBiases ? mask.weights + mask.bias : mask.weights
    }

    private func magnitudes(_ layer: NetworkState.Layer) -> [Float] {
        (spec.pruneBiases ? layer.weights + layer.bias : layer.weights).map { abs($0) }
    }

    private func mask(from pool: [UInt8], like template: LayerMask) -> LayerMask {
        let w = template.weights.count
        var m = template
        m.weights = Array(pool[0..<w])
        if spec.pruneBiases { m.bias = Array(pool[w...]) }
        return m
    }

    /// `round(rate · alive)`, with halves rounded away from zero.
    public static func removalCount(rate: Double, alive: Int) -> Int {
        Int((rate * Double(alive)).rounded(.toNearestOrAwayFromZero))
    }

    /// The pool's alive-entry counts after `level` rounds (layer-wise), or the single global count.
    public func aliveCounts(level: Int) -> [Int] {
        switch spec.scope {
        case .layerwise:
            return (0..<model.layerCount).map { l in
                var alive = poolSize(l)
                for _ in 0..<level { alive -= Self.removalCount(rate: rates[l], alive: alive) }
                return alive
            }
        case .global:
            var alive = prunableLayers.reduce(0) { $0 + poolSize($1) }
            for _ in 0..<level { alive -= Self.removalCount(rate: spec.rate, alive: alive) }
            return [alive]
        }
    }

    /// Keeps the `keep` largest-magnitude entries among those flagged alive in `pools`, ranked together.
    private func keepLargest(_ keep: Int, pools: [[UInt8]], magnitudes: [[Float]]) -> [[UInt8]] {
        var ranked: [(magnitude: Float, layer: Int, index: Int)] = []
        for (p, pool) in pools.enumerated() {
            for (i, alive) in pool.enumerated() where alive != 0 { ranked.append((magnitudes[p][i], p, i)) }
        }
        let remove = ranked.count - keep
        guard remove > 0 else { return pools }
        ranked.sort { a, b in
            if a.magnitude != b.magnitude { return a.magnitude < b.magnitude }
            if a.layer != b.layer { return a.layer < b.layer }
            return a.index < b.index
        }
        var out = pools
        for entry in ranked.prefix(remove) { out[entry.layer][entry.index] = 0 }
        return out
    }

    /// Prunes to the given alive counts by magnitude, among the entries alive in `masks`.
    private func pruneByMagnitude(_ masks: MaskSet, state: NetworkState, counts: [Int]) -> MaskSet {
        var out = masks
        switch spec.scope {
        case .layerwise:
            for l in prunableLayers {
                let pool = keepLargest(
                    counts[l], pools: [poolAlive(masks.layers[l])], magnitudes: [magnitudes(state.layers[l])])[0]
                out.layers[l] = mask(from: pool, like: masks.layers[l])
            }
        case .global:
            let layers = prunableLayers
            let pools = keepLargest(
                counts[0], pools: layers.map { poolAlive(masks.layers[$0]) },
                magnitudes: layers.map { magnitudes(state.layers[$0]) })
            for (p, l) in layers.enumerated() { out.layers[l] = mask(from: pools[p], like: masks.layers[l]) }
        }
        return out
    }

    /// One IMP round: from the level-k mask and the weights trained under it, the level-(k+1) mask.
    public func nextIMPMask(after masks: MaskSet, trained state: NetworkState) -> MaskSet {
        let counts: [Int]
        switch spec.scope {
        case .layerwise:
            counts = masks.layers.enumerated().map { l, m in
                let alive = poolAlive(m).reduce(0) { $0 + Int($1) }
                return alive - Self.removalCount(rate: rates[l], alive: alive)
            }
        case .global:
            let alive = prunableLayers.reduce(0) { $0 + poolAlive(masks.layers[$1]).reduce(0) { $0 + Int($1) } }
            counts = [alive - Self.removalCount(rate: spec.rate, alive: alive)]
        }
        return pruneByMagnitude(masks, state: state, counts: counts)
    }

    /// `one_shot`: the dense trained weights pruned straight to IMP level k's counts.
    public func oneShotMask(level: Int, denseTrained state: NetworkState) -> MaskSet {
        pruneByMagnitude(.dense(model), state: state, counts: aliveCounts(level: level))
    }

    /// `random`: each pool entry kept with probability equal to IMP level k's density.
    public func randomMask(level: Int, stream: RandomStream) -> MaskSet {
        let counts = aliveCounts(level: level)
        let totalPool = prunableLayers.reduce(0) { $0 + poolSize($1) }
        var out = MaskSet.dense(model)
        for l in prunableLayers {
            let density =
                spec.scope == .layerwise
                ? Double(counts[l]) / Double(poolSize(l)) : Double(counts[0]) / Double(totalPool)
            var s = stream.derived("random-mask-layer-\(l)")
            let pool = (0..<poolSize(l)).map { _ in UInt8(s.nextDouble() < density ? 1 : 0) }
            out.layers[l] = mask(from: pool, like: out.layers[l])
        }
        return out
    }

    /// `shuffled`: the IMP mask with weight entries permuted within each layer (and biases among biases).
    public func shuffledMask(_ masks: MaskSet, stream: RandomStream) -> MaskSet {
        var out = masks
        for l in prunableLayers {
            var s = stream.derived("shuffle-layer-\(l)")
            s.shuffle(&out.layers[l].weights)
            if spec.pruneBiases { s.shuffle(&out.layers[l].bias) }
        }
        return out
    }
}
