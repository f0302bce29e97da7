import Foundation
import ArgumentParser
import SiftArtifacts
import SiftCluster
import SiftData
import SiftEngine
import SiftConfig

struct ImpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imp",
        abstract: "Run one IMP chain (all levels of one experiment and seed) in this process.",
        discussion: """
            Writes OUT/level-<k>/ with mask-<l>.npy, weights-<l>.npy and metrics.json for every level, \
            and OUT/experiment.json with the experiment's canonical config and hash.
            """)

    @Argument(help: "Experiment config (YAML).") var config: String
    @Option(help: "Seed of this replicate (default: the config's first seed, else 0).") var seed: UInt64?
    @Option(help: "Output folder.") var out: String
    @Option(
        help: "Threads for each level's products, sparse kernels and analyses; the bytes are the same at any count.")
    var threads = 1

    func validate() throws {
        try OptionBounds.check(threads, in: OptionBounds.threads, "--threads")
    }

    func run() throws {
        let experiment = try ExperimentConfig.load(path: config)
        let seed = self.seed ?? experiment.seeds[0]
        BLAS.threads = threads
        let identity = experiment.identity(seed: seed)
        let training = TrainingProgress()
        let progress = ProgressPrinter(maxLevels: experiment.spec.pruning.maxLevels, progress: training)
        defer { progress.finish() }
        progress.note(
            "experiment \(identity.experiment) seed \(seed): \(experiment.spec.model.architecture), preset \(experiment.spec.pruning.preset.rawValue), control \(experiment.spec.pruning.control.rawValue)"
        )
        if let advice = BLASKernelAdvice.forThisProcess { progress.note("warning: \(advice)") }
        progress.note("loading data…")
        let loadingStarted = Date()
        let data = try DatasetLoader.load(experiment.spec.data, stream: identity.stream("data"))
        progress.note(
            "data: \(data.train.count) training and \(data.test.count) test images of \(data.train.shape), \(data.classCount) classes"
        )

        let chain: IMPChain
        do {
            chain = try IMPChain(spec: experiment.spec, data: data, identity: identity)
        } catch EngineError.incompatible(let field, let reason) {
            throw ConfigError(file: config, key: field, message: reason)
        }
        // The data are loaded once, for level 0; later levels load nothing.
        let loadingSeconds = Date().timeIntervalSince(loadingStarted)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try ExperimentRecord(experiment, seed: seed).write(
            to: (out as NSString).appendingPathComponent("experiment.json"))
        // A spare core takes the test evaluations and each level's measurement and files: the same work, off
        // the chain's critical path (together a fifth of the quickstart chain's time on one core).
        let measureBeside = AvailableCores.count > threads
        if measureBeside {
            progress.note("a spare core makes the test evaluations and measures each level while the updates go on")
        }
        try chain.run(
            onLevel: { level in
                var level = level
                if level.metrics.training.level == 0 { level.metrics.timings?.loading = loadingSeconds }
                try LevelArtifacts.write(root: out, level: level, model: experiment.spec.model)
            }, onEvent: progress.handle, progress: training, measureBeside: measureBeside)
        progress.finish()
        progress.note("done: \(out)")
    }
}
