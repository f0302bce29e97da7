import Foundation
import SiftData
import SiftMetrics
import SiftRandom

/// Who a chain is: the experiment's hash, the key of its random streams, and the seed.
public struct ChainIdentity: Sendable {
    /// The experiment's hash, as written into metrics.json.
    public var experiment: String
    /// Root of every random stream. Controls share it with their IMP experiment, so level 0 is the same network.
    public var streamRoot: UInt64
    public var seed: UInt64

    public init(experiment: String, streamRoot: UInt64, seed: UInt64) {
        self.experiment = experiment
        self.streamRoot = streamRoot
        self.seed = seed
    }

    public func stream(_ purpose: String) -> RandomStream {
        RandomStream(root: streamRoot, seed: seed, purpose: purpose)
    }
}

/// What happens during a chain, for progress displays.
public enum ChainEvent: Sendable {
    case levelStarted(level: Int, density: Double, stepsPerEpoch: Int)
    case epochFinished(level: Int, EpochProgress)
    case levelFinished(LevelMetrics)
}

/// One finished level: its mask, its trained weights, its figures and its locality maps.
public struct LevelOutcome: Sendable {
    public var masks: MaskSet
    public var trained: NetworkState
    public var metrics: LevelMetrics
    public var analysis: LocalityAnalysis
}

/// Runs the levels 0…K of one (experiment, seed): IMP (SPEC 4) or one of its controls.
public final class IMPChain {
    public let spec: ExperimentSpec
    public let data: DatasetSplit
    public let identity: ChainIdentity
    private let pruner: Pruner

    public init(spec: ExperimentSpec, data: DatasetSplit, identity: ChainIdentity) throws {
        let widths = spec.model.widths
        guard widths[0] == data.train.shape.size else {
            throw EngineError.incompatible(field: "model.arch",
                reason: "input width \(widths[0]) but each image has \(data.train.shape.size) values (\(data.train.shape)); start the architecture with \(data.train.shape.size)")
        }
        guard widths[widths.count - 1] >= data.classCount else {
            throw EngineError.incompatible(field: "model.arch",
                reason: "\(widths[widths.count - 1]) outputs but the data has \(data.classCount) classes")
        }
        if let rates = spec.pruning.layerRates, rates.count != spec.model.layerCount {
            throw EngineError.incompatible(field: "pruning.layer_rates",
                reason: "\(rates.count) rates for \(spec.model.layerCount) layers")
        }
        let totalSteps = Trainer.stepsPerEpoch(spec.train, trainingImages: data.train.count) * spec.train.epochs
        guard spec.pruning.rewindStep <= totalSteps else {
            throw EngineError.incompatible(field: "pruning.rewind_step",
                reason: "step \(spec.pruning.rewindStep) is past the end of training (\(totalSteps) steps)")
        }
        self.spec = spec
        self.data = data
        self.identity = identity
        pruner = Pruner(spec: spec.pruning, model: spec.model)
    }

    /// A network and trainer for one track of the chain.
    private func makeTrainer() -> Trainer {
        Trainer(network: Network(spec: spec.model), spec: spec.train, data: data)
    }

    /// Trains `trainer`'s network under `masks` from `start` (or a fresh init); the trained weights stay in the network.
    private func trainLevel(_ trainer: Trainer, level: Int, masks: MaskSet, start: NetworkState?,
                            afterStep: (Int) -> Void = { _ in }, onEvent: (ChainEvent) -> Void) -> TrainingOutcome {
        let network = trainer.network
        network.apply(masks)
        if let start {
            network.state = start
        } else {
            network.initialize(stream: identity.stream(level == 0 ? "init" : "reinit-level-\(level)"))
        }
        onEvent(.levelStarted(level: level, density: masks.totalWeightDensity, stepsPerEpoch: trainer.stepsPerEpoch))
        return trainer.train(order: identity.stream("batch-order"), afterStep: afterStep,
                             onEpoch: { onEvent(.epochFinished(level: level, $0)) })
    }

