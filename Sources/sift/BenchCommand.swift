import ArgumentParser
import Foundation
import SiftEngine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print figures.", subcommands: [TrainBench.self])
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time training steps on random data, unmasked against cblas_sgemm's own speed at the same shapes, or under a random mask.",
        discussion: """
            Prints one JSON line. With --density below 1 every layer gets a random mask keeping that fraction, and each \
            layer takes the path the engine would take (sparse_layers says how many went sparse). \
            Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the command when comparing with another program.
            """)

    @Option(help: "Architecture, e.g. 784-1024-1024-1024-10.") var arch = "784-1024-1024-1024-10"
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Timed steps.") var steps = 50
    @Option(help: "Untimed warm-up steps.") var warmup = 5
    @Option(help: "BLAS threads.") var threads = 1
    @Option(help: "Optimiser: sgd or adam.") var optimizer = "sgd"
    @Option(help: "Fraction of each layer's weights kept by a random mask (1: unmasked).") var density = 1.0
    @Option(help: "Layers kept below this fraction take the sparse path (0: all dense). Defaults to the engine's own threshold.")
    var sparseBelow = ModelSpec.defaultSparseBelow

    func run() throws {
        guard let widths = ModelSpec.parseWidths(arch) else {
            throw ValidationError("--arch must be widths joined by '-', e.g. 784-1024-10; got '\(arch)'")
        }
        guard let kind = OptimizerKind(rawValue: optimizer) else {
            throw ValidationError("--optimizer must be sgd or adam; got '\(optimizer)'")
        }
        guard batch > 0, steps > 0, warmup >= 0, threads > 0 else {
            throw ValidationError("--batch, --steps and --threads must be positive")
        }
        guard density > 0, density <= 1 else { throw ValidationError("--density must be in (0, 1]; got \(density)") }
        guard sparseBelow >= 0 else { throw ValidationError("--sparse-below must be 0 or more; got \(sparseBelow)") }
        BLAS.threads = threads
        var train = TrainSpec()
        train.batchSize = batch
        train.optimizer = kind
        var model = ModelSpec(widths: widths)
        model.sparseBelow = sparseBelow
        let result = TrainBenchmark(model: model, train: train, steps: steps, warmup: warmup, density: density).run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
