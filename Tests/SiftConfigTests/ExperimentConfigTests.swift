import Foundation
@testable import SiftConfig
import SiftEngine
import Testing
import Yams
import SiftSpec

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

    /// Every default is declared once, in the spec structs: a config that sets nothing but the architecture
    /// resolves to exactly their defaults (the schema's defaults read them).
    @Test func anUnsetKeyTakesTheSpecsOwnDefault() throws {
        let spec = try parse("model:\n  arch: 784-512-10\n").spec
        var model = ModelSpec(widths: [784, 512, 10])
        model.sparseBelow = ModelSpec.defaultSparseBelow(batch: TrainSpec().batchSize)
        #expect(spec.model == model)
        #expect(spec.train == TrainSpec())
        #expect(spec.pruning == PruningSpec(preset: .paper))
        #expect(spec.data == DataSpec())
        let nlgp = try parse("data:\n  dataset: nlgp\nmodel:\n  arch: 784-512-2\n").spec.data.source
        #expect(nlgp == .nlgp(NLGPSettings()))
    }

    @Test func defaultsDoNotEnterTheHash() throws {
        let bare = try parse("model:\n  arch: 784-512-10\n")
        let explicit = try parse(
            """
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

    /// Unset, model.sparse_below follows the batch; set, it is what it says and enters the hash. The rule is
    /// in the defaults table, so a build with another rule has another identifier.
    @Test func theSparseThresholdFollowsTheBatchUnlessSet() throws {
        let small = try parse("model: { arch: 784-512-10 }\ntrain: { batch: 128 }\n")
        let large = try parse("model: { arch: 784-512-10 }\ntrain: { batch: 129 }\n")
        let set = try parse("model: { arch: 784-512-10, sparse_below: 0.35 }\ntrain: { batch: 128 }\n")
        #expect(small.spec.model.sparseBelow == 0.5 && large.spec.model.sparseBelow == 0.35)
        #expect(set.spec.model.sparseBelow == 0.35 && set.canonicalJSON.contains(#""model.sparse_below":0.35"#))
        #expect(small.canonicalJSON == #"{"model.arch":"784-512-10"}"#, "unset stays out of the hash")
        #expect(
            ConfigKeyReference.defaultsTable.contains("model.sparse_below = unset: 0.5 up to batch 128, 0.35 above"))
        let rebuilt = try ExperimentConfig.parse(resolvedJSON: large.resolvedJSON, origin: "task t")
        #expect(rebuilt.spec.model.sparseBelow == 0.35 && rebuilt.hash == large.hash)
        #expect(error("model: { arch: 784-512-10, sparse_below: 1.5 }\n")?.key == "model.sparse_below")
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
        for variant in [
            "train:\n  lr: 0.05\n", "data:\n  scramble: true\n", "pruning:\n  control: random\n",
            "model:\n  activation: tanh\n",
        ] {
            let arch = variant.hasPrefix("model") ? "" : "model:\n  arch: 784-512-10\n"
            let other = try parse(
                arch + variant.replacingOccurrences(of: "model:\n", with: "model:\n  arch: 784-512-10\n"))
            #expect(other.hash != base.hash, "\(variant)")
        }
    }

    /// A control, and a twin on the other path, start from the experiment's network; any other change starts
    /// another. A control takes its masks from the experiment that differs from it in the control alone.
    @Test func controlsAndPathTwinsShareTheirExperimentsStreams() throws {
        let imp = try parse("model:\n  arch: 784-512-10\n")
        let control = try parse("model:\n  arch: 784-512-10\npruning:\n  control: one_shot\n")
        let denseTwin = try parse("model:\n  arch: 784-512-10\n  sparse_below: 0\n")
        let denseControl = try parse("model:\n  arch: 784-512-10\n  sparse_below: 0\npruning:\n  control: one_shot\n")
        #expect(Set([imp.hash, control.hash, denseTwin.hash, denseControl.hash]).count == 4)
        #expect(Set([imp.streamRoot, control.streamRoot, denseTwin.streamRoot, denseControl.streamRoot]).count == 1)
        let scrambled = try parse("model:\n  arch: 784-512-10\ndata:\n  scramble: true\n")
        #expect(scrambled.streamRoot != imp.streamRoot)
        #expect(control.isControlled(by: imp) && denseControl.isControlled(by: denseTwin))
        #expect(
            !control.isControlled(by: denseTwin) && !denseControl.isControlled(by: imp)
                && !control.isControlled(by: control))
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

    /// A level task carries every setting; a worker rebuilds exactly the coordinator's experiment from it.
    @Test func resolvedSettingsRebuildTheSameExperiment() throws {
        for yaml in [
            "model: { arch: 784-64-10 }\ntrain: { lr: 0.05 }\n",
            "data: { dataset: nlgp, nlgp: { side: 8, xi: [1, 2.5] } }\nmodel: { arch: 64-16-2 }\npruning: { preset: lth }\n",
            "data: { dataset: arrays, path: a.npz, test_path: b.npz, reclass: 2 }\nmodel: { arch: 4-3-2 }\n",
        ] {
            let experiment = try parse(yaml)
            #expect(experiment.resolved.count == ConfigKeyReference.all.count, "every key, defaults included")
            let rebuilt = try ExperimentConfig.parse(resolvedJSON: experiment.resolvedJSON, origin: "task t")
            #expect(rebuilt.hash == experiment.hash && rebuilt.resolved == experiment.resolved)
            #expect(
                rebuilt.spec.model == experiment.spec.model && rebuilt.spec.train == experiment.spec.train
                    && rebuilt.spec.pruning == experiment.spec.pruning)
        }
    }

    @Test func aTaskWithoutAKeyOrWithAnUnknownOneIsRefused() throws {
        let settings = try parse("model: { arch: 784-64-10 }\n").resolvedJSON
        func refusal(_ text: String) -> String {
            do {
                _ = try ExperimentConfig.parse(resolvedJSON: text, origin: "task e/seed-0/level-1")
                return ""
            } catch {
                return "\(error)"
            }
        }
        let withoutLR = settings.replacingOccurrences(of: "\"train.lr\":0.1,", with: "")
        #expect(withoutLR != settings)
        #expect(
            refusal(withoutLR)
                == "task e/seed-0/level-1: train.lr: missing: a task carries every setting, so the coordinator runs another build"
        )
        let withWarmup = settings.replacingOccurrences(of: "{", with: "{\"train.warmup\":5,")
        #expect(refusal(withWarmup).contains("train.warmup: unknown setting: this worker's build does not have it"))
        let nullArch = settings.replacingOccurrences(of: "\"784-64-10\"", with: "null")
        #expect(refusal(nullArch).contains("model.arch: cannot be null"))
        let badRate = settings.replacingOccurrences(of: "\"train.lr\":0.1", with: "\"train.lr\":-1")
        #expect(refusal(badRate).contains("train.lr: must be greater than 0"))
    }

    @Test func anArchitectureThatDoesNotFitTheDataIsRefusedAtItsLine() throws {
        let cifar = error("data: { dataset: cifar10, path: /data/cifar }\nmodel:\n  arch: 784-100-10\n")
        #expect(cifar?.line == 3 && cifar?.key == "model.arch")
        #expect(
            cifar?.message
                == "784-100-10 takes 784 inputs, but cifar10 images (32×32×3) have 3072 values; start it with 3072")
        let outputs = error("model: { arch: 784-100-5 }\n")
        #expect(outputs?.message == "784-100-5 has 5 outputs, but the data have 10 classes; end it with 10")
        #expect(error("data: { dataset: nlgp, nlgp: { side: 10 } }\nmodel: { arch: 100-20-2 }\n") == nil)
        #expect(error("data: { reclass: 2 }\nmodel: { arch: 784-20-2 }\n") == nil, "labels mod 2 leave two classes")
        #expect(error("data: { dataset: cifar10, path: /c, grayscale: true }\nmodel: { arch: 1024-20-10 }\n") == nil)
    }

    /// A key is one declaration: given the table with one more entry, the reader accepts it, checks it,
    /// keeps it out of the canonical form at its default, hashes it when set, resolves it for tasks and
    /// puts it into the spec. (It writes momentum here, standing in for an engine field it would own.)
    @Test func aKeyIsOneDeclaration() throws {
        let fields =
            ExperimentSchema.fields + [
                .double(
                    "train.nesterov_mix", { $0 >= 0 && $0 < 1 ? nil : "must be in [0, 1)" }, "a new key for this test",
                    default: { _ in 0 }
                ) { $0.train.momentum = $1 }
            ]
        func parse(_ yaml: String) throws -> ExperimentConfig {
            try ExperimentConfig.parse(node: try Yams.compose(yaml: yaml), file: "new.yaml", fields: fields)
        }
        let bare = try parse("model: { arch: 784-32-10 }\n")
        #expect(bare.hash == (try self.parse("model: { arch: 784-32-10 }\n")).hash, "at its default it changes no hash")
        #expect(bare.resolved["train.nesterov_mix"] == .double(0))
        let set = try parse("model: { arch: 784-32-10 }\ntrain: { nesterov_mix: 0.5 }\n")
        #expect(set.hash != bare.hash && set.canonicalJSON.contains("\"train.nesterov_mix\":0.5"))
        #expect(set.spec.train.momentum == 0.5, "its value reaches the spec")
        #expect(throws: ConfigError.self) { try parse("train: { nesterov_mix: 2 }\n") }
        #expect(throws: ConfigError.self) { try parse("train: { nesterov_mix: fast }\n") }
    }

    @Test func aLevelsLengthIsInEpochsOrInStepsNotBoth() throws {
        let steps = try parse("model: { arch: 784-32-10 }\ntrain: { steps: 100000, eval_every_steps: 100 }\n")
        #expect(steps.spec.train.steps == 100_000 && steps.spec.train.evalEverySteps == 100)
        #expect(try parse("model: { arch: 784-32-10 }\n").spec.train.steps == nil, "unset, the level runs in epochs")
        let both = error("model: { arch: 784-32-10 }\ntrain: { epochs: 5, steps: 1000 }\n")
        #expect(both?.key == "train.epochs" && both?.message.contains("exclusive with train.steps") == true)
        let evals = error("model: { arch: 784-32-10 }\ntrain: { eval_every: 2, eval_every_steps: 100 }\n")
        #expect(evals?.key == "train.eval_every")
    }
}