    /// Measures the trained level (SPEC 6, ablation included, on the trainer's network) and assembles its outcome.
    private func finish(level: Int, masks: MaskSet, trainer: Trainer, outcome: TrainingOutcome, last: Bool) -> LevelOutcome {
        let trained = trainer.network.state
        let connectivity = masks.layers.map { ConnectivityMask(fanIn: $0.fanIn, fanOut: $0.fanOut, values: $0.weights) }
        let analysis = LocalityAnalysis(masks: connectivity, firstLayerWeights: trained.layers[0].weights,
                                        shape: data.train.shape, stream: identity.stream("locality-level-\(level)"))
        let ablation = AblationCurves(trainer: trainer, inDegrees: connectivity[0].inDegrees,
                                      stream: identity.stream("ablation-level-\(level)"))
        let training = LevelTraining(
            experiment: identity.experiment, seed: identity.seed, level: level,
            control: spec.pruning.control.rawValue, architecture: spec.model.architecture,
            densityLayers: masks.weightDensities, densityTotal: masks.totalWeightDensity,
            aliveWeights: masks.layers.map(\.aliveWeights),
            connectedFractionLayers: masks.layers.map(\.connectedFraction),
            testAccuracy: outcome.testAccuracy, bestTestAccuracy: outcome.bestTestAccuracy,
            trainLoss: outcome.trainLoss, steps: outcome.steps, seconds: outcome.seconds, lastLevel: last)
        return LevelOutcome(masks: masks, trained: trained,
                            metrics: LevelMetrics(training: training, locality: analysis.metrics, ablation: ablation),
                            analysis: analysis)
    }

    /// Runs every level, handing each to `onLevel` as soon as it is trained.
    public func run(onLevel: (LevelOutcome) throws -> Void, onEvent: (ChainEvent) -> Void = { _ in }) throws {
        let pruning = spec.pruning
        let trainer = makeTrainer()

        // Level 0: the dense network, shared by IMP and every control.
        var masks = MaskSet.dense(spec.model)
        var rewindPoint: NetworkState?
        let rewindStep = pruning.rewindStep
        let network = trainer.network
        let denseOutcome = trainLevel(trainer, level: 0, masks: masks, start: nil,
                                      afterStep: { if $0 == rewindStep { rewindPoint = network.state } },
                                      onEvent: onEvent)
        let rewind = rewindPoint!
        var stop = pruning.maxLevels == 0
        let dense = finish(level: 0, masks: masks, trainer: trainer, outcome: denseOutcome, last: stop)
        onEvent(.levelFinished(dense.metrics))
        try onLevel(dense)
        var previous = dense

        // Controls that reuse IMP's own masks need the IMP chain trained beside them.
        let reference = pruning.control.needsIMPMasks ? makeTrainer() : nil
        var referenceMasks = masks, referenceTrained = dense.trained

        var level = 0
        while !stop {
            level += 1
            switch pruning.control {
            case .none:
                masks = pruner.nextIMPMask(after: masks, trained: previous.trained)
            case .oneShot:
                masks = pruner.oneShotMask(level: level, denseTrained: dense.trained)
            case .random:
                masks = pruner.randomMask(level: level, stream: identity.stream("random-mask-level-\(level)"))
            case .shuffled, .reinit:
                referenceMasks = pruner.nextIMPMask(after: referenceMasks, trained: referenceTrained)
                _ = trainLevel(reference!, level: level, masks: referenceMasks, start: rewind, onEvent: { _ in })
                referenceTrained = reference!.network.state
                masks = pruning.control == .shuffled
                    ? pruner.shuffledMask(referenceMasks, stream: identity.stream("shuffle-level-\(level)"))
                    : referenceMasks
            }
            let outcome = trainLevel(trainer, level: level, masks: masks,
                                     start: pruning.control == .reinit ? nil : rewind, onEvent: onEvent)
            let ruleMasks = pruning.control.needsIMPMasks ? referenceMasks : masks
            stop = level >= pruning.maxLevels || ruleMasks.smallestHiddenConnectedFraction <= pruning.stopConnectedFraction
            let result = finish(level: level, masks: masks, trainer: trainer, outcome: outcome, last: stop)
            onEvent(.levelFinished(result.metrics))
            try onLevel(result)
            previous = result
        }
    }
}
