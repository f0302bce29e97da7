import Foundation
import SiftConfig
import Testing

/// Every number a config sets has a ceiling, and every ceiling's error names the key and the limit,
/// before anything is allocated for it.
@Suite struct ConfigLimitsTests {
    func error(_ yaml: String) -> String {
        do {
            _ = try SweepConfig.parse(yaml: yaml, file: "limits.yaml")
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func countsPastTheirCeilingNameTheKeyAndTheLimit() {
        #expect(
            error("model: {arch: 784-16-10}\npruning: {max_levels: 1000000000}\n")
                == "limits.yaml:2:23: pruning.max_levels: must be at most 1000, got 1000000000")
        #expect(
            error("model: {arch: 784-16-10}\ntrain: {epochs: 9223372036854775807}\n")
                == "limits.yaml:2:17: train.epochs: must be at most 1000000, got 9223372036854775807")
        #expect(
            error("model: {arch: 784-16-10}\ntrain: {epochs: 99999999999999999999999}\n")
                .contains("train.epochs: must be at most 1000000"))
        #expect(
            error("model: {arch: 784-16-10}\ntrain: {steps: 2000000000}\n").contains(
                "train.steps: must be at most 1000000000"))
        #expect(
            error("model: {arch: 784-16-10}\ntrain: {batch: 1000001}\n").contains(
                "train.batch: must be at most 1000000"))
    }

    @Test func seedsExperimentsAndPlansAreBounded() {
        let seeds = "seeds: [" + (0..<10_001).map(String.init).joined(separator: ", ") + "]\nmodel: {arch: 784-16-10}\n"
        #expect(error(seeds).contains("seeds: lists 10001 seeds, more than the limit of 10000"))
        #expect(
            error("seeds: [18446744073709551615]\nmodel: {arch: 784-16-10}\n")
                .contains(
                    "seeds: seeds must be whole numbers from 0 to 9223372036854775807, got '18446744073709551615'"))
        let ceiling = "max_experiments: 100000000\nbase: {model: {arch: 784-16-10}}\ngrid: {train.lr: [0.1, 0.2]}\n"
        #expect(error(ceiling).contains("max_experiments: must be at most 100000, got 100000000"))
        // 10 × 1,001 levels × 101 seeds: over a million tasks.
        let plan =
            "seeds: [" + (0..<101).map(String.init).joined(separator: ", ") + "]\n"
            + "base: {model: {arch: 784-16-10}, pruning: {max_levels: 1000}}\n"
            + "grid: {train.lr: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]}\n"
        #expect(error(plan).contains("plans more than 1000000 level tasks"))
    }

    @Test func anEmptyFileIsAnError() {
        #expect(
            error("")
                == "limits.yaml: is empty; an experiment needs at least its model (model: {arch: …}): see Configs/quickstart.yaml"
        )
        #expect(error("# only a comment\n").contains("is empty"))
    }

    @Test func aHugeFileIsRefusedBeforeItIsParsed() throws {
        let path = NSTemporaryDirectory() + "sift-huge-\(getpid()).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: 0x20, count: (1 << 20) + 1).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigError.self) { try SweepConfig.load(path: path) }
        do {
            _ = try SweepConfig.load(path: path)
        } catch {
            #expect("\(error)".contains("is 1048577 bytes, more than the limit of 1048576 bytes (1 MiB)"))
        }
    }
}
