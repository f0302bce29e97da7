import Foundation
import SiftData
import SiftRandom
import SiftSpec
import Synchronization

/// Where a training run stopped making sense: the loss or the parameters became non-finite.
public struct Divergence: Sendable, Equatable {
    /// The update (1-based) after which the loss or the parameters were no longer finite.
    public var step: Int
    /// The last finite training loss of a batch, if any step had one.
    public var lastFiniteLoss: Double?
}

/// What one training run reports.
public struct TrainingOutcome: Sendable {
    /// Test accuracy at the last evaluation (before the divergence, if the run diverged).
    public var testAccuracy: Double
    public var bestTestAccuracy: Double
    /// Mean training loss over the last epoch (the last finite batch loss, if the run diverged).
    public var trainLoss: Double
    public var steps: Int
    public var seconds: Double
    /// Of `seconds`, the time spent on test evaluations.
    public var evaluationSeconds: Double = 0
    /// Set when training stopped on a non-finite loss or parameters.
    public var divergence: Divergence?
    /// The evaluations made on another thread, whose figures `settled()` adds once they are all in.
    var evaluatedBeside: TestEvaluations?

    /// The outcome with the evaluations made beside the training counted in: their accuracies, and their time
    /// in `seconds` and `evaluationSeconds`, as if made in turn. Read it once the lane has run them.
    func settled() -> TrainingOutcome {
        guard let figures = evaluatedBeside?.figures, figures.count > 0 else { return self }
        var outcome = self
        // An evaluation made in turn after the last one beside cannot happen: either every one is beside, or none.
        outcome.testAccuracy = figures.last
        outcome.bestTestAccuracy = figures.best
        outcome.seconds += figures.seconds
        outcome.evaluationSeconds += figures.seconds
        outcome.evaluatedBeside = nil
        return outcome
    }
}

/// Test evaluations handed to another thread while training goes on (`sift imp` with a spare core): each reads
/// a copy of the weights on a network of its own that has the level's masks (`evaluator`), so it does the
/// arithmetic an evaluation in turn would. `@unchecked` for the evaluator, which only the lane's thread uses.
public struct EvaluationsBeside: @unchecked Sendable {
    let lane: MeasurementLane
    let evaluator: Trainer
    let record = TestEvaluations()

    /// Evaluates `weights` on the lane, after what it already has.
    func evaluate(_ weights: NetworkState) {
        lane.evaluate { [self] in
            let started = Date()
            evaluator.network.state = weights
            record.add(evaluator.testAccuracy(), seconds: Date().timeIntervalSince(started))
        }
    }
}

/// A level's test evaluations so far: how many, the last and the best accuracy, and the time they took. The
/// training keeps one for the evaluations it makes in turn, `TestEvaluations` one for those made beside it.
struct EvaluationFigures {
    var count = 0
    var last = 0.0, best = 0.0, seconds = 0.0

    mutating func add(_ accuracy: Double, seconds: Double) {
        count += 1
        last = accuracy
        best = max(best, accuracy)
        self.seconds += seconds
    }
}

/// The figures of evaluations made beside the training, as they come in.
final class TestEvaluations: Sendable {
    private let state = Mutex(EvaluationFigures())

    func add(_ accuracy: Double, seconds: Double) {
        state.withLock { $0.add(accuracy, seconds: seconds) }
    }

    var figures: EvaluationFigures { state.withLock { $0 } }
}

/// One epoch's figures, for progress displays.
public struct EpochProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var trainLoss: Double
    public var testAccuracy: Double?
    public var elapsedSeconds: Double
}

/// Trains a network with mini-batches on a dataset split (science §3).
public final class Trainer {
    public let network: Network
    public let spec: TrainSpec
    public let data: DatasetSplit
    private let batches: BatchPrefetcher

    public init(network: Network, spec: TrainSpec, data: DatasetSplit) {
        self.network = network
        self.spec = spec
        self.data = data
        batches = BatchPrefetcher(images: data.train, rows: min(spec.batchSize, data.train.count))
    }

    public var batchRows: Int { batches.rows }
    public var stepsPerEpoch: Int { Self.stepsPerEpoch(spec, trainingImages: data.train.count) }

    /// Full batches per epoch; a last partial batch is dropped.
    public static func stepsPerEpoch(_ spec: TrainSpec, trainingImages: Int) -> Int {
        trainingImages / max(min(spec.batchSize, trainingImages), 1)
    }

    /// The level's length in updates: `spec.steps`, or whole epochs.
    public static func totalSteps(_ spec: TrainSpec, trainingImages: Int) -> Int {
        spec.steps ?? stepsPerEpoch(spec, trainingImages: trainingImages) * spec.epochs
    }

