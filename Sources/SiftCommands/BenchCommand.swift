import ArgumentParser
import Foundation
import SiftArtifacts
import SiftData
import SiftEngine
import SiftFiles
import SiftMetrics
import SiftRandom
import SiftSpec

/// Prints `value` as one line of JSON with sorted keys: what the benchmarks and `sift metrics` print.
package func printJSONLine<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print figures.",
        subcommands: [TrainBench.self, LocalityBench.self])
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Time training steps on random data, unmasked against cblas_sgemm's own speed at the same shapes, or under a random mask.",
        discussion: """
            Prints one JSON line. With --density below 1 every layer gets a random mask keeping that fraction, and each \
            layer takes the path the engine would take (sparse_layers says how many went sparse). \
            ms_per_step is the fastest stretch of consecutive steps lasting at least one 2048³ sgemm product (0.1 s \
            under a mask), and the sgemm limit is the best of three such products: the same statistic on both sides, \
            so that another process on a shared core does not skew the ratio; ms_per_step_mean keeps every step. \
            With --masks the masks of a written level replace the random one, so the step is timed on what IMP \
            actually kept (its architecture and batch norm come from --arch and --batch-norm). \
            Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the command when comparing with another program.
            """)

    @Option(help: "Architecture, e.g. 784-1024-1024-1024-10.") var arch = "784-1024-1024-1024-10"
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Timed steps.") var steps = 50
    @Option(help: "Untimed warm-up steps.") var warmup = 5
    @Option(help: "BLAS threads.") var threads = 1
    @Option(help: "Optimiser: sgd or adam.") var optimizer = "sgd"
    @Option(help: "Fraction of each layer's weights kept by a random mask (1: unmasked).") var density = 1.0
    @Option(help: "A written level folder (level-<k>) whose mask-<l>.npy files mask the network instead of --density.")
    var masks: String?
    @Option(
        help:
            "Layers kept below this fraction take the sparse path (0: all dense). Defaults to the engine's own threshold for the batch (\(ModelSpec.defaultSparseBelowRule))."
    )
    var sparseBelow: Double?
    @Flag(help: "Batch normalisation on every layer's input, as in the paper's protocol.") var batchNorm = false

    func run() throws {
        guard let widths = ModelSpec.parseWidths(arch) else {
            throw ValidationError("--arch must be widths joined by '-', e.g. 784-1024-10; got '\(arch)'")
        }
        guard let kind = OptimizerKind(rawValue: optimizer) else {
            throw ValidationError("--optimizer must be sgd or adam; got '\(optimizer)'")
        }
        try OptionBounds.check(batch, in: 1...100_000, "--batch")
        try OptionBounds.check(steps, in: 1...1_000_000, "--steps")
        try OptionBounds.check(warmup, in: 0...100_000, "--warmup")
        try OptionBounds.check(threads, in: OptionBounds.threads, "--threads")
        guard density > 0, density <= 1 else { throw ValidationError("--density must be in (0, 1]; got \(density)") }
        let sparseBelow = sparseBelow ?? ModelSpec.defaultSparseBelow(batch: batch)
        guard sparseBelow >= 0 else { throw ValidationError("--sparse-below must be 0 or more; got \(sparseBelow)") }
        BLAS.threads = threads
        // On stderr: stdout is the one JSON line.
        if let advice = BLASKernelAdvice.forThisProcess {
            FileHandle.standardError.write(Data("warning: \(advice)\n".utf8))
        }
        var train = TrainSpec()
        train.batchSize = batch
        train.optimizer = kind
        var model = ModelSpec(widths: widths)
        model.sparseBelow = sparseBelow
        model.batchNorm = batchNorm
        let levelMasks = try masks.map { try NamedFiles.read($0).masks(model: model, origin: $0) }
        let result = TrainBenchmark(
            model: model, train: train, steps: steps, warmup: warmup, density: density,
            masks: levelMasks
        ).run()
        try printJSONLine(result)
    }
}

struct LocalityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locality",
        abstract: "Time a written level's locality analysis with and without the deeper layers' effective masks.",
        discussion: """
            Prints one JSON line: the analysis of layer 1 alone, the whole analysis, their difference (the deeper \
            layers' share), and the level's training seconds from its metrics.json, so that deeper_share_of_level \
            is what the effective masks add to the level's time. Each figure is the median of --rounds.
            """)

    @Argument(help: "A level folder (level-<k>) with its masks, out_degree.npy and metrics.json.") var level: String
    @Option(help: "Timed rounds of each analysis.") var rounds = 3
    @Option(help: "Threads for the null draws, as a worker's --threads.") var threads = 1

    struct Figures: Encodable {
        var layers: Int
        var layer1Seconds: Double
        var wholeSeconds: Double
        var deeperSeconds: Double
        var levelTrainingSeconds: Double
        var deeperShareOfLevel: Double

        enum CodingKeys: String, CodingKey {
            case layers
            case layer1Seconds = "layer1_seconds"
            case wholeSeconds = "whole_seconds"
            case deeperSeconds = "deeper_seconds"
            case levelTrainingSeconds = "level_training_seconds"
            case deeperShareOfLevel = "deeper_share_of_level"
        }
    }

    func run() throws {
        try OptionBounds.check(rounds, in: 1...1_000, "--rounds")
        try OptionBounds.check(threads, in: OptionBounds.threads, "--threads")
        // As a worker runs it: its BLAS threads are its --threads.
        BLAS.threads = threads
        let metrics = try JSONDecoder().decode(
            LevelMetrics.self, from: Data(try FileBytes.read("\(level)/metrics.json")))
        let outDegree = try NumpyArray.read("\(level)/out_degree.npy")
        guard outDegree.shape.count == 3 else { throw CommandFailure("\(level)/out_degree.npy is not C×H×W") }
        let shape = ImageShape(channels: outDegree.shape[0], height: outDegree.shape[1], width: outDegree.shape[2])
        let masks = try metrics.training.densityLayers.indices.map { l in
            try ConnectivityMask(contentsOf: "\(level)/mask-\(l).npy")
        }
        let stream = RandomStream(root: 0x4245_4E43, seed: 0, purpose: "bench-locality")
        func median(_ body: () -> Void) -> Double {
            let times = (0..<rounds).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            return times.sorted()[rounds / 2]
        }
        let layer1 = median {
            _ = LocalityAnalysis(
                masks: [masks[0]], firstLayerWeights: nil, shape: shape, threads: threads, stream: stream)
        }
        let whole = median {
            _ = LocalityAnalysis(masks: masks, firstLayerWeights: nil, shape: shape, threads: threads, stream: stream)
        }
        let deeper = max(0, whole - layer1)
        let training = metrics.training.seconds
        let figures = Figures(
            layers: masks.count, layer1Seconds: layer1, wholeSeconds: whole, deeperSeconds: deeper,
            levelTrainingSeconds: training, deeperShareOfLevel: deeper / (training + whole))
        try printJSONLine(figures)
    }
}
