import Foundation
import SiftEngine
import SiftConfig
import Testing

@Suite struct SweepConfigTests {
    let sweep = """
        name: demo
        seeds: [4, 5]
        base:
          model:
            arch: 784-64-10
          pruning:
            max_levels: 3
        variants:
          natural:
          scrambled:
            data:
              scramble: true
          imp-lth:
            pruning:
              preset: lth
        grid:
          train.lr: [0.05, 0.1]
        """

    @Test func expandsVariantsTimesGrid() throws {
        let config = try SweepConfig.parse(yaml: sweep, file: "demo.yaml")
        #expect(config.experiments.count == 6)
        #expect(
            config.experiments.map(\.name!) == [
                "natural train.lr=0.05", "natural train.lr=0.1", "scrambled train.lr=0.05", "scrambled train.lr=0.1",
                "imp-lth train.lr=0.05", "imp-lth train.lr=0.1",
            ])
        #expect(Set(config.experiments.map(\.hash)).count == 6)
        for experiment in config.experiments {
            #expect(experiment.seeds == [4, 5])
            #expect(experiment.spec.model.widths == [784, 64, 10])
            #expect(experiment.spec.pruning.maxLevels == 3)
        }
        #expect(config.experiments[2].spec.data.transforms.scramble)
        #expect(config.experiments[4].spec.pruning.preset == .lth)
        #expect(config.experiments[4].spec.pruning.maxLevels == 3, "variants merge into the base, key by key")
        // The default lr enters no hash: natural lr=0.1 is the base experiment itself.
        let plain = try ExperimentConfig.parse(
            yaml: "model:\n  arch: 784-64-10\npruning:\n  max_levels: 3\n", file: "p.yaml")
        #expect(config.experiments[1].hash == plain.hash)
    }

    @Test func canonicalYAMLParsesBackToTheSameHash() throws {
        for experiment in try SweepConfig.parse(yaml: sweep, file: "demo.yaml").experiments {
            let again = try ExperimentConfig.parse(yaml: experiment.canonicalYAML, file: "again.yaml")
            #expect(again.hash == experiment.hash, "\(experiment.canonicalYAML)")
            #expect(again.seeds == experiment.seeds)
            #expect(again.name == experiment.name)
        }
    }

    @Test func aPlainExperimentIsASweepOfOne() throws {
        let config = try SweepConfig.parse(yaml: "name: one\nseeds: [7]\nmodel:\n  arch: 784-10\n", file: "one.yaml")
        #expect(config.experiments.count == 1)
        #expect(config.experiments[0].name == "one")
        #expect(config.seeds == [7])
    }

    @Test func sweepErrorsAreLocated() throws {
        let cases: [(String, Int?, String?)] = [
            ("variants:\n  a:\n    train:\n      lr: zero\n", 4, "train.lr"),
            ("grid:\n  train.lr: 0.1\n", 2, "grid.train.lr"),
            ("base:\n  model:\n    arch: 784-10\nmodel:\n  arch: 784-10\n", 4, "model"),
            ("variants:\n  a: 3\n", 2, "variants.a"),
            ("variants:\n  a: {}\n  b:\n    train:\n      lr: 0.1\n", nil, nil),
            ("grid:\n  train.nonsense: [1, 2]\n", 2, "train.nonsense"),
        ]
        for (yaml, line, key) in cases {
            do {
                _ = try SweepConfig.parse(yaml: yaml, file: "s.yaml")
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigError {
                #expect(error.line == line, "\(yaml) → \(error)")
                #expect(error.key == key, "\(yaml) → \(error)")
            }
        }
    }

    @Test func plansTooLargeToRunAreRefusedBeforeTheyExpand() throws {
        // Ten keys of ten values each: 10^10 experiments from a few hundred bytes.
        let keys = [
            "train.lr", "train.momentum", "train.batch", "train.epochs", "pruning.rate",
            "pruning.rewind_step", "data.subset", "pruning.max_levels", "train.eval_every", "model.arch",
        ]
        let grid = keys.enumerated().map { i, key in
            "  \(key): ["
                + (1...10).map { key == "model.arch" ? "784-\($0 + 10)-10" : "\($0 * (i + 1))" }.joined(separator: ", ")
                + "]"
        }.joined(separator: "\n")
        let start = Date()
        #expect {
            _ = try SweepConfig.parse(
                yaml: "name: huge\nbase: {model: {arch: 784-16-10}}\ngrid:\n" + grid, file: "huge.yaml")
        } throws: { error in
            "\(error)".contains("expands to 10000000000 experiments") && "\(error)".contains("max_experiments")
        }
        #expect(Date().timeIntervalSince(start) < 1)
        // The limit is the sweep's to raise.
        let raised = try SweepConfig.parse(
            yaml:
                "max_experiments: 4\nbase: {model: {arch: 784-16-10}}\ngrid:\n  train.lr: [0.1, 0.2]\n  train.batch: [32, 64]\n",
            file: "four.yaml")
        #expect(raised.experiments.count == 4)
        #expect(throws: ConfigError.self) {
            _ = try SweepConfig.parse(
                yaml: "max_experiments: 3\nbase: {}\ngrid:\n  train.lr: [0.1, 0.2]\n  train.batch: [32, 64]\n",
                file: "three.yaml")
        }
        #expect {
            _ = try SweepConfig.parse(yaml: "seeds: [0, 1, 0]\nmodel:\n  arch: 784-10\n", file: "twice.yaml")
        } throws: { error in
            (error as? ConfigError)?.message == "seed 0 is listed twice" && (error as? ConfigError)?.line == 1
        }
        // An architecture no machine here could train: refused at its line, with the sizes.
        #expect {
            _ = try SweepConfig.parse(yaml: "model:\n  arch: 784-100000000-10\n", file: "big.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == "model.arch" && error.line == 2 && error.message.contains("79400000000 weights")
        }
    }
}
