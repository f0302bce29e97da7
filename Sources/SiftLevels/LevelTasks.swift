import Foundation
import SiftArtifacts
import SiftCluster
import SiftData
import SiftEngine
import SiftFiles
import SiftStore
import SiftConfig
import SiftWire
import Synchronization
import SiftSpec

/// What a level task tells its worker, besides the attached files.
struct LevelTaskParameters: Codable {
    /// The experiment's every setting (`ExperimentConfig.resolvedJSON`): the worker needs no copy of the
    /// sweep, and runs exactly these settings, not its own defaults.
    var settings: String
    /// The experiment's hash and random-stream root, as the coordinator computed them.
    var experiment: String
    var streamRoot: UInt64
    var seed: UInt64
    var level: Int
    var isLast: Bool
    /// Names of the attachments, in order: the masks, then the start state (prefixed "start-") if any; or,
    /// when the level is reused, the reused level's files as a result names them.
    var files: [String]
    /// The finished level this one is, byte for byte but for metrics.json's experiment and control: a
    /// control's level 0 is its IMP experiment's (same data, seed and random streams). The worker returns
    /// the attached files as this level's instead of training.
    var reuses: String?
}

/// IMP levels as coordinator tasks: planning a sweep, preparing each level from its predecessors'
/// artifacts, and storing results in the same layout as `sift run`.
package struct LevelTasks: Sendable {
    package static let kind = TaskKind.level
    package let sweep: SweepConfig
    package let layout: SweepLayout
    let experiments: [String: ExperimentConfig]

    package init(sweep: SweepConfig, layout: SweepLayout) {
        self.sweep = sweep
        self.layout = layout
        experiments = Dictionary(uniqueKeysWithValues: sweep.experiments.map { ($0.shortHash, $0) })
    }

    static func id(_ experiment: String, _ seed: UInt64, _ level: Int) -> String {
        "\(experiment)/seed-\(seed)/level-\(level)"
    }

    /// The largest frame a level's result can hold: the float32 weights of the sweep's largest layer
    /// (masks, biases, maps and metrics are smaller), plus a margin for headers and small files.
    package var maximumFrameBytes: Int {
        let largest = sweep.experiments.flatMap { $0.spec.model.layerWeightCounts.map { $0 ?? Int.max } }.max() ?? 0
        let (weights, overflow) = largest.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : weights + (1 << 20)
    }

    /// The largest whole result of a level: trained and rewind weights (4 bytes each) and masks (1 byte)
    /// of every layer, biases alike, plus a margin for metrics, maps and headers.
    package var maximumMessageBytes: Int {
        let largest =
            sweep.experiments.map { experiment in
                let model = experiment.spec.model, units = model.widths.dropFirst().reduce(0, +)
                guard let weights = model.weightCount, case let (sum, false) = weights.addingReportingOverflow(units)
                else { return Int.max }
                return sum
            }.max() ?? 0
        let (bytes, overflow) = largest.multipliedReportingOverflow(by: 9)
        return overflow ? Int.max : bytes + (8 << 20)
    }

    /// The IMP experiment a shuffled or reinit control takes its masks from.
    func impExperiment(of experiment: ExperimentConfig) throws -> ExperimentConfig {
        guard let imp = sweep.experiments.first(where: experiment.isControlled(by:)) else {
            throw ConfigError(
                file: sweep.source,
                message:
                    "'\(experiment.name ?? experiment.shortHash)' (\(experiment.spec.pruning.control.rawValue)) needs its IMP experiment in the sweep: add a variant without pruning.control"
            )
        }
        return imp
    }

    /// The IMP experiment whose level 0 is `experiment`'s for `seed`: a control shares its IMP experiment's
    /// random streams and every other setting, so its dense level is the same network, trained alike.
    func sharedLevelZero(of experiment: ExperimentConfig, seed: UInt64) -> ExperimentConfig? {
        guard experiment.spec.pruning.control != .none else { return nil }
        return sweep.experiments.first { experiment.isControlled(by: $0) && $0.seeds.contains(seed) }
    }

    /// The task parameters a planned level carries: which finished level it reuses, if any (the store keeps them).
    struct PlannedParameters: Codable {
        var reuses: String?
    }

    /// Every level of every chain, up to max_levels; level k waits for what the planner says it is derived from.
    /// A control's level 0 waits for its IMP experiment's, which it reuses instead of training it again.
    package func plan() throws -> [PlannedTask] {
        var tasks: [PlannedTask] = []
        for experiment in sweep.experiments {
            let hash = experiment.shortHash
            let imp = experiment.spec.pruning.control.needsIMPMasks ? try impExperiment(of: experiment) : nil
            for seed in experiment.seeds {
                let planner = LevelPlanner(spec: experiment.spec, identity: experiment.identity(seed: seed))
                let reused = sharedLevelZero(of: experiment, seed: seed).map { Self.id($0.shortHash, seed, 0) }
                for level in 0...experiment.spec.pruning.maxLevels {
                    var needs = planner.sources(forLevel: level).map { source in
                        switch source {
                        case .own(let k): return Self.id(hash, seed, k)
                        case .imp(let k): return Self.id(imp?.shortHash ?? hash, seed, k)
                        }
                    }
                    var parameters = "{}"
                    if level == 0, let reused {
                        needs = [reused]
                        parameters = String(
                            decoding: try JSONEncoder().encode(PlannedParameters(reuses: reused)), as: UTF8.self)
                    }
                    tasks.append(
                        PlannedTask(
                            id: Self.id(hash, seed, level), experiment: hash, seed: seed, level: level,
                            kind: Self.kind.rawValue,
                            parameters: parameters, dependsOn: needs))
                }
            }
        }
        return tasks
    }

    // MARK: - Coordinator side

    func chainDirectory(_ experiment: ExperimentConfig, _ seed: UInt64) -> String {
        layout.chainDirectory(experiment, seed: seed)
    }

    /// A finished level's masks and trained state, as a later level reads them; a folder that is gone or
    /// damaged is a `LostLevel`, so that the level is computed again rather than its successor failed.
    func readLevel(
        _ experiment: ExperimentConfig, _ seed: UInt64, _ level: Int
    ) throws -> (masks: MaskSet, trained: NetworkState) {
        let folder = LevelArtifacts.directory(chainDirectory(experiment, seed), level: level)
        do {
            let files = try NamedFiles.read(folder)
            return (
                try files.masks(model: experiment.spec.model, origin: folder),
                try files.state(model: experiment.spec.model, origin: folder)
            )
        } catch {
            throw LostLevel(task: Self.id(experiment.shortHash, seed, level), reason: "\(error)")
        }
    }

    /// Why a finished task's files are not all on disk, or nil when they are: the level's folder with every
    /// file its result named, and level 0's rewind point. Existence is checked, not digests: a folder appears
    /// only whole (written beside it, then renamed), so what goes wrong after is a deletion, and a stat per
    /// file costs milliseconds where re-reading every level's bytes would cost minutes on a large sweep.
    package func lostFiles(of task: TaskRecord) -> String? {
        guard task.kind == Self.kind.rawValue, let experiment = experiments[task.experiment] else { return nil }
        let chain = chainDirectory(experiment, task.seed), folder = LevelArtifacts.directory(chain, level: task.level)
        let names =
            task.summary.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? ["metrics.json"]
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "its folder \(folder) is missing"
        }
        for name in names {
            let path =
                name.hasPrefix(Self.rewindPrefix)
                ? "\(SweepLayout.rewindDirectory(chain: chain))/\(name.dropFirst(Self.rewindPrefix.count))"
                : "\(folder)/\(name)"
            if !FileManager.default.fileExists(atPath: path) { return "\(path) is missing" }
        }
        return nil
    }

    /// Checks that every level the store records as finished is on disk, and sends back those that are not,
    /// with the levels derived from them; says what it found through `note`. Run when a coordinator opens its store.
    package func recomputeLostLevels(in store: TaskStore, now: Date = Date(), note: (String) -> Void) throws {
        let lost = try store.finishedTasks().compactMap { task in
            lostFiles(of: task).map { (task: task.id, reason: $0) }
        }
        guard !lost.isEmpty else { return }
        let sentBack = try store.transaction { try $0.recompute(lost, now: now) }
        for (task, reason) in lost.prefix(10) { note("\(task) was finished, but \(reason): it will be computed again") }
        if lost.count > 10 { note("… and \(lost.count - 10) more finished levels whose files are missing") }
        note(
            "\(lost.count) finished level(s) found missing on disk; \(sentBack.count) level(s) sent back to the queue, the levels after them included"
        )
    }

    /// Builds the task's parameters and attachments from the artifacts of the levels it depends on.
    package func prepare(_ task: TaskRecord) throws -> (parameters: String, attachments: [[UInt8]]) {
        guard let experiment = experiments[task.experiment] else {
            throw ConfigError(
                file: sweep.source,
                message:
                    "the store holds experiment \(task.experiment), which this sweep does not define; use the sweep the store was made with"
            )
        }
        if task.level == 0, let imp = sharedLevelZero(of: experiment, seed: task.seed) {
            return try prepareReuse(of: imp, for: experiment, task: task)
        }
        let planner = LevelPlanner(spec: experiment.spec, identity: experiment.identity(seed: task.seed))
        let level = try planner.level(task.level) { source in
            switch source {
            case .own(let k): return try readLevel(experiment, task.seed, k)
            case .imp(let k): return try readLevel(try impExperiment(of: experiment), task.seed, k)
            }
        }
        var files = NamedFiles(masks: level.masks)
        if task.level > 0 && level.startsFromRewind {
            let folder = SweepLayout.rewindDirectory(chain: chainDirectory(experiment, task.seed))
            let rewind: NamedFiles
            do {
                rewind = try NamedFiles.read(folder)
            } catch {
                throw LostLevel(task: Self.id(experiment.shortHash, task.seed, 0), reason: "its rewind point: \(error)")
            }
            for (name, bytes) in zip(rewind.names, rewind.contents) { files.add("\(Self.startPrefix)\(name)", bytes) }
        }
        let parameters = LevelTaskParameters(
            settings: experiment.resolvedJSON, experiment: experiment.shortHash,
            streamRoot: experiment.streamRoot, seed: task.seed, level: task.level,
            isLast: level.isLast, files: files.names)
        return (String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self), files.contents)
    }

    /// A control's level 0 as its IMP experiment's: that level's files and rewind point, named as a result names them.
    func prepareReuse(
        of imp: ExperimentConfig, for experiment: ExperimentConfig, task: TaskRecord
    ) throws -> (parameters: String, attachments: [[UInt8]]) {
        let source = Self.id(imp.shortHash, task.seed, 0), chain = chainDirectory(imp, task.seed)
        var files: NamedFiles
        do {
            files = try NamedFiles.read(LevelArtifacts.directory(chain, level: 0))
            let rewind = try NamedFiles.read(SweepLayout.rewindDirectory(chain: chain))
            for (name, bytes) in zip(rewind.names, rewind.contents) { files.add(Self.rewindPrefix + name, bytes) }
        } catch {
            throw LostLevel(task: source, reason: "\(error)")
        }
        let parameters = LevelTaskParameters(
            settings: experiment.resolvedJSON, experiment: experiment.shortHash,
            streamRoot: experiment.streamRoot, seed: task.seed, level: 0, isLast: false,
            files: files.names, reuses: source)
        return (String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self), files.contents)
    }

    /// Writes a finished level (and level 0's rewind point) where `sift report` finds it; says how it
    /// ends its chain. A result that does not hold a level's files is a `RejectedResult`; a failure to
    /// write them (a full disk) is thrown as it is, and stops the coordinator.
    package func store(_ task: TaskRecord, result: TaskResult, attachments: [[UInt8]]) throws -> ChainEnding {
        guard let experiment = experiments[task.experiment] else {
            throw RejectedResult("the store's experiment \(task.experiment) is not in this sweep")
        }
        guard let names = try? JSONDecoder().decode([String].self, from: Data(result.summary.utf8)) else {
            throw RejectedResult("the summary of \(task.id) is not a list of file names")
        }
        guard names.count == attachments.count else {
            throw RejectedResult("\(task.id) names \(names.count) files but carries \(attachments.count)")
        }
        let chain = chainDirectory(experiment, task.seed)
        let model = experiment.spec.model
        let (level, rewind) = try Self.sortFiles(of: task, names: names, attachments: attachments, model: model)
        let metrics: LevelMetrics
        do {
            metrics = try JSONDecoder().decode(LevelMetrics.self, from: Data(level["metrics.json"] ?? []))
        } catch {
            throw RejectedResult("the metrics.json of \(task.id) does not decode: \(error)")
        }
        let training = metrics.training
        guard training.experiment == task.experiment, training.seed == task.seed, training.level == task.level else {
            throw RejectedResult(
                "\(task.id) carries the files of \(training.experiment)/seed-\(training.seed)/level-\(training.level)")
        }
        // The next level is derived from these files: their masks and state must fit the experiment's model,
        // and hold numbers (a diverged level ends its chain, so its weights are not read again).
        let state: NetworkState
        do {
            _ = try level.masks(model: model, origin: task.id)
            state = try level.state(model: model, origin: task.id)
            if let rewind,
                let bad = try rewind.state(model: model, origin: "\(task.id) rewind point").firstNonFiniteFile
            {
                throw RejectedResult("the rewind point of \(task.id) holds NaN or infinity in \(bad)")
            }
        } catch let error as RejectedResult {
            throw error
        } catch {
            throw RejectedResult("\(error)")
        }
        if training.diverged != true, let bad = state.firstNonFiniteFile {
            throw RejectedResult("\(task.id) holds NaN or infinity in \(bad) but does not say it diverged")
        }
        if task.level == 0 && rewind == nil && !training.lastLevel {
            throw RejectedResult("\(task.id) carries no rewind point, which the chain's later levels start from")
        }
        if let rewind { try rewind.write(to: SweepLayout.rewindDirectory(chain: chain)) }
        let folder = layout.experimentDirectory(experiment)
        if !FileManager.default.fileExists(atPath: "\(folder)/experiment.json") {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileBytes.writeAtomically(Array(experiment.canonicalYAML.utf8), to: "\(folder)/experiment.yaml")
            try ExperimentRecord(experiment).write(to: "\(folder)/experiment.json")
        }
        try level.write(to: LevelArtifacts.directory(chain, level: task.level))
        if training.diverged == true {
            let loss = training.lastFiniteLoss.map { String(format: "%.4g", $0) } ?? "none"
            return .diverged("diverged at step \(training.steps) of level \(training.level); last finite loss \(loss)")
        }
        return training.lastLevel ? .endsChain : .continues
    }

    /// Splits a result's files into the level's own and the rewind point, accepting only what a level of
    /// `model` writes: each of the level's files once, and the rewind point (every file of a network state,
    /// prefixed "rewind-") from level 0 alone, the only level that makes it. A peer leased a later level
    /// cannot replace the point every later level starts from.
    static func sortFiles(
        of task: TaskRecord, names: [String], attachments: [[UInt8]],
        model: ModelSpec
    ) throws -> (level: NamedFiles, rewind: NamedFiles?) {
        let levelNames = LevelArtifacts.fileNames(model: model)
        let rewindNames = Set(NamedFiles.stateNames(model: model).map { Self.rewindPrefix + $0 })
        var level = NamedFiles(), rewind = NamedFiles()
        for (name, bytes) in zip(names, attachments) {
            if task.level == 0 && rewindNames.contains(name) {
                guard rewind[String(name.dropFirst(Self.rewindPrefix.count))] == nil else {
                    throw RejectedResult("\(task.id) carries \(name) twice")
                }
                rewind.add(String(name.dropFirst(Self.rewindPrefix.count)), bytes)
            } else if levelNames.contains(name) {
                guard level[name] == nil else { throw RejectedResult("\(task.id) carries \(name) twice") }
                level.add(name, bytes)
            } else {
                let printable = String(
                    name.unicodeScalars.prefix(80).map { $0.isASCII && $0.value >= 32 ? Character($0) : "?" })
                let why =
                    rewindNames.contains(name)
                    ? "only level 0 makes the rewind point" : "no level of \(model.architecture) writes it"
                throw RejectedResult("\(task.id) carries a file named '\(printable)': \(why)")
            }
        }
        let missing = levelNames.subtracting(level.names)
        guard missing.isEmpty else {
            throw RejectedResult(
                "\(task.id) lacks \(missing.sorted().prefix(3).joined(separator: ", "))\(missing.count > 3 ? " and \(missing.count - 3) more" : "")"
            )
        }
        guard rewind.names.isEmpty || rewind.names.count == rewindNames.count else {
            throw RejectedResult(
                "the rewind point of \(task.id) is incomplete (\(rewind.names.count) of \(rewindNames.count) files)")
        }
        return (level, rewind.names.isEmpty ? nil : rewind)
    }

    /// What marks the rewind point's files among a level-0 result's.
    static let rewindPrefix = "rewind-"
    /// What marks the start state's files among a task's attachments (the masks are not marked).
    static let startPrefix = "start-"
}
