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
        abstract: "Time training steps on random data against cblas_sgemm's own speed at the same shapes.",
        discussion: "Prints one JSON line. Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the command when comparing with another program.")

    @Option(help: "Architecture, e.g. 784-1024-1024-1024-10.") var arch = "784-1024-1024-1024-10"
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Timed steps.") var steps = 50
    @Option(help: "Untimed warm-up steps.") var warmup = 5
    @Option(help: "BLAS threads.") var threads = 1
    @Option(help: "Optimiser: sgd or adam.") var optimizer = "sgd"

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
        BLAS.threads = threads
        var train = TrainSpec()
        train.batchSize = batch
        train.optimizer = kind
        let result = TrainBenchmark(model: ModelSpec(widths: widths), train: train, steps: steps, warmup: warmup).run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
