import Foundation
import SiftData
import SiftEngine
import SiftSweep
import SiftWire

/// What a level task tells its worker, besides the attached files.
struct LevelTaskParameters: Codable {
    /// The experiment's canonical YAML: the worker needs no copy of the sweep.
    var config: String
    var seed: UInt64
    var level: Int
    var isLast: Bool
    /// Names of the attachments, in order: the masks, then the start state (prefixed "start-") if any.
    var files: [String]
}

/// IMP levels as coordinator tasks: planning a sweep, preparing each level from its predecessors'
/// artifacts, and storing results in the same layout as `sift run`.
public struct LevelTasks: Sendable {
    public static let kind = "level"
    public let sweep: SweepConfig
    public let layout: SweepLayout
    let experiments: [String: ExperimentConfig]

    public init(sweep: SweepConfig, layout: SweepLayout) {
        self.sweep = sweep
        self.layout = layout
        experiments = Dictionary(uniqueKeysWithValues: sweep.experiments.map { ($0.shortHash, $0) })
    }

    static func id(_ experiment: String, _ seed: UInt64, _ level: Int) -> String { "\(experiment)/seed-\(seed)/level-\(level)" }

    /// The IMP experiment a shuffled or reinit control takes its masks from.
    func impExperiment(of experiment: ExperimentConfig) throws -> ExperimentConfig {
        guard let imp = sweep.experiments.first(where: { $0.streamRoot == experiment.streamRoot && $0.spec.pruning.control == .none }) else {
            throw ConfigError(file: sweep.source, message: "'\(experiment.name ?? experiment.shortHash)' (\(experiment.spec.pruning.control.rawValue)) needs its IMP experiment in the sweep: add a variant without pruning.control")
        }
        return imp
    }

    /// Every level of every chain, up to max_levels; level k waits for what it is derived from.
    public func plan() throws -> [PlannedTask] {
        var tasks: [PlannedTask] = []
        for experiment in sweep.experiments {
            let hash = experiment.shortHash, control = experiment.spec.pruning.control
            let imp = control.needsIMPMasks ? try impExperiment(of: experiment) : nil
            for seed in experiment.seeds {
                for level in 0...experiment.spec.pruning.maxLevels {
                    var needs: [String] = []
                    if level > 0 {
                        switch control {
                        case .none: needs = [Self.id(hash, seed, level - 1)]
                        case .oneShot, .random: needs = [Self.id(hash, seed, 0)]
                        case .shuffled, .reinit: needs = [Self.id(hash, seed, level - 1), Self.id(imp!.shortHash, seed, level - 1)]
                        }
                    }
                    tasks.append(PlannedTask(id: Self.id(hash, seed, level), experiment: hash, seed: seed, level: level, kind: Self.kind,
                                             parameters: "{}", dependsOn: needs))
                }
            }
        }
        return tasks
    }

    // MARK: - Coordinator side

    func chainDirectory(_ experiment: ExperimentConfig, _ seed: UInt64) -> String { layout.chainDirectory(experiment, seed: seed) }

    func readLevel(_ experiment: ExperimentConfig, _ seed: UInt64, _ level: Int) throws -> (masks: MaskSet, trained: NetworkState) {
        let folder = LevelArtifacts.directory(chainDirectory(experiment, seed), level: level)
        let files = try NamedFiles.read(folder)
        return (try files.masks(model: experiment.spec.model, origin: folder), try files.state(model: experiment.spec.model, origin: folder))
    }

