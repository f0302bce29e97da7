import Foundation
import SiftArtifacts
import SiftData
import SiftMetrics
import SiftRandom
import Synchronization
import SiftSpec

/// What happens during a chain, for progress displays.
public enum ChainEvent: Sendable {
    /// `sparseLayers`: the layers (1 = first) that train on the sparse path at this level.
    case levelStarted(level: Int, density: Double, stepsPerEpoch: Int, sparseLayers: [Int])
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

/// A level trained and not yet measured: what its measurement needs. `@unchecked` because its trainer (a
/// class) goes with it to the thread that measures it; the chain trains the next level on a trainer of its
/// own and never touches this one again.
struct TrainedLevel: @unchecked Sendable {
    let level: Int
    let masks: MaskSet
    let trainer: Trainer
    let outcome: TrainingOutcome
    /// The chain ends here: the plan says so, or the training diverged.
    let isLast: Bool
    /// The weights as trained (batch norm's statistics as the protocol left them).
    let trained: NetworkState
}

/// Runs the levels 0…K of one (experiment, seed): IMP (science §4) or one of its controls.
/// Every stored property is an immutable value, so a chain may be read from the thread that measures its levels.
public final class IMPChain: Sendable {
    public let spec: ExperimentSpec
    public let data: DatasetSplit
    public let identity: ChainIdentity
    /// Which masks each level trains under, and where the chain ends.
    public let planner: LevelPlanner

    public init(spec: ExperimentSpec, data: DatasetSplit, identity: ChainIdentity) throws {
        let widths = spec.model.widths
        guard widths[0] == data.train.shape.size else {
            throw EngineError.incompatible(
                field: "model.arch",
                reason:
                    "input width \(widths[0]) but each image has \(data.train.shape.size) values (\(data.train.shape)); start the architecture with \(data.train.shape.size)"
            )
        }
        guard widths[widths.count - 1] >= data.classCount else {
            throw EngineError.incompatible(
                field: "model.arch",
                reason: "\(widths[widths.count - 1]) outputs but the data has \(data.classCount) classes")
        }
        if let rates = spec.pruning.layerRates, rates.count != spec.model.layerCount {
            throw EngineError.incompatible(
                field: "pruning.layer_rates",
                reason: "\(rates.count) rates for \(spec.model.layerCount) layers")
        }
        let totalSteps = Trainer.totalSteps(spec.train, trainingImages: data.train.count)
        guard spec.pruning.rewindStep <= totalSteps else {
            throw EngineError.incompatible(
                field: "pruning.rewind_step",
                reason: "step \(spec.pruning.rewindStep) is past the end of training (\(totalSteps) steps)")
        }
        self.spec = spec
        self.data = data
        self.identity = identity
        planner = LevelPlanner(spec: spec, identity: identity)
    }

    /// A network and trainer for one track of the chain.
    fileprivate func makeTrainer() -> Trainer {
        Trainer(network: Network(spec: spec.model), spec: spec.train, data: data)
    }

    /// Trains `trainer`'s network under `masks` from `start` (or a fresh init); the trained weights stay in the network.
    /// With a `lane`, the test evaluations run on it, on a network of their own with the same masks.
    fileprivate func trainLevel(
        _ trainer: Trainer, level: Int, masks: MaskSet, start: NetworkState?,
        afterStep: (Int) -> Void = { _ in }, progress: TrainingProgress? = nil, lane: MeasurementLane? = nil,
        onEvent: (ChainEvent) -> Void
    ) -> TrainingOutcome {
        let network = trainer.network
        network.apply(masks)
        if let start {
            network.rewind(to: start)
        } else {
            network.initialize(stream: identity.stream(level == 0 ? "init" : "reinit-level-\(level)"))
        }
        let sparseLayers = network.sparseLayerIndices.map { $0 + 1 }
        onEvent(
            .levelStarted(
                level: level, density: masks.totalWeightDensity, stepsPerEpoch: trainer.stepsPerEpoch,
                sparseLayers: sparseLayers))
        let beside = lane.map { lane in
            let evaluator = makeTrainer()
            evaluator.network.apply(masks)
            return EvaluationsBeside(lane: lane, evaluator: evaluator)
        }
        let outcome = trainer.train(
            order: identity.stream("batch-order"), afterStep: afterStep,
            onEpoch: { onEvent(.epochFinished(level: level, $0)) }, progress: progress, level: level,
            evaluateBeside: beside)
        progress?.measuring()
        return outcome
    }

