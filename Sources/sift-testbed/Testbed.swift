import ArgumentParser
import Foundation
import SiftCluster
import SiftLevels
import SiftCommands
import SiftConfig
import SiftStore
import SiftTestKit

/// The test bed: a coordinator and a worker that also speak the test task kind (sleep tasks), a worker that
/// can be told to hang, and the coordinator benchmark. Protocol, fault and throughput checks (Scripts/ and
/// the CLI tests) run it; the shipped `sift` binary carries none of it.
@main
struct Testbed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sift-testbed",
        abstract:
            "Sift's test bed: sleep-task coordinators, workers that run them or hang, and the coordinator benchmark.",
        subcommands: [SleepCoordinator.self, TestbedWorker.self, CoordinatorBench.self])
}

/// `sift coordinator` serving chains of sleep tasks instead of a sweep.
struct SleepCoordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract:
            "Serve chains of sleep tasks (each sleeps, then returns its name) with every option of `sift coordinator`.")

    @OptionGroup var serving: CoordinatorOptions
    @Option(help: "Chains of sleep tasks to serve.") var sleepTasks: Int
    @Option(help: "Levels per chain.") var sleepLevels = 1
    @Option(help: "Milliseconds each sleep task takes.") var sleepMs = 0
    @Flag(help: "Write each sleep task's result files under OUT/sleep, as a level's are (for load tests).")
    var sleepWrite = false
    @Option(help: "Stop when this process (the benchmark that started this coordinator) is gone.") var parent: Int32?

    func validate() throws {
        try OptionBounds.check(sleepTasks, in: 1...1_000_000, "--sleep-tasks")
        try OptionBounds.check(sleepLevels, in: 1...1_000, "--sleep-levels")
        try OptionBounds.check(sleepMs, in: 0...86_400_000, "--sleep-ms")
    }

    func run() throws {
        let description = "--sleep-tasks \(sleepTasks) --sleep-levels \(sleepLevels) --sleep-ms \(sleepMs)"
        let provenance = Provenance(
            sweepFile: description, sweepDigest: description, build: SiftBuild.identifier)
        let out = serving.out, write = sleepWrite, parent = self.parent
        try serving.serve(
            plan: SleepTasks.plan(chains: sleepTasks, levels: sleepLevels, milliseconds: sleepMs),
            provenance: provenance, levels: nil,
            storeOther: { task, files in if write { try SleepTasks.store(task, attachments: files, root: out) } },
            shouldStop: { parent.map { getppid() != $0 } ?? false })
    }
}

/// `sift worker` that also runs sleep tasks, and with `--hang` stops a level's training for good at a given
/// step (as a deadlocked trainer would) while its heartbeats go on; only a task's first attempt hangs, so the
/// restarted worker, or another, finishes the retry.
struct TestbedWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run sweep levels and sleep tasks with every option of `sift worker`.")

    @OptionGroup var options: WorkerOptions
    @Option(help: "LEVEL:STEP: hang the first attempt of any level LEVEL's training at step STEP.") var hang: String?

    func run() throws {
        var afterStep: (@Sendable (Int, Int, Int) -> Void)?
        if let hang {
            let parts = hang.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2 else { throw ValidationError("--hang takes LEVEL:STEP, e.g. 1:3") }
            let (level, step) = (parts[0], parts[1])
            // Only a task's first attempt hangs: its retry (on this worker, restarted, or another) runs through.
            afterStep = { at, attempt, now in while at == level && attempt == 1 && now == step { sleep(3600) } }
        }
        try options.run(
            levels: LevelTaskRunner(afterStep: afterStep),
            otherKinds: [SleepTasks.kind: { assignment, _, _ in try SleepTasks.run(assignment) }])
    }
}
