@testable import SiftEngine
import SiftRandom
import Testing
import SiftSpec

@Suite struct PruningTests {
    let model = ModelSpec(widths: [20, 16, 12, 5])

    func randomState(_ seed: UInt64) -> NetworkState {
        let network = Network(spec: model)
        network.initialize(stream: RandomStream(root: 11, seed: seed, purpose: "init"))
        var s = RandomStream(root: 11, seed: seed, purpose: "bias")
        for layer in network.layers {
            for j in 0..<layer.fanOut { layer.bias.pointer[j] = Float(0.05 * s.nextNormal()) }
        }
        return network.state
    }

    /// science §4's count: alive_k = alive_{k-1} − round(rate · alive_{k-1}).
    func specCount(pool: Int, rate: Double, rounds: Int) -> Int {
        var alive = pool
        for _ in 0..<rounds { alive -= Int((rate * Double(alive)).rounded(.toNearestOrAwayFromZero)) }
        return alive
    }

    @Test(arguments: PruningPreset.allCases)
    func densitiesFollowTheSpec(_ preset: PruningPreset) {
        let spec = PruningSpec(preset: preset)
        let pruner = Pruner(spec: spec, model: model)
        var masks = MaskSet.dense(model)
        for round in 1...8 {
            let state = randomState(UInt64(round))
            let before = masks
            masks = pruner.nextIMPMask(after: masks, trained: state)
            let rates = spec.rates(layerCount: 3)
            switch spec.scope {
            case .layerwise:
                for l in 0..<3 {
                    let pool = model.widths[l] * model.widths[l + 1] + (spec.pruneBiases ? model.widths[l + 1] : 0)
                    let alive = masks.layers[l].aliveWeights + (spec.pruneBiases ? masks.layers[l].aliveBiases : 0)
                    #expect(
                        alive == specCount(pool: pool, rate: rates[l], rounds: round),
                        "\(preset) layer \(l) round \(round)")
                    #expect(alive == pruner.aliveCounts(level: round)[l])
                    if rates[l] == 0 { #expect(masks.layers[l] == MaskSet.dense(model).layers[l]) }
                    if !spec.pruneBiases { #expect(masks.layers[l].aliveBiases == model.widths[l + 1]) }
                }
            case .global:
                let alive = masks.layers[0].aliveWeights + masks.layers[1].aliveWeights
                #expect(alive == specCount(pool: 20 * 16 + 16 * 12, rate: spec.rate, rounds: round))
                #expect(masks.layers[2].aliveWeights == 12 * 5)
            }
            // Pruned entries are exactly the smallest of those alive before, and none comes back.
            for l in 0..<3 {
                let w = state.layers[l].weights
                let removed = (0..<w.count).filter {
                    before.layers[l].weights[$0] == 1 && masks.layers[l].weights[$0] == 0
                }
                let kept = (0..<w.count).filter { masks.layers[l].weights[$0] == 1 }
                #expect(kept.allSatisfy { before.layers[l].weights[$0] == 1 })
                if spec.scope == .layerwise, let largestRemoved = removed.map({ abs(w[$0]) }).max() {
                    #expect(kept.allSatisfy { abs(w[$0]) >= largestRemoved })
                }
            }
        }
        if preset == .paper {
            #expect(abs(masks.layers[0].weightDensity - pow(0.7, 8)) < 0.01)
        }
    }

    @Test func tiesAreBrokenByLowerIndex() {
        var spec = PruningSpec(preset: .lth)
        spec.layerRates = [0.5, 0, 0]
        let small = ModelSpec(widths: [2, 2, 1, 1])
        let pruner = Pruner(spec: spec, model: small)
        var state = Network(spec: small).state
        state.layers[0].weights = [0.3, -0.3, 0.3, 0.3]
        let masks = pruner.nextIMPMask(after: .dense(small), trained: state)
        #expect(masks.layers[0].weights == [0, 0, 1, 1])
    }

    @Test func controlsMatchIMPDensities() {
        let spec = PruningSpec(preset: .lth)
        let pruner = Pruner(spec: spec, model: model)
        let dense = randomState(1)
        for level in [1, 3, 6] {
            let counts = pruner.aliveCounts(level: level)
            let oneShot = pruner.oneShotMask(level: level, denseTrained: dense)
            #expect(oneShot.layers.map(\.aliveWeights) == counts)
            let random = pruner.randomMask(level: level, stream: RandomStream(root: 1, seed: 0, purpose: "r"))
            #expect(random.layers[0].aliveBiases == 16)
            let expected = Double(counts[0]) / 320
            #expect(abs(random.layers[0].weightDensity - expected) < 0.1)
            let shuffled = pruner.shuffledMask(oneShot, stream: RandomStream(root: 1, seed: 0, purpose: "s"))
            #expect(shuffled.layers.map(\.aliveWeights) == counts)
            #expect(shuffled != oneShot)
        }
    }

    @Test func connectedFractionDrivesTheStopRule() {
        var mask = LayerMask.dense(fanIn: 3, fanOut: 4)
        mask.weights = [
            1, 0, 0, 0,
            0, 0, 0, 0,
            1, 0, 0, 0,
        ]
        #expect(mask.connectedFraction == 0.25)
        let set = MaskSet(layers: [mask, LayerMask.dense(fanIn: 4, fanOut: 2)])
        #expect(set.smallestHiddenConnectedFraction == 0.25)
    }
}

private func pow(_ x: Double, _ n: Int) -> Double { (0..<n).reduce(1) { r, _ in r * x } }
