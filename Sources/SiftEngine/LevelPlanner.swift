import SiftRandom

/// Decides what each level of a chain trains under (SPEC 4) and where the chain ends. It needs
/// no data, so a coordinator can plan levels from the artifacts of earlier ones.
public struct LevelPlanner: Sendable {
    public let spec: ExperimentSpec
    public let identity: ChainIdentity
    let pruner: Pruner

    public init(spec: ExperimentSpec, identity: ChainIdentity) {
        self.spec = spec
        self.identity = identity
        pruner = Pruner(spec: spec.pruning, model: spec.model)
    }

    /// The masks level k ≥ 1 trains under (SPEC 4), from what it depends on: IMP needs the previous
    /// level's masks and trained weights; one_shot the dense trained weights; random nothing;
    /// shuffled and reinit the IMP experiment's own level-k masks.
    public func masks(forLevel level: Int, previousMasks: MaskSet?, previousTrained: NetworkState?,
                      denseTrained: NetworkState?, impMasks: MaskSet?) -> MaskSet {
        switch spec.pruning.control {
        case .none:
            return pruner.nextIMPMask(after: previousMasks!, trained: previousTrained!)
        case .oneShot:
            return pruner.oneShotMask(level: level, denseTrained: denseTrained!)
        case .random:
            return pruner.randomMask(level: level, stream: identity.stream("random-mask-level-\(level)"))
        case .shuffled:
            return pruner.shuffledMask(impMasks!, stream: identity.stream("shuffle-level-\(level)"))
        case .reinit:
            return impMasks!
        }
    }

    /// IMP's next masks: what shuffled and reinit chains take from their IMP experiment.
    public func nextIMPMasks(after masks: MaskSet, trained: NetworkState) -> MaskSet {
        pruner.nextIMPMask(after: masks, trained: trained)
    }

    /// Whether level k ends the chain: `max_levels` reached, or the stop rule on `ruleMasks`
    /// (the chain's own masks, or IMP's for shuffled and reinit).
    public func endsChain(level: Int, ruleMasks: MaskSet) -> Bool {
        level >= spec.pruning.maxLevels || (level > 0 && ruleMasks.smallestHiddenConnectedFraction <= spec.pruning.stopConnectedFraction)
    }
}