    /// Measures the trained level (science §6, ablation included, on the trainer's network) and assembles its outcome.
    private func measure(_ trainedLevel: TrainedLevel) -> LevelOutcome {
        let (level, masks, trainer, outcome) =
            (trainedLevel.level, trainedLevel.masks, trainedLevel.trainer, trainedLevel.outcome.settled())
        let (trained, last) = (trainedLevel.trained, trainedLevel.isLast)
        let connectivity = masks.layers.map(\.connectivity)
        let (shape, localityStream) = (data.train.shape, identity.stream("locality-level-\(level)"))
        let diverged = outcome.divergence != nil
        let nearConstant = trainer.network.nearConstantBatchNormInputs(below: LevelTraining.nearConstantVariance)
        // With batch norm, the protocol's accuracy (running averages) is kept, and the level is also read with
        // its statistics measured again under the final weights; the ablation reads the network that way too.
        var recalibrated: Double?, recalibrationSeconds = 0.0
        if spec.model.batchNorm && spec.train.recalibrationBatches > 0 && !diverged {
            let started = Date()
            trainer.recalibrateBatchNorm(
                batches: spec.train.recalibrationBatches,
                order: identity.stream("recalibration-level-\(level)"))
            recalibrated = trainer.testAccuracy()
            recalibrationSeconds = Date().timeIntervalSince(started)
        }
        // A diverged network's weights are not numbers: its masks are still measured, its weights and
        // its ablation (evaluations of a broken network) are not.
        let firstWeights = diverged ? nil : trained.layers[0].weights
        // The locality analysis needs only masks and weights, so with two threads or more it runs beside
        // the ablation's evaluations; the worker's thread count (BLAS.threads, from --threads) bounds both.
        let threads = BLAS.threads
        let locality = { @Sendable in
            let started = Date()
            let analysis = LocalityAnalysis(
                masks: connectivity, firstLayerWeights: firstWeights, shape: shape, threads: threads,
                stream: localityStream)
            return (analysis, Date().timeIntervalSince(started))
        }
        let ablate = {
            let started = Date()
            let curves =
                diverged
                ? nil
                : AblationCurves(
                    trainer: trainer, inDegrees: connectivity[0].inDegrees,
                    stream: self.identity.stream("ablation-level-\(level)"))
            return (curves, Date().timeIntervalSince(started))
        }
        let ((analysis, localitySeconds), (ablation, ablationSeconds)) =
            threads > 1 ? inParallel(locality, ablate) : (locality(), ablate())
        let timings = LevelTimings(
            training: outcome.seconds - outcome.evaluationSeconds,
            evaluation: outcome.evaluationSeconds + recalibrationSeconds,
            ablation: ablationSeconds, locality: localitySeconds)
        let training = LevelTraining(
            experiment: identity.experiment, seed: identity.seed, level: level,
            control: spec.pruning.control.rawValue, architecture: spec.model.architecture,
            densityLayers: masks.weightDensities, densityTotal: masks.totalWeightDensity,
            aliveWeights: masks.layers.map(\.aliveWeights),
            connectedFractionLayers: masks.layers.map(\.connectedFraction),
            testAccuracy: outcome.testAccuracy, bestTestAccuracy: outcome.bestTestAccuracy,
            trainLoss: outcome.trainLoss, steps: outcome.steps, seconds: outcome.seconds, lastLevel: last,
            diverged: diverged ? true : nil, lastFiniteLoss: outcome.divergence?.lastFiniteLoss,
            testAccuracyRecalibrated: recalibrated, nearConstantInputs: nearConstant)
        return LevelOutcome(
            masks: masks, trained: trained,
            metrics: LevelMetrics(training: training, locality: analysis.metrics, ablation: ablation, timings: timings),
            analysis: analysis)
    }

