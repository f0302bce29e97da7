import Foundation
import SiftArtifacts
import SiftData
import SiftFiles
@testable import SiftEngine
import SiftRandom
import SiftTestKit
import Testing
import SiftSpec
import Synchronization

@Suite struct TrainingTests {
    static let shape = ImageShape(channels: 1, height: 4, width: 4)
    let data = SyntheticImages.split(shape: shape, classes: 4, train: 512, test: 256)

    func spec(
        _ control: PruningControl = .none, optimizer: OptimizerKind = .sgd, batchNorm: Bool = false
    ) -> ExperimentSpec {
        var model = ModelSpec(widths: [16, 24, 12, 4])
        model.batchNorm = batchNorm
        var train = TrainSpec()
        train.optimizer = optimizer
        train.learningRate = optimizer == .adam ? 0.01 : 0.1
        train.momentum = optimizer == .sgd ? 0.9 : 0
        train.batchSize = 32
        train.epochs = 2
        var pruning = PruningSpec(preset: .paper)
        pruning.rewindStep = 5
        pruning.maxLevels = 3
        pruning.control = control
        return ExperimentSpec(data: DataSpec(), model: model, train: train, pruning: pruning)
    }

    func runChain(_ spec: ExperimentSpec, seed: UInt64 = 0, measureBeside: Bool = false) throws -> [LevelOutcome] {
        let chain = try IMPChain(
            spec: spec, data: data,
            identity: ChainIdentity(experiment: "test", streamRoot: 77, seed: seed))
        let levels = Mutex<[LevelOutcome]>([])
        try chain.run(onLevel: { level in levels.withLock { $0.append(level) } }, measureBeside: measureBeside)
        return levels.withLock { $0 }
    }

