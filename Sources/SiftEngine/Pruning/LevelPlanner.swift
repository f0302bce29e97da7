import SiftRandom
import SiftSpec

/// Decides what each level of a chain trains under (science §4) and where the chain ends. It needs
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

    /// What level k of a chain is derived from: the one place that knows it. `sift imp` answers these
    /// from levels it holds in memory, a coordinator from the files of finished levels, and the task
    /// plan turns them into dependencies.
    public enum Source: Hashable, Sendable {
        /// A level of this chain.
        case own(level: Int)
        /// A level of the IMP experiment whose masks a shuffled or reinit control reuses (same seed).
        case imp(level: Int)
    }

    /// The levels that level k needs first. IMP needs the previous level; one_shot and random the
    /// dense level (its weights, or only its rewind point); shuffled and reinit the IMP experiment's
    /// previous level, and their own previous level, whose end would end them too.
    public func sources(forLevel level: Int) -> [Source] {
        guard level > 0 else { return [] }
        switch spec.pruning.control {
        case .none: return [.own(level: level - 1)]
        case .oneShot, .random: return [.own(level: 0)]
        case .shuffled, .reinit: return [.own(level: level - 1), .imp(level: level - 1)]
        }
    }

    /// What a level trains under, and where it starts.
    public struct Level: Sendable {
        public var masks: MaskSet
        /// Whether the chain ends with this level.
        public var isLast: Bool
        /// Whether training starts from the chain's rewind point (false: a fresh initialisation).
        public var startsFromRewind: Bool
    }

    /// Level k's masks (science §4), whether it ends the chain, and whether it starts from the rewind
    /// point, from the masks and trained state of the levels `sources(forLevel:)` names.
    public func level(
        _ level: Int, reading read: (Source) throws -> (masks: MaskSet, trained: NetworkState)
    ) rethrows -> Level {
        guard level > 0 else {
            let dense = MaskSet.dense(spec.model)
            return Level(masks: dense, isLast: endsChain(level: 0, ruleMasks: dense), startsFromRewind: false)
        }
        let control = spec.pruning.control
        let masks: MaskSet
        var impMasks: MaskSet?
        switch control {
        case .none:
            let previous = try read(.own(level: level - 1))
            masks = pruner.nextIMPMask(after: previous.masks, trained: previous.trained)
        case .oneShot:
            masks = pruner.oneShotMask(level: level, denseTrained: try read(.own(level: 0)).trained)
        case .random:
            masks = pruner.randomMask(level: level, stream: identity.stream("random-mask-level-\(level)"))
        case .shuffled, .reinit:
            let imp = try read(.imp(level: level - 1))
            let next = pruner.nextIMPMask(after: imp.masks, trained: imp.trained)
            impMasks = next
            masks =
                control == .reinit ? next : pruner.shuffledMask(next, stream: identity.stream("shuffle-level-\(level)"))
        }
        return Level(
            masks: masks, isLast: endsChain(level: level, ruleMasks: impMasks ?? masks),
            startsFromRewind: control != .reinit)
    }

    /// Whether level k ends the chain: `max_levels` reached, or the stop rule on `ruleMasks`
    /// (the chain's own masks, or IMP's for shuffled and reinit).
    public func endsChain(level: Int, ruleMasks: MaskSet) -> Bool {
        level >= spec.pruning.maxLevels
            || (level > 0 && ruleMasks.smallestHiddenConnectedFraction <= spec.pruning.stopConnectedFraction)
    }
}