    // MARK: - One level at a time (what a worker runs)

    /// Trains and measures one level. Level 0 starts from the initialisation and also returns the
    /// rewind point; later levels start from `start` (the rewind point), or afresh for reinit.
    /// `afterStep` runs after every update (a test's hook); `progress` follows the level.
    public func runLevel(
        _ level: Int, masks: MaskSet, start: NetworkState?, isLast: Bool,
        progress: TrainingProgress? = nil, afterStep: (Int) -> Void = { _ in },
        onEvent: (ChainEvent) -> Void = { _ in }
    ) -> (outcome: LevelOutcome, rewindPoint: NetworkState?) {
        let (trained, rewindPoint) = train(
            level, masks: masks, start: start, isLast: isLast, progress: progress, afterStep: afterStep,
            onEvent: onEvent)
        let outcome = measure(trained)
        onEvent(.levelFinished(outcome.metrics))
        return (outcome, rewindPoint)
    }

    /// Trains one level on a trainer of its own and leaves it unmeasured (`runLevel`'s first half).
    private func train(
        _ level: Int, masks: MaskSet, start: NetworkState?, isLast: Bool,
        progress: TrainingProgress?, afterStep: (Int) -> Void = { _ in }, lane: MeasurementLane? = nil,
        onEvent: (ChainEvent) -> Void
    ) -> (TrainedLevel, rewindPoint: NetworkState?) {
        let trainer = makeTrainer()
        var rewindPoint: NetworkState?
        let rewindStep = spec.pruning.rewindStep, network = trainer.network
        let outcome = trainLevel(
            trainer, level: level, masks: masks, start: level == 0 ? nil : start,
            afterStep: {
                if level == 0 && $0 == rewindStep { rewindPoint = network.state }
                afterStep($0)
            },
            progress: progress, lane: lane, onEvent: onEvent)
        // The weights as trained, read before the measurement recalibrates batch norm's statistics.
        let trained = TrainedLevel(
            level: level, masks: masks, trainer: trainer, outcome: outcome, isLast: isLast || outcome.divergence != nil,
            trained: network.state)
        return (trained, rewindPoint)
    }

    // MARK: - A whole chain in this process