    /// Builds the task's parameters and attachments from the artifacts of the levels it depends on.
    public func prepare(_ task: TaskRecord) throws -> (parameters: String, attachments: [[UInt8]]) {
        guard let experiment = experiments[task.experiment] else {
            throw ConfigError(file: sweep.source, message: "the store holds experiment \(task.experiment), which this sweep does not define; use the sweep the store was made with")
        }
        let spec = experiment.spec, level = task.level
        let planner = LevelPlanner(spec: spec, identity: experiment.identity(seed: task.seed))
        var files = NamedFiles()
        let isLast: Bool
        if level == 0 {
            files = NamedFiles(masks: .dense(spec.model))
            isLast = planner.endsChain(level: 0, ruleMasks: .dense(spec.model))
        } else {
            var previous: (masks: MaskSet, trained: NetworkState)?, dense: NetworkState?, impMasks: MaskSet?
            switch spec.pruning.control {
            case .none: previous = try readLevel(experiment, task.seed, level - 1)
            case .oneShot: dense = try readLevel(experiment, task.seed, 0).trained
            case .random: break
            case .shuffled, .reinit:
                let imp = try readLevel(try impExperiment(of: experiment), task.seed, level - 1)
                impMasks = planner.nextIMPMasks(after: imp.masks, trained: imp.trained)
            }
            let masks = planner.masks(forLevel: level, previousMasks: previous?.masks, previousTrained: previous?.trained,
                                      denseTrained: dense, impMasks: impMasks)
            isLast = planner.endsChain(level: level, ruleMasks: impMasks ?? masks)
            files = NamedFiles(masks: masks)
            if spec.pruning.control != .reinit {
                let rewindFolder = "\(chainDirectory(experiment, task.seed))/rewind"
                let rewind = try NamedFiles.read(rewindFolder)
                for (name, bytes) in zip(rewind.names, rewind.contents) { files.add("start-\(name)", bytes) }
            }
        }
        let parameters = LevelTaskParameters(config: experiment.canonicalYAML, seed: task.seed, level: level, isLast: isLast, files: files.names)
        return (String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self), files.contents)
    }

    /// Writes a finished level (and level 0's rewind point) where `sift report` finds it; returns whether the chain ends.
    public func store(_ task: TaskRecord, result: TaskResult, attachments: [[UInt8]]) throws -> Bool {
        guard let experiment = experiments[task.experiment] else { return false }
        let names = try JSONDecoder().decode([String].self, from: Data(result.summary.utf8))
        guard names.count == attachments.count else {
            throw WireError.malformed("result for \(task.id) names \(names.count) files but carries \(attachments.count)")
        }
        let chain = chainDirectory(experiment, task.seed)
        var level = NamedFiles(), rewind = NamedFiles()
        for (name, bytes) in zip(names, attachments) {
            if name.hasPrefix("rewind-") { rewind.add(String(name.dropFirst("rewind-".count)), bytes) } else { level.add(name, bytes) }
        }
        let metrics = try JSONDecoder().decode(LevelMetrics.self, from: Data(level["metrics.json"] ?? []))
        if !rewind.names.isEmpty { try rewind.write(to: "\(chain)/rewind") }
        let folder = layout.experimentDirectory(experiment)
        if !FileManager.default.fileExists(atPath: "\(folder)/experiment.json") {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileBytes.writeAtomically(Array(experiment.canonicalYAML.utf8), to: "\(folder)/experiment.yaml")
            try ExperimentRecord(experiment).write(to: "\(folder)/experiment.json")
        }
        try level.write(to: LevelArtifacts.directory(chain, level: task.level))
        return metrics.training.lastLevel
    }
}

/// The worker's side of level tasks: train one level from the attached masks and start state.
public final class LevelTaskRunner: @unchecked Sendable {
    private let lock = NSLock()
    /// Recently loaded datasets, most recent last: tasks of a sweep take turns between chains.
    private var cached: [(key: String, data: DatasetSplit)] = []
    static let cachedDatasets = 4

    public init() {}

    public func run(_ assignment: TaskAssignment, attachments: [[UInt8]]) throws -> (summary: String, attachments: [[UInt8]]) {
        let parameters = try JSONDecoder().decode(LevelTaskParameters.self, from: Data(assignment.parameters.utf8))
        guard parameters.files.count == attachments.count else {
            throw WireError.malformed("task \(assignment.task) names \(parameters.files.count) files but carries \(attachments.count)")
        }
        let experiment = try ExperimentConfig.parse(yaml: parameters.config, file: "task \(assignment.task)")
        let identity = experiment.identity(seed: parameters.seed)
        let data = try dataset(experiment, identity: identity)
        let chain = try IMPChain(spec: experiment.spec, data: data, identity: identity)
        var masksFiles = NamedFiles(), startFiles = NamedFiles()
        for (name, bytes) in zip(parameters.files, attachments) {
            if name.hasPrefix("start-") { startFiles.add(String(name.dropFirst("start-".count)), bytes) } else { masksFiles.add(name, bytes) }
        }
        let model = experiment.spec.model
        let masks = try masksFiles.masks(model: model, origin: assignment.task)
        let start = startFiles.names.isEmpty ? nil : try startFiles.state(model: model, origin: assignment.task)
        let (outcome, rewindPoint) = chain.runLevel(parameters.level, masks: masks, start: start, isLast: parameters.isLast)
        var files = LevelArtifacts.files(outcome, model: model)
        if let rewindPoint {
            let rewind = NamedFiles(state: rewindPoint, model: model)
            for (name, bytes) in zip(rewind.names, rewind.contents) { files.add("rewind-\(name)", bytes) }
        }
        return (String(decoding: try JSONEncoder().encode(files.names), as: UTF8.self), files.contents)
    }

    private func dataset(_ experiment: ExperimentConfig, identity: ChainIdentity) throws -> DatasetSplit {
        // The data depend on the data settings, and on the experiment's streams and seed only when drawn at random.
        let settings = experiment.overrides.filter { $0.key.hasPrefix("data.") }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.canonicalJSON)" }.joined(separator: ",")
        let key = settings + (experiment.spec.data.drawsAtRandom ? "/\(experiment.streamRoot)/\(identity.seed)" : "")
        lock.lock()
        defer { lock.unlock() }
        if let index = cached.firstIndex(where: { $0.key == key }) {
            cached.append(cached.remove(at: index))
            return cached[cached.count - 1].data
        }
        let data = try DatasetLoader.load(experiment.spec.data, stream: identity.stream("data"))
        cached.append((key, data))
        if cached.count > Self.cachedDatasets { cached.removeFirst() }
        return data
    }
}
