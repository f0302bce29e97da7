import Foundation
import SiftData
import SiftEngine
import SiftTestKit
import Testing

/// `sift imp` and `sift bench` run as real processes on small data the test writes.
@Suite struct ImpCommandTests {
    /// A 4×4, two-class arrays dataset and a config that prunes it for two levels.
    func writeExperiment(in dir: TemporaryDirectory) throws -> String {
        try SyntheticImages.writeArrays(in: dir, train: 256, test: 64)
        let config = """
            name: cli test
            seeds: [3]
            data:
              dataset: arrays
              path: \(dir.file("train.npz"))
              test_path: \(dir.file("test.npz"))
            model:
              arch: 16-8-2
            train:
              epochs: 2
              batch: 32
            pruning:
              preset: lth
              max_levels: 2
            """
        return try dir.write(Array(config.utf8), to: "experiment.yaml")
    }

    @Test func writesEveryLevelIdenticallyTwice() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try writeExperiment(in: dir)
        for out in ["a", "b"] {
            let result = try SiftProcess.run(["imp", config, "--out", dir.file(out)])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("level 2 done"))
        }
        for level in 0...2 {
            for file in ["mask-0.npy", "mask-1.npy", "weights-0.npy", "weights-1.npy"] {
                let a = FileManager.default.contents(atPath: dir.file("a/level-\(level)/\(file)"))
                #expect(a != nil && a == FileManager.default.contents(atPath: dir.file("b/level-\(level)/\(file)")))
            }
        }
        let json =
            try JSONSerialization.jsonObject(
                with: FileManager.default.contents(atPath: dir.file("a/level-2/metrics.json"))!) as! [String: Any]
        for key in [
            "level", "density_layers", "density_total", "test_accuracy", "best_test_accuracy", "train_loss", "seconds",
        ] {
            #expect(json[key] != nil, "metrics.json lacks \(key)")
        }
        #expect(json["seed"] as? Int == 3)
        // Where each level's time went: every part measured, none negative; the data are loaded for level 0 only.
        for level in 0...2 {
            let metrics =
                try JSONSerialization.jsonObject(
                    with: FileManager.default.contents(atPath: dir.file("a/level-\(level)/metrics.json"))!)
                as! [String: Any]
            let timings = try #require(metrics["timings"] as? [String: Double], "level \(level) has no timings")
            #expect(
                Set(timings.keys) == [
                    "loading_seconds", "training_seconds", "evaluation_seconds", "ablation_seconds",
                    "locality_seconds", "files_seconds",
                ])
            #expect(
                timings.values.allSatisfy { $0 >= 0 } && timings["training_seconds"]! > 0
                    && timings["evaluation_seconds"]! > 0)
            #expect((timings["loading_seconds"]! > 0) == (level == 0), "level \(level): \(timings)")
            let seconds = try #require(metrics["seconds"] as? Double)
            #expect(
                abs(timings["training_seconds"]! + timings["evaluation_seconds"]! - seconds) < 1e-6,
                "training and evaluation make up `seconds`")
        }
        #expect(abs((json["density_layers"] as! [Double])[0] - 0.64) < 0.01)
        #expect(FileManager.default.fileExists(atPath: dir.file("a/experiment.json")))
    }

    /// A batch-normalised chain whose products are large enough to be cut between threads, as is the first
    /// layer's batch norm (784 inputs × 500 examples), and whose later levels take the sparse path: the same
    /// bytes at 1, 2 and 3 threads. ThreadRangesTests cuts every other pass three ways.
    @Test func aChainHasTheSameBytesAtAnyThreadCount() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try SyntheticImages.writeArrays(in: dir, train: 500, test: 128, side: 28, classes: 10)
        let config = try dir.write(
            Array(
                """
                data: {dataset: arrays, path: \(dir.file("train.npz")), test_path: \(dir.file("test.npz"))}
                model: {arch: 784-128-128-10, batch_norm: true}
                train: {epochs: 1, batch: 500}
                pruning: {preset: paper, rewind_step: 1, max_levels: 3}
                """.utf8), to: "bn.yaml")
        var runs: [[String: Data]] = []
        for threads in 1...3 {
            let out = dir.file("threads-\(threads)")
            let result = try SiftProcess.run(["imp", config, "--out", out, "--threads", String(threads)])
            #expect(result.status == 0, "\(result.stderr)")
            var files: [String: Data] = [:]
            for case let path as String in FileManager.default.enumerator(atPath: out)! where path.hasSuffix(".npy") {
                files[path] = FileManager.default.contents(atPath: "\(out)/\(path)")
            }
            runs.append(files)
        }
        #expect(runs[0].count == 4 * 21, "four levels of 21 arrays")
        let metrics = try JSONSerialization.jsonObject(
            with: FileManager.default.contents(atPath: dir.file("threads-1/level-3/metrics.json"))!)
        let densities = try #require((metrics as? [String: Any])?["density_layers"] as? [Double])
        #expect(
            densities[0] < 0.35 && densities[1] < 0.35, "level 3's hidden layers train on the sparse path: \(densities)"
        )
        #expect(runs[1] == runs[0] && runs[2] == runs[0])
    }

    @Test func badConfigsFailWithTheirLocation() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bad = try dir.write(Array("model:\n  arch: 16-2\ntrain:\n  lr: fast\n".utf8), to: "bad.yaml")
        let result = try SiftProcess.run(["imp", bad, "--out", dir.file("out")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.yaml:4:7: train.lr"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
    }

    @Test func benchPrintsOneJSONLine() throws {
        let result = try SiftProcess.run([
            "bench", "train", "--arch", "64-32-10", "--batch", "16", "--steps", "3", "--warmup", "1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n"))
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        for key in [
            "ms_per_step", "ms_per_step_mean", "stretch_seconds", "gflops", "sgemm_peak_gflops", "sgemm_limit_gflops",
        ] {
            #expect((json[key] as? Double ?? 0) > 0, "\(key)")
        }
    }

    /// Under a random mask below the threshold every layer goes sparse; at the same density with the
    /// sparse path switched off, none does.
    @Test func benchAtADensityTakesTheEnginesPath() throws {
        for (threshold, sparse) in [("0.25", 3), ("0", 0)] {
            let result = try SiftProcess.run([
                "bench", "train", "--arch", "64-32-16-10", "--batch", "16", "--steps", "3",
                "--density", "0.1", "--sparse-below", threshold,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            #expect(json["sparse_layers"] as? Int == sparse, "--sparse-below \(threshold)")
            #expect((json["ms_per_step"] as? Double ?? 0) > 0)
        }
        let bad = try SiftProcess.run(["bench", "train", "--density", "1.5"])
        #expect(bad.status != 0 && bad.stderr.contains("--density"))
    }
}