    /// Making the test evaluations and measuring each level on a second thread while the chain trains (`sift
    /// imp` with a spare core) hands on the same levels, in order, with the same bytes and figures: the
    /// accuracies, batch norm's recalibration and the ablation included, on the dense path (levels 0 and 1) and
    /// the sparse one (2 and 3), and with a control that trains its reference IMP chain as it goes.
    @Test(arguments: [PruningControl.none, .shuffled])
    func measuringBesideTheNextLevelChangesNoByte(_ control: PruningControl) throws {
        var s = spec(control, batchNorm: true)
        s.train.recalibrationBatches = 4
        s.model.sparseBelow = 0.6
        let inTurn = try runChain(s), beside = try runChain(s, measureBeside: true)
        #expect(beside.map(\.metrics.training.level) == [0, 1, 2, 3])
        for (a, b) in zip(inTurn, beside) {
            var (x, y) = (a.metrics, b.metrics)
            (x.timings, y.timings) = (nil, nil)
            x.training.seconds = 0
            y.training.seconds = 0
            #expect(x == y, "level \(a.metrics.training.level)")
            #expect(a.masks == b.masks && a.trained == b.trained)
            #expect(
                a.analysis.maps.sameChannel == b.analysis.maps.sameChannel
                    && a.analysis.outDegrees == b.analysis.outDegrees)
        }
        #expect(inTurn[1].metrics.training.testAccuracyRecalibrated != nil)
        #expect(inTurn[3].metrics.training.densityLayers[0] < 0.6, "level 3 takes the sparse path")
    }

    /// A level that cannot be handed on (its files cannot be written, say) stops the chain: the error comes
    /// back, and no level after the one training at the time starts.
    @Test func aLevelThatCannotBeHandedOnStopsTheChainMeasuredBeside() throws {
        struct DiskFull: Error {}
        let chain = try IMPChain(
            spec: spec(), data: data, identity: ChainIdentity(experiment: "test", streamRoot: 77, seed: 0))
        let started = Mutex<[Int]>([])
        #expect(throws: DiskFull.self) {
            try chain.run(
                onLevel: { if $0.metrics.training.level == 1 { throw DiskFull() } },
                onEvent: { if case .levelStarted(let level, _, _, _) = $0 { started.withLock { $0.append(level) } } },
                measureBeside: true)
        }
        #expect(started.withLock { $0 } == [0, 1, 2])
    }

    /// A level's length in steps ends inside a pass; accuracy is measured every so many steps and at the end.
    @Test(arguments: [BatchSampling.shuffle, .replacement])
    func trainStepsTrainsExactlyThatManySteps(_ sampling: BatchSampling) throws {
        var train = spec().train
        train.steps = 37  // 512 images in batches of 32: 16 a pass, so 2 passes and 5 steps of a third
        train.evalEverySteps = 10
        train.sampling = sampling
        let trainer = Trainer(network: Network(spec: spec().model), spec: train, data: data)
        trainer.network.initialize(stream: RandomStream(root: 1, seed: 0, purpose: "init"))
        let progress = TrainingProgress()
        var updates: [Int] = [], passes: [(Int, Int)] = []
        let outcome = trainer.train(
            order: RandomStream(root: 1, seed: 0, purpose: "order"), afterStep: { updates.append($0) },
            onEpoch: { passes.append(($0.epoch, $0.epochs)) }, progress: progress)
        #expect(outcome.steps == 37 && updates == Array(0...37))
        #expect(passes.map(\.0) == [1, 2, 3] && passes.allSatisfy { $0.1 == 3 })
        #expect(progress.snapshot.steps == 37 && progress.snapshot.step == 37)
        #expect(outcome.bestTestAccuracy >= outcome.testAccuracy)
        #expect(Trainer.totalSteps(train, trainingImages: 512) == 37)
        train.steps = nil
        #expect(Trainer.totalSteps(train, trainingImages: 512) == 32, "without steps, whole epochs: 2 × 16")
    }

    /// The paper's rewind: weights, biases, γ and β come back; the running statistics start afresh.
    @Test func theRewindRestoresGammaAndBetaAndResetsTheRunningStatistics() throws {
        var train = spec(batchNorm: true).train
        train.steps = 20
        let trainer = Trainer(network: Network(spec: spec(batchNorm: true).model), spec: train, data: data)
        trainer.network.initialize(stream: RandomStream(root: 2, seed: 0, purpose: "init"))
        var point: NetworkState?
        _ = trainer.train(
            order: RandomStream(root: 2, seed: 0, purpose: "order"),
            afterStep: { step in
                if step == 10 { point = trainer.network.state }
            })
        let saved = try #require(point)
        #expect(saved.layers[0].runningMean?.contains { $0 != 0 } == true, "ten steps moved the running statistics")
        #expect(trainer.network.state != saved, "ten more steps moved everything")
        trainer.network.rewind(to: saved)
        let now = trainer.network.state
        for (layer, before) in zip(now.layers, saved.layers) {
            #expect(layer.weights == before.weights && layer.bias == before.bias)
            #expect(layer.gamma == before.gamma && layer.beta == before.beta)
            #expect(
                layer.runningMean?.allSatisfy { $0 == 0 } == true
                    && layer.runningVariance?.allSatisfy { $0 == 1 } == true)
        }
    }

    /// The paper's Network.py normalises the input of every dense layer, the output layer's included,
    /// and trains each γ and β.
    @Test func batchNormSitsOnEveryLayersInputTheOutputsIncluded() {
        var train = spec(batchNorm: true).train
        train.steps = 5
        let trainer = Trainer(network: Network(spec: spec(batchNorm: true).model), spec: train, data: data)
        trainer.network.initialize(stream: RandomStream(root: 4, seed: 0, purpose: "init"))
        let layers = trainer.network.layers
        #expect(layers.count == 3 && layers.allSatisfy { $0.batchNorm?.features == $0.fanIn })
        #expect(layers.last?.isOutput == true)
        _ = trainer.train(order: RandomStream(root: 4, seed: 0, purpose: "order"))
        for layer in trainer.network.state.layers {
            #expect(
                layer.gamma?.contains { $0 != 1 } == true && layer.beta?.contains { $0 != 0 } == true, "γ and β trained"
            )
        }
    }

    /// As the paper's code (`amv = mv` at step 0): a restart's first training batch sets the running
    /// statistics outright; the batches after it are averaged in with the decay.
    @Test func theFirstBatchSetsTheRunningStatistics() {
        let bn = BatchNorm(features: 2, epsilon: 1e-10, decay: 0.99)
        let first = Matrix(rows: 2, cols: 2, values: [1, 10, 3, 30])  // means 2 and 20, variances 1 and 100
        let second = Matrix(rows: 2, cols: 2, values: [5, 0, 5, 0])  // means 5 and 0, variances 0 and 0
        let scratch = Matrix(rows: 2, cols: 2), out = Matrix(rows: 2, cols: 2)
        bn.forward(.rowMajor(first), rows: 2, normalized: scratch, output: out, training: true)
        #expect(bn.runningMean.values == [2, 20] && bn.runningVariance.values == [1, 100])
        bn.forward(.rowMajor(second), rows: 2, normalized: scratch, output: out, training: true)
        let averaged: [Float] = bn.runningMean.values + bn.runningVariance.values
        for (value, expected) in zip(averaged, [0.99 * 2 + 0.01 * 5, 0.99 * 20, 0.99, 99] as [Float]) {
            #expect(abs(value - expected) < 1e-4)
        }
        bn.restartRunningStatistics()
        #expect(bn.runningMean.values == [0, 0] && bn.runningVariance.values == [1, 1])
        bn.forward(.rowMajor(second), rows: 2, normalized: scratch, output: out, training: true)
        #expect(bn.runningMean.values == [5, 0] && bn.runningVariance.values == [0, 0])
    }

    @Test func learnsASeparableTask() throws {
        let levels = try runChain(spec())
        #expect(levels[0].metrics.training.testAccuracy > 0.9)
        #expect(levels.last!.metrics.training.testAccuracy > 0.8)
    }

    @Test(arguments: [(OptimizerKind.sgd, false), (.adam, false), (.sgd, true), (.adam, true)])
    func prunedWeightsStayExactlyZero(_ optimizer: OptimizerKind, _ batchNorm: Bool) throws {
        let levels = try runChain(spec(optimizer: optimizer, batchNorm: batchNorm))
        #expect(levels.count == 4)
        for level in levels.dropFirst() {
            for (mask, layer) in zip(level.masks.layers, level.trained.layers) {
                let leaked = mask.weights.indices.filter { mask.weights[$0] == 0 && layer.weights[$0] != 0 }
                #expect(leaked.isEmpty, "\(leaked.count) pruned weights are nonzero")
                for j in mask.bias.indices where mask.bias[j] == 0 { #expect(layer.bias[j] == 0) }
                // Alive weights did move during training.
                #expect(mask.weights.indices.contains { mask.weights[$0] == 1 && layer.weights[$0] != 0 })
            }
        }
    }

    /// The sparse path over a whole chain: its levels before the first sparse one are its dense twin's, byte
    /// for byte, and the levels after it stay within float rounding of the twin's (about 1e-7 of the largest weight).
    @Test func aChainOnTheSparsePathTracksItsDenseTwin() throws {
        func chain(sparseBelow: Double) throws -> [LevelOutcome] {
            var s = spec()
            s.model.sparseBelow = sparseBelow
            return try runChain(s)
        }
        let dense = try chain(sparseBelow: 0), sparse = try chain(sparseBelow: 0.6)
        #expect(dense.count == 4 && sparse.count == 4)
        // Levels 0 and 1 (100 and 70 %) are dense in both; levels 2 and 3 (49 and 34 %) are sparse in one.
        for level in 0...1 {
            #expect(sparse[level].trained == dense[level].trained && sparse[level].masks == dense[level].masks)
        }
        #expect(sparse[2].trained != dense[2].trained, "level 2 took the sparse path")
        for level in 2...3 {
            for (x, y) in zip(sparse[level].trained.layers, dense[level].trained.layers) {
                let drift = SparsePathTests.relativeError(y.weights, x.weights)
                #expect(drift < 1e-4, "level \(level): weights drift by \(drift) of the largest")
            }
            for (x, y) in zip(sparse[level].masks.layers, dense[level].masks.layers) {
                let differ = zip(x.weights, y.weights).filter { $0 != $1 }.count
                #expect(
                    Double(differ) <= 0.02 * Double(x.weights.count),
                    "level \(level): \(differ) of \(x.weights.count) mask entries differ")
            }
        }
    }

    @Test func sameSeedGivesIdenticalBytes() throws {
        let first = try runChain(spec())
        let second = try runChain(spec())
        #expect(first.count == second.count)
        for (a, b) in zip(first, second) {
            #expect(a.masks == b.masks)
            #expect(a.trained == b.trained)
        }
        let other = try runChain(spec(), seed: 1)
        #expect(other[1].masks != first[1].masks)
    }

    @Test func writtenMaskFilesAreByteIdentical() throws {
        let dirs = try (0..<2).map { _ in try TemporaryDirectory() }
        defer { dirs.forEach { $0.remove() } }
        for dir in dirs {
            for level in try runChain(spec()) {
                try LevelArtifacts.write(root: dir.path, level: level, model: spec().model)
            }
        }
        for level in 0...3 {
            for file in ["mask-0.npy", "mask-1.npy", "weights-0.npy"] {
                let a = FileManager.default.contents(atPath: "\(dirs[0].path)/level-\(level)/\(file)")
                let b = FileManager.default.contents(atPath: "\(dirs[1].path)/level-\(level)/\(file)")
                #expect(a != nil && a == b, "level \(level) \(file)")
            }
        }
        let metrics = try JSONDecoder().decode(
            LevelMetrics.self, from: FileManager.default.contents(atPath: "\(dirs[0].path)/level-2/metrics.json")!)
        #expect(metrics.training.level == 2)
        #expect(abs(metrics.training.densityLayers[0] - 0.49) < 0.01)
        let mask = try NumpyArray.read("\(dirs[0].path)/level-2/mask-0.npy")
        #expect(mask.shape == [16, 24] && mask.dtype == .uint8)
        let locality = try #require(metrics.locality)
        #expect(locality.connectedFraction.count == 3)
        #expect(locality.pairDistanceRatioUniform != nil && locality.iprMean != nil)
        #expect(metrics.ablation?.most.count == AblationCurves.defaultFractions.count)
        #expect(try NumpyArray.read("\(dirs[0].path)/level-2/sc_map.npy").shape == [7, 7])
        #expect(try NumpyArray.read("\(dirs[0].path)/level-2/out_degree.npy").shape == [1, 4, 4])
        // The files carry the full masks and state, so a later level can be derived from them alone.
        let files = try NamedFiles.read("\(dirs[0].path)/level-2")
        let levels = try runChain(spec())
        #expect(try files.masks(model: spec().model, origin: "level-2") == levels[2].masks)
        #expect(try files.state(model: spec().model, origin: "level-2") == levels[2].trained)
    }

    @Test func aMissingLevelFolderIsAnErrorThatNamesIt() throws {
        let dir = try TemporaryDirectory()
        let missing = "\(dir.path)/level-7"
        #expect(throws: DataError.unreadable(path: missing, reason: "No such file or directory")) {
            try NamedFiles.read(missing)
        }
        try Data([1]).write(to: URL(fileURLWithPath: "\(dir.path)/a-file"))
        #expect(throws: DataError.unreadable(path: "\(dir.path)/a-file", reason: "Not a directory")) {
            try NamedFiles.read("\(dir.path)/a-file")
        }
    }

    @Test(arguments: PruningControl.allCases)
    func controlsRunAtIMPDensities(_ control: PruningControl) throws {
        let imp = try runChain(spec())
        let levels = try runChain(spec(control))
        #expect(levels.count == imp.count)
        #expect(levels[0].masks == imp[0].masks)
        #expect(levels[0].trained == imp[0].trained, "level 0 is the same dense network")
        for (c, i) in zip(levels, imp).dropFirst() {
            #expect(c.metrics.training.control == control.rawValue)
            switch control {
            case .none, .reinit:
                #expect(c.masks == i.masks)
            case .shuffled, .oneShot:
                #expect(aliveEntries(c.masks) == aliveEntries(i.masks))
                if control == .shuffled { #expect(c.masks.layers[0].aliveWeights == i.masks.layers[0].aliveWeights) }
            case .random:
                #expect(abs(c.masks.totalWeightDensity - i.masks.totalWeightDensity) < 0.1)
            }
            if control == .reinit { #expect(c.trained != i.trained) }
        }
    }

    func aliveEntries(_ masks: MaskSet) -> Int {
        masks.layers.reduce(0) { $0 + $1.aliveWeights + $1.aliveBiases }
    }

    @Test func batchNormStateRoundTripsThroughFiles() throws {
        let spec = spec(batchNorm: true)
        let level = try runChain(spec)[1]
        let files = NamedFiles(state: level.trained, model: spec.model)
        #expect(files.names.contains("bn-0.npy"))
        #expect(try files.state(model: spec.model, origin: "memory") == level.trained)
    }

    @Test func rewindPastTheEndIsAnError() throws {
        var s = spec()
        s.pruning.rewindStep = 10_000
        #expect(throws: EngineError.self) { try runChain(s) }
    }

    @Test func architectureMustFitTheData() throws {
        var s = spec()
        s.model.widths[0] = 784
        #expect(throws: EngineError.self) { try runChain(s) }
    }
}
