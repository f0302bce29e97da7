import Foundation
import SiftData
import SiftSweep
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
        #expect(first.stdout.contains("2 experiment(s), 12 level task(s)"))
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
        #expect(second.stdout.contains("12 already done"))
        let again = try FileManager.default.attributesOfItem(atPath: "\(out)/experiments/\(experiments[0])/seed-0/level-2/metrics.json")[.modificationDate] as? Date
        #expect(stamp == again, "a complete chain must not be rerun")

        let report = try SiftProcess.run(["report", out])
        #expect(report.status == 0, "\(report.stderr)")
        let csv = try String(contentsOfFile: "\(out)/report/summary.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 2 * 2 * 3)
        #expect(csv.contains("scrambled") && csv.contains("natural"))
    }

    /// Every .npy file under `root`, by path relative to it.
    func arrays(_ root: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: root)! where path.hasSuffix(".npy") {
            files[path] = FileManager.default.contents(atPath: "\(root)/\(path)")
        }
        return files
    }

    @Test func threeWaysOfRunningGiveIdenticalBytes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sweep = try writeSweep(in: dir)
        #expect(try SiftProcess.run(["run", sweep, "--out", dir.file("one"), "--workers", "1"]).status == 0)
        #expect(try SiftProcess.run(["run", sweep, "--out", dir.file("three"), "--workers", "3"]).status == 0)
        let port = 30_000 + Int(getpid() % 20_000)
        let coordinator = try ChildProcess(["coordinator", sweep, "--out", dir.file("distributed"), "--bind", "tcp://127.0.0.1:\(port)"],
                                           log: dir.file("coordinator.log"))
        let workers = try (0..<2).map { try ChildProcess(["worker", "--connect", "tcp://127.0.0.1:\(port)"], log: dir.file("worker-\($0).log")) }
        #expect(coordinator.wait(timeout: 120), "\(coordinator.log)")
        for worker in workers { #expect(worker.wait(timeout: 10)) }

        let reference = arrays(dir.file("one/experiments"))
        // Per level: mask, bias mask, weights and bias of 2 layers, 2 maps and the out-degree map;
        // per chain: the rewind point's weights and biases.
        #expect(reference.count == 12 * 11 + 4 * 4)
        #expect(arrays(dir.file("three/experiments")) == reference)
        #expect(arrays(dir.file("distributed/experiments")) == reference)
    }

    /// Faults on real training: a worker SIGKILLed mid-level, then the coordinator SIGKILLed and restarted.
    /// The sweep completes, finished levels are not redone, and every file matches an undisturbed run.
    @Test func killedWorkerAndCoordinatorChangeNoByte() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sweep = try writeSweep(in: dir)
        #expect(try SiftProcess.run(["run", sweep, "--out", dir.file("undisturbed"), "--workers", "2"]).status == 0)

        let port = 32_000 + Int(getpid() % 20_000)
        let arguments = ["coordinator", sweep, "--out", dir.file("faulty"), "--bind", "tcp://127.0.0.1:\(port)",
                         "--heartbeat", "0.2", "--liveness", "3"]
        var coordinator = try ChildProcess(arguments, log: dir.file("coordinator-1.log"))
        let victim = try ChildProcess(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--heartbeat", "0.2", "--liveness", "3"],
                                      log: dir.file("victim.log"))
        #expect(coordinator.waitForLog("ready", timeout: 10))
        usleep(300_000)
        victim.signal(SIGKILL)
        let survivor = try ChildProcess(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--heartbeat", "0.2", "--liveness", "3"],
                                        log: dir.file("survivor.log"))
        #expect(coordinator.waitForLog("ends its chain", timeout: 60), "some chain finished before the coordinator is killed")
        coordinator.signal(SIGKILL)
        coordinator.wait(timeout: 5)
        let finished = try TaskStore(path: dir.file("faulty/sweep.sqlite")).tasks(in: .done).map(\.id)
        coordinator = try ChildProcess(arguments, log: dir.file("coordinator-2.log"))
        #expect(coordinator.wait(timeout: 120), "the restarted coordinator completes the sweep")
        #expect(survivor.wait(timeout: 15), "the surviving worker reconnects and ends with the sweep")
        let store = try TaskStore(path: dir.file("faulty/sweep.sqlite"))
        #expect(try store.counts() == [.done: 12])
        #expect(!finished.isEmpty)
        #expect(coordinator.log.contains("recorded \(12 - finished.count),"), "levels finished before the kill are not run again")
        #expect(arrays(dir.file("faulty/experiments")) == arrays(dir.file("undisturbed/experiments")))
    }

    @Test func aFailingChainIsReportedWithItsLog() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sweep = try writeSweep(in: dir)
        try FileManager.default.removeItem(atPath: dir.file("test.npz"))
        let result = try SiftProcess.run(["run", sweep, "--out", dir.file("out"), "--workers", "2"])
        #expect(result.status != 0)
        #expect(result.stdout.contains("FAILED"))
        #expect(result.stdout.contains("test.npz"), "the failure names the missing file")
        #expect(result.stdout.contains("worker logs are in"))
        let store = try TaskStore(path: dir.file("out/sweep.sqlite"))
        #expect(try store.tasks(in: .failed).count == 4, "every chain's level 0 failed after its attempts")
        #expect(try store.tasks(in: .skipped).count == 8, "and the levels after them were skipped")
        let status = try SiftProcess.run(["status", dir.file("out")])
        #expect(status.status == 0)
        #expect(status.stdout.contains("4 failed") && status.stdout.contains("8 skipped"))
        #expect(status.stdout.contains("failures:") && status.stdout.contains("after 3 attempt(s)"))
    }
}
