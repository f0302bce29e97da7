import Foundation
import SiftEngine
import SiftSweep
import Testing

@Suite struct ExperimentConfigTests {
    func parse(_ yaml: String) throws -> ExperimentConfig {
        try ExperimentConfig.parse(yaml: yaml, file: "test.yaml")
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }

    @Test func defaultsDoNotEnterTheHash() throws {
        let bare = try parse("model:\n  arch: 784-512-10\n")
        let explicit = try parse("""
            name: same experiment, spelled out
            model:
              arch: 784-512-10
              activation: relu
            train:
              lr: 0.10
              batch: 128
            pruning:
              preset: paper
              rate: 0.3
              rewind_step: 1000
            """)
        #expect(bare.hash == explicit.hash)
        #expect(bare.canonicalJSON == #"{"model.arch":"784-512-10"}"#)
        #expect(bare.hash.count == 64)
    }

    @Test func presetDefaultsFollowThePreset() throws {
        let lth = try parse("pruning:\n  preset: lth\n  rate: 0.2\n  output_rate: 0.1\n")
        #expect(lth.canonicalJSON == #"{"pruning.preset":"lth"}"#)
        #expect(lth.spec.pruning.outputRate == 0.1)
        #expect(lth.spec.pruning.rewindStep == 0)
        let paperWithLthRate = try parse("pruning:\n  rate: 0.2\n")
        #expect(paperWithLthRate.hash != lth.hash)
        #expect(paperWithLthRate.spec.pruning.pruneBiases)
    }

    @Test func anyChangeChangesTheHash() throws {
        let base = try parse("model:\n  arch: 784-512-10\n")
        for variant in ["train:\n  lr: 0.05\n", "data:\n  scramble: true\n", "pruning:\n  control: random\n",
                        "model:\n  activation: tanh\n"] {
            let arch = variant.hasPrefix("model") ? "" : "model:\n  arch: 784-512-10\n"
            let other = try parse(arch + variant.replacingOccurrences(of: "model:\n", with: "model:\n  arch: 784-512-10\n"))
            #expect(other.hash != base.hash, "\(variant)")
        }
    }

    @Test func controlsShareTheirExperimentsStreams() throws {
        let imp = try parse("model:\n  arch: 784-512-10\n")
        let control = try parse("model:\n  arch: 784-512-10\npruning:\n  control: one_shot\n")
        #expect(imp.hash != control.hash)
        #expect(imp.streamRoot == control.streamRoot)
        let scrambled = try parse("model:\n  arch: 784-512-10\ndata:\n  scramble: true\n")
        #expect(scrambled.streamRoot != imp.streamRoot)
    }

    @Test func unknownKeysNameFileLineAndKey() throws {
        let e = try #require(error("model:\n  arch: 784-10\ntrain:\n  lr: 0.1\n  epohcs: 3\n"))
        #expect(e.line == 5)
        #expect(e.key == "train.epohcs")
        #expect(e.description.hasPrefix("test.yaml:5:3: train.epohcs: unknown key"))
        #expect(e.description.contains("epochs"))
        #expect(error("optimiser: adam\n")?.key == "optimiser")
    }

    @Test func badValuesNameTheirLine() throws {
        let cases: [(String, Int, String)] = [
            ("train:\n  lr: fast\n", 2, "train.lr"),
            ("train:\n  lr: -1\n", 2, "train.lr"),
            ("train:\n  batch: 0\n", 2, "train.batch"),
            ("pruning:\n  rate: 1.5\n", 2, "pruning.rate"),
            ("pruning:\n  preset: magic\n", 2, "pruning.preset"),
            ("model:\n  arch: 784-x-10\n", 2, "model.arch"),
            ("model:\n  batch_norm: maybe\n", 2, "model.batch_norm"),
            ("data:\n  nlgp:\n    side: 10\n", 3, "data.nlgp.side"),
            ("model:\n  arch: 784-100-10\npruning:\n  layer_rates: [0.3]\n", 4, "pruning.layer_rates"),
            ("data: fashion\n", 1, "data"),
        ]
        for (yaml, line, key) in cases {
            let e = error(yaml)
            #expect(e?.line == line, "\(yaml)")
            #expect(e?.key == key, "\(yaml)")
        }
    }

    @Test func yamlSyntaxErrorsAreLocated() throws {
        let e = try #require(error("model:\n  arch: [784\n"))
        #expect(e.line != nil)
        #expect(e.description.contains("YAML"))
        #expect(error("model:\n  arch: 1\n  arch: 2\n")?.description.contains("twice") == true)
    }

    @Test func datasetsNeedTheirPaths() throws {
        #expect(error("data:\n  dataset: mnist\n")?.key == "data.path")
        let arrays = try parse("data:\n  dataset: arrays\n  path: a.npz\n  test_path: b.npz\nmodel:\n  arch: 3072-10\n")
        #expect(arrays.spec.data.source == .arrays(train: "a.npz", test: "b.npz"))
        let nlgp = try parse("data:\n  dataset: nlgp\n  nlgp:\n    xi: [1, 3]\n    clone: true\n")
        guard case .nlgp(let settings) = nlgp.spec.data.source else {
            Issue.record("nlgp source expected")
            return
        }
        #expect(settings.cloneClasses == [0, 1] && settings.correlationLengths == [1, 3])
        let mixed = try parse("data:\n  dataset: nlgp\n  nlgp:\n    xi: [3, 3]\n    clone_classes: [1]\n")
        guard case .nlgp(let mixedSettings) = mixed.spec.data.source else { return }
        #expect(mixedSettings.cloneClasses == [1])
        #expect(error("data:\n  dataset: nlgp\n  nlgp:\n    clone_classes: [2]\n")?.line == 4)
    }

    @Test func shippedConfigsParse() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Configs").standardizedFileURL.path
        let files = try FileManager.default.contentsOfDirectory(atPath: configs).filter { $0.hasSuffix(".yaml") }
        #expect(files.contains("quickstart.yaml"))
        for file in files {
            let sweep = try SweepConfig.load(path: "\(configs)/\(file)")
            #expect(!sweep.experiments.isEmpty && !sweep.seeds.isEmpty, "\(file)")
        }
        #expect(try SweepConfig.load(path: "\(configs)/controls.yaml").experiments.count == 5)
        #expect(throws: ConfigError.self) { try ExperimentConfig.load(path: "\(configs)/controls.yaml") }
        let quickstart = try ExperimentConfig.load(path: "\(configs)/quickstart.yaml")
        #expect(quickstart.spec.model.widths == [784, 512, 10])
    }
}