    /// Runs every level, handing each to `onLevel` once it is trained and measured. What each level is
    /// derived from is the planner's answer, as for a coordinator; the levels it reads are held here.
    /// `progress` follows each level as it trains.
    ///
    /// With `measureBeside`, a second thread makes the test evaluations during training (on copies of the
    /// weights) and measures and hands on each trained level while the next one trains (the next level needs
    /// only its masks and weights), so a spare core takes all but the updates out of the chain's wall time.
    /// At most one trained level and two weight copies wait on that thread, so memory stays bounded;
    /// `onLevel` and `.levelFinished` then come from that thread, in level order. The bytes are the same
    /// either way: every evaluation and measurement does the same arithmetic on a network of its own.
    public func run(
        onLevel: @escaping @Sendable (LevelOutcome) throws -> Void,
        onEvent: @escaping @Sendable (ChainEvent) -> Void = { _ in },
        progress: TrainingProgress? = nil, measureBeside: Bool = false
    ) throws {
        let lane = measureBeside ? MeasurementLane() : nil
        // However the chain ends, no level is still being measured or written when `run` returns.
        defer { lane?.drain() }
        func hand(_ trained: TrainedLevel) throws {
            let work: @Sendable () throws -> Void = {
                let outcome = self.measure(trained)
                onEvent(.levelFinished(outcome.metrics))
                try onLevel(outcome)
            }
            if let lane { try lane.handOn(work) } else { try work() }
        }
        let start = try planner.level(0) { _ in
            throw EngineError.incompatible(field: "level 0", reason: "reads no other level")
        }
        // Only the masks and weights of level 0 and of the level before are kept: a trained level's network
        // goes with its measurement, and is let go once measured.
        let dense: (masks: MaskSet, trained: NetworkState)
        var previous: (masks: MaskSet, trained: NetworkState, isLast: Bool)
        let rewindPoint: NetworkState?
        do {
            let (first, rewind) = train(
                0, masks: start.masks, start: nil, isLast: start.isLast, progress: progress, lane: lane,
                onEvent: onEvent)
            (dense, previous, rewindPoint) = (
                (first.masks, first.trained), (first.masks, first.trained, first.isLast), rewind
            )
            try hand(first)
        }
        if previous.isLast {
            try lane?.finish()
            return
        }
        guard let rewind = rewindPoint else {
            throw EngineError.incompatible(
                field: "pruning.rewind_step", reason: "training never reached the rewind step")
        }
        var imp = ReferenceIMP(chain: self, rewind: rewind, dense: dense)
        var level = 0
        while !previous.isLast {
            level += 1
            // A level reads only level 0 and the one before it, both at hand.
            let plan = try planner.level(level) { source in
                switch source {
                case .own(0): return dense
                case .own(level - 1): return (previous.masks, previous.trained)
                case .own(let k): throw EngineError.incompatible(field: "level \(k)", reason: "not kept in memory")
                case .imp(let k): return imp.level(k)
                }
            }
            // A level that failed to be measured or written stops the chain before another one trains.
            try lane?.check()
            let (trained, _) = train(
                level, masks: plan.masks, start: plan.startsFromRewind ? rewind : nil,
                isLast: plan.isLast, progress: progress, lane: lane, onEvent: onEvent)
            previous = (trained.masks, trained.trained, trained.isLast)
            try hand(trained)
        }
        try lane?.finish()
    }

    /// The IMP chain that shuffled and reinit controls reuse the masks of, trained level by level beside
    /// them, as the IMP experiment of a sweep would be (same streams, same rewind point).
    private struct ReferenceIMP {
        let chain: IMPChain
        let rewind: NetworkState
        let planner: LevelPlanner
        var trainer: Trainer?
        var latest: (level: Int, masks: MaskSet, trained: NetworkState)

        init(chain: IMPChain, rewind: NetworkState, dense: (masks: MaskSet, trained: NetworkState)) {
            var spec = chain.spec
            spec.pruning.control = .none
            self.chain = chain
            self.rewind = rewind
            planner = LevelPlanner(spec: spec, identity: chain.identity)
            latest = (0, dense.masks, dense.trained)
        }

        /// IMP's level k (k never goes back: each is trained once, after the one before it).
        mutating func level(_ k: Int) -> (masks: MaskSet, trained: NetworkState) {
            while latest.level < k {
                let before = latest
                let next = planner.level(before.level + 1) { _ in (before.masks, before.trained) }
                let trainer = self.trainer ?? chain.makeTrainer()
                self.trainer = trainer
                _ = chain.trainLevel(
                    trainer, level: before.level + 1, masks: next.masks, start: rewind, onEvent: { _ in })
                latest = (before.level + 1, next.masks, trainer.network.state)
            }
            return (latest.masks, latest.trained)
        }
    }
}

/// Runs `background` on another thread while `foreground` runs on this one, and returns both results.
func inParallel<A: Sendable, B>(_ background: @escaping @Sendable () -> A, _ foreground: () -> B) -> (A, B) {
    let box = ResultBox<A>(), done = DispatchGroup()
    done.enter()
    DispatchQueue.global().async {
        let value = background()
        box.value.withLock { $0 = value }
        done.leave()
    }
    let b = foreground()
    done.wait()
    // `background` has run to its end by now: the box holds its value.
    return (box.value.withLock { $0 }!, b)
}

/// A result handed from one thread to another.
private final class ResultBox<Value: Sendable>: Sendable {
    let value = Mutex<Value?>(nil)
}
