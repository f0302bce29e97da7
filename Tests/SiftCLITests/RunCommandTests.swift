import Foundation
import SiftData
import SiftTestKit
import Testing

/// `sift run` expands a sweep and runs its chains as real child processes; `sift report` reads the result.
@Suite struct RunCommandTests {
    func writeSweep(in dir: TemporaryDirectory) throws -> String {
        try SyntheticImages.writeArrays(in: dir, train: 192, test: 64)
        let sweep = """
            name: cli sweep
            seeds: [0, 1]
            base:
              data:
                dataset: arrays
                path: \(dir.file("train.npz"))
                test_path: \(dir.file("test.npz"))
              model:
                arch: 16-8-2
              train:
                epochs: 1
                batch: 32
              pruning:
                preset: lth
                max_levels: 2
            variants:
              natural: {}
              scrambled:
                data:
                  scramble: true
            """
        return try dir.write(Array(sweep.utf8), to: "sweep.yaml")
    }

    @Test func runsEveryChainThenResumesWithoutRedoingAny() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sweep = try writeSweep(in: dir)
        let out = dir.file("out")
        let first = try SiftProcess.run(["run", sweep, "--out", out, "--workers", "2"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("2 experiment(s), 4 chain(s)"))
        #expect(first.stdout.contains("sweep complete"))

        let experiments = try FileManager.default.contentsOfDirectory(atPath: "\(out)/experiments")
        #expect(experiments.count == 2)
        for experiment in experiments {
            for seed in 0...1 {
                for level in 0...2 {
                    #expect(FileManager.default.fileExists(atPath: "\(out)/experiments/\(experiment)/seed-\(seed)/level-\(level)/mask-0.npy"))
                }
            }
        }
        let stamp = try FileManager.default.attributesOfItem(atPath: "\(out)/experiments/\(experiments[0])/seed-0/level-2/metrics.json")[.modificationDate] as? Date

        let second = try SiftProcess.run(["run", sweep, "--out", out, "--workers", "2"])
        #expect(second.status == 0)
        #expect(second.stdout.contains("4 already complete"))
        let again = try FileManager.default.attributesOfItem(atPath: "\(out)/experiments/\(experiments[0])/seed-0/level-2/metrics.json")[.modificationDate] as? Date
        #expect(stamp == again, "a complete chain must not be rerun")

        let report = try SiftProcess.run(["report", out])
        #expect(report.status == 0, "\(report.stderr)")
        let csv = try String(contentsOfFile: "\(out)/report/summary.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 2 * 2 * 3)
        #expect(csv.contains("scrambled") && csv.contains("natural"))
    }

    @Test func aFailingChainIsReportedWithItsLog() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sweep = try writeSweep(in: dir)
        try FileManager.default.removeItem(atPath: dir.file("test.npz"))
        let result = try SiftProcess.run(["run", sweep, "--out", dir.file("out"), "--workers", "2"])
        #expect(result.status != 0)
        #expect(result.stdout.contains("FAILED"))
        #expect(result.stdout.contains("log.txt"))
        let experiments = try FileManager.default.contentsOfDirectory(atPath: dir.file("out/experiments"))
        let log = try String(contentsOfFile: dir.file("out/experiments/\(experiments[0])/seed-0/log.txt"), encoding: .utf8)
        #expect(log.contains("test.npz"))
    }
}
