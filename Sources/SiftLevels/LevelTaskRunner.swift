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

/// The worker's side of level tasks: train one level from the attached masks and start state.
package final class LevelTaskRunner: Sendable {
    /// Recently loaded datasets, most recent last: tasks of a sweep take turns between chains.
    /// Loading happens under the lock, so two tasks never load the same data twice.
    private let cached = Mutex<[(key: String, data: DatasetSplit)]>([])
    static let cachedDatasets = 4

    /// Called after each training step with the level, the task's attempt and the step; the test bed's worker blocks in it to hang
    /// a training as a deadlocked trainer would (`sift-testbed worker --hang`).
    private let afterStep: (@Sendable (_ level: Int, _ attempt: Int, _ step: Int) -> Void)?

    package init(afterStep: (@Sendable (_ level: Int, _ attempt: Int, _ step: Int) -> Void)? = nil) {
        self.afterStep = afterStep
    }

    /// Trains (or reuses) the level `assignment` names; `board` follows its training's progress.
    package func run(
        _ assignment: TaskAssignment, attachments: [[UInt8]],
        board: ProgressBoard = ProgressBoard()
    ) throws -> (summary: String, attachments: [[UInt8]]) {
        let progress = TrainingProgress()
        board.follow { now in TaskProgress(progress.snapshot, now: now) }
        let parameters = try JSONDecoder().decode(LevelTaskParameters.self, from: Data(assignment.parameters.utf8))
        guard parameters.files.count == attachments.count else {
            throw WireError.malformed(
                "task \(assignment.task) names \(parameters.files.count) files but carries \(attachments.count)")
        }
        let experiment = try ExperimentConfig.parse(
            resolvedJSON: parameters.settings, origin: "task \(assignment.task)")
        if parameters.reuses != nil {
            return try reuse(
                NamedFiles(names: parameters.files, contents: attachments), as: parameters, experiment: experiment)
        }
        let identity = ChainIdentity(
            experiment: parameters.experiment, streamRoot: parameters.streamRoot, seed: parameters.seed)
        let loadingStarted = Date()
        let data: DatasetSplit
        do {
            data = try dataset(experiment, identity: identity)
        } catch {
            // The data live on this worker's host: another host may well have them intact.
            throw HostFailure(underlying: error)
        }
        let chain = try IMPChain(spec: experiment.spec, data: data, identity: identity)
        let loadingSeconds = Date().timeIntervalSince(loadingStarted)
        var masksFiles = NamedFiles(), startFiles = NamedFiles()
        for (name, bytes) in zip(parameters.files, attachments) {
            if name.hasPrefix(LevelTasks.startPrefix) {
                startFiles.add(String(name.dropFirst(LevelTasks.startPrefix.count)), bytes)
            } else {
                masksFiles.add(name, bytes)
            }
        }
        let model = experiment.spec.model
        let masks = try masksFiles.masks(model: model, origin: assignment.task)
        let start = startFiles.names.isEmpty ? nil : try startFiles.state(model: model, origin: assignment.task)
        let level = parameters.level, attempt = assignment.attempt, afterStep = self.afterStep
        var (outcome, rewindPoint) = chain.runLevel(
            level, masks: masks, start: start, isLast: parameters.isLast,
            progress: progress, afterStep: { step in afterStep?(level, attempt, step) })
        outcome.metrics.timings?.loading = loadingSeconds
        var files = try LevelArtifacts.files(outcome, model: model)
        if let rewindPoint {
            let rewind = NamedFiles(state: rewindPoint, model: model)
            for (name, bytes) in zip(rewind.names, rewind.contents) { files.add(LevelTasks.rewindPrefix + name, bytes) }
        }
        return (String(decoding: try JSONEncoder().encode(files.names), as: UTF8.self), files.contents)
    }

    /// A reused level's files as this task's: only metrics.json changes, to name this experiment and control;
    /// it is re-encoded as a trained level's is, so the bytes are those training would have written.
    private func reuse(
        _ files: NamedFiles, as parameters: LevelTaskParameters,
        experiment: ExperimentConfig
    ) throws -> (summary: String, attachments: [[UInt8]]) {
        guard let index = files.names.firstIndex(of: "metrics.json") else {
            throw WireError.malformed("the level that task \(parameters.experiment) reuses carries no metrics.json")
        }
        var metrics = try JSONDecoder().decode(LevelMetrics.self, from: Data(files.contents[index]))
        metrics.training.experiment = parameters.experiment
        metrics.training.control = experiment.spec.pruning.control.rawValue
        var contents = files.contents
        contents[index] = try LevelArtifacts.encoded(metrics)
        return (String(decoding: try JSONEncoder().encode(files.names), as: UTF8.self), contents)
    }

    private func dataset(_ experiment: ExperimentConfig, identity: ChainIdentity) throws -> DatasetSplit {
        // The data depend on the data settings, and on the experiment's streams and seed only when drawn at random.
        let settings = experiment.resolved.filter { $0.key.hasPrefix("data.") }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.canonicalJSON)" }.joined(separator: ",")
        let key = settings + (experiment.spec.data.drawsAtRandom ? "/\(identity.streamRoot)/\(identity.seed)" : "")
        let spec = experiment.spec.data, stream = identity.stream("data")
        return try cached.withLock { (cached: inout [(key: String, data: DatasetSplit)]) throws -> DatasetSplit in
            if let index = cached.firstIndex(where: { $0.key == key }) {
                cached.append(cached.remove(at: index))
                return cached[cached.count - 1].data
            }
            let data = try DatasetLoader.load(spec, stream: stream)
            cached.append((key, data))
            if cached.count > Self.cachedDatasets { cached.removeFirst() }
            return data
        }
    }
}