    /// Trains for `spec.steps` updates, or else `spec.epochs` passes over the data (a pass is one permutation,
    /// or one epoch's worth of draws with replacement; a length in steps ends inside a pass). Test accuracy
    /// is measured every `evalEverySteps` steps, or else every `evalEveryEpochs` passes, and at the end.
    /// `afterStep(s)` runs after update s (1-based) and once with 0 before any update;
    /// `progress`, if given, follows every step (for heartbeats and displays), as `level`.
    /// A non-finite batch loss stops training at once, as does non-finite state at the end: the outcome
    /// then carries a `Divergence`, and the network's state is what it was when it stopped.
    /// With `beside`, each evaluation reads a copy of the weights on another thread and training goes on: the
    /// outcome's accuracies are complete once that thread has run them (`settled()`), and `onEpoch` gets no accuracy.
    public func train(
        order: RandomStream, afterStep: (Int) -> Void = { _ in },
        onEpoch: (EpochProgress) -> Void = { _ in }, progress: TrainingProgress? = nil, level: Int = 0,
        evaluateBeside beside: EvaluationsBeside? = nil
    ) -> TrainingOutcome {
        let start = Date()
        let total = Self.totalSteps(spec, trainingImages: data.train.count)
        let perPass = max(stepsPerEpoch, 1)
        let passes = (total + perPass - 1) / perPass
        progress?.began(level: level, steps: total, epochs: passes)
        let optimizer = Optimizer(spec: spec, network: network)
        var stream = order
        var step = 0
        var lastLoss = 0.0
        var lastFiniteLoss: Double?
        var evaluations = EvaluationFigures()
        func evaluate() -> Double? {
            if let beside {
                beside.evaluate(network.state)
                return nil
            }
            let started = Date()
            let accuracy = testAccuracy()
            evaluations.add(accuracy, seconds: Date().timeIntervalSince(started))
            return accuracy
        }
        func outcome(trainLoss: Double, divergence: Divergence?) -> TrainingOutcome {
            TrainingOutcome(
                testAccuracy: evaluations.last, bestTestAccuracy: evaluations.best, trainLoss: trainLoss, steps: step,
                seconds: Date().timeIntervalSince(start), evaluationSeconds: evaluations.seconds,
                divergence: divergence, evaluatedBeside: beside?.record)
        }
        afterStep(0)
        for epoch in stride(from: 1, through: passes, by: 1) {
            var lossSum = 0.0
            let stepsThisPass = min(stepsPerEpoch, total - step)
            var accuracy: Double?
            let indices: [Int]
            switch spec.sampling {
            case .shuffle: indices = stream.permutation(data.train.count)
            case .replacement:
                indices = (0..<(stepsPerEpoch * batchRows)).map { _ in stream.nextInt(below: data.train.count) }
            }
            let rows = batchRows, transposed = network.inputLayoutWanted(rows: rows)
            func prefetch(_ b: Int) {
                batches.fill(batch: b, indices: indices[(b * rows)..<((b + 1) * rows)], transposed: transposed)
            }
            prefetch(0)
            for b in 0..<stepsThisPass {
                let slot = batches.slot(batch: b)
                if b + 1 < stepsThisPass { prefetch(b + 1) }
                let loss = Double(
                    network.trainStep(
                        slot.input, inputT: slot.inputT, labels: slot.labels.baseAddress!,
                        optimizer: optimizer))
                step += 1
                guard loss.isFinite else {
                    return outcome(
                        trainLoss: lastFiniteLoss ?? .zero,
                        divergence: Divergence(step: step, lastFiniteLoss: lastFiniteLoss))
                }
                lastFiniteLoss = loss
                lossSum += loss
                progress?.stepped(step, epoch: epoch, loss: loss)
                afterStep(step)
                if let every = spec.evalEverySteps, step % max(every, 1) == 0 || step == total { accuracy = evaluate() }
            }
            lastLoss = lossSum / Double(max(stepsThisPass, 1))
            if spec.evalEverySteps == nil && (epoch % max(spec.evalEveryEpochs, 1) == 0 || epoch == passes) {
                accuracy = evaluate()
            }
            onEpoch(
                EpochProgress(
                    epoch: epoch, epochs: passes, trainLoss: lastLoss, testAccuracy: accuracy,
                    elapsedSeconds: Date().timeIntervalSince(start)))
        }
        if total == 0 { _ = evaluate() }
        // A last update can leave infinite weights behind a finite loss.
        let divergence = network.isFinite ? nil : Divergence(step: step, lastFiniteLoss: lastFiniteLoss)
        return outcome(trainLoss: lastLoss, divergence: divergence)
    }

    /// Measures every batch norm's statistics again under the trained weights, as "precise" batch norm does
    /// (Wu & Johnson 2021; fvcore's PreciseBN): training-mode forward passes over `count` training batches,
    /// with no update, after which each layer's running mean and variance are the plain averages of the
    /// batches' own (the biased variance, as training uses). The batches are consecutive slices of
    /// permutations drawn from `order`, at the training batch size.
    public func recalibrateBatchNorm(batches count: Int, order: RandomStream) {
        guard count > 0 else { return }
        network.beginBatchNormRecalibration()
        defer { network.finishBatchNormRecalibration() }
        var stream = order
        // Only the permutation being dealt is kept, so memory stays at one training set's indices however
        // many batches the config asks for (train.recalibration_batches × train.batch can reach 10¹¹).
        var pending: [Int] = []
        let rows = batchRows, transposed = network.inputLayoutWanted(rows: rows)
        func prefetch(_ b: Int) {
            while pending.count < rows { pending += stream.permutation(data.train.count) }
            batches.fill(batch: b, indices: ArraySlice(pending.prefix(rows)), transposed: transposed)
            pending.removeFirst(rows)
        }
        prefetch(0)
        for b in 0..<count {
            let slot = batches.slot(batch: b)
            if b + 1 < count { prefetch(b + 1) }
            network.forward(slot.input, training: true, inputT: slot.inputT)
        }
    }

    /// The test set as every evaluation of this level reads it; made at the first evaluation, once the
    /// level's masks have set the first layer's path.
    private(set) lazy var testChunks = EvaluationChunks(
        images: data.test, featureMajor: network.firstLayerReadsFeatureMajor)

    /// Fraction of the test images classified correctly.
    public func testAccuracy() -> Double {
        testChunks.accuracy { network.predict($1) }
    }
}
