import ArgumentParser
import Foundation
import SiftCluster
import SiftSweep
import SiftWire

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep on this machine: a coordinator and N local workers in one process tree.",
        discussion: """
        The same coordinator, store and artifacts as the distributed mode (`sift coordinator` with `sift worker` \\
        on other nodes): every IMP level is a task, results land in OUT/experiments/<hash>/seed-<s>/level-<k>/ \\
        and task states in OUT/sweep.sqlite. Run the same command again to resume: finished levels are kept. \\
        Worker logs are in OUT/workers/. Then run `sift report OUT`.
        """)

    @Argument(help: "Sweep or experiment config (YAML).") var config: String
    @Option(help: "Local worker processes (default: the number of cores).") var workers: Int?
    @Option(help: "Output folder (default: runs/<sweep name>).") var out: String?
    @Option(help: "BLAS threads per worker.") var threads = 1
    @OptionGroup var liveness: LivenessOptions

    func run() throws {
        let sweep = try SweepConfig.load(path: config)
        let stem = ((config as NSString).lastPathComponent as NSString).deletingPathExtension
        let root = out ?? "runs/\(sweep.name.map { $0.replacingOccurrences(of: " ", with: "-") } ?? stem)"
        try FileManager.default.createDirectory(atPath: "\(root)/workers", withIntermediateDirectories: true)
        let tasks = LevelTasks(sweep: sweep, layout: SweepLayout(root: root))
        let store = try TaskStore(path: "\(root)/sweep.sqlite")
        try store.add(try tasks.plan())
        let stop = StopFlag.onTermination()
        let coordinator = try Coordinator(
            store: store, context: ZeroMQContext(), bind: "tcp://127.0.0.1:0", settings: liveness.settings, log: { _ in },
            prepare: { try tasks.prepare($0) }, onResult: { try tasks.store($0, result: $1, attachments: $2) })
        let counts = try store.counts()
        let count = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
        say("sweep \(sweep.name ?? stem): \(sweep.experiments.count) experiment(s), \(counts.values.reduce(0, +)) level task(s)"
            + ((counts[.done] ?? 0) > 0 ? ", \(counts[.done]!) already done" : "") + "; \(count) local worker(s); output in \(root)")
        let children = try (0..<count).map { i in
            try LocalWorker(endpoint: coordinator.endpoint, threads: threads, liveness: liveness, log: "\(root)/workers/worker-\(i).log")
        }
        defer { children.forEach { $0.stop() } }
        let progress = SweepProgress(store: store)
        try coordinator.run(shouldStop: { stop.isSet }, onTick: { progress.show(workers: coordinator.workerCount) })
        progress.finish()
        if stop.isSet {
            say("stopped; run the same command again to resume")
            throw ExitCode(130)
        }
        let failed = try store.tasks(in: .failed)
        for task in failed { say("FAILED \(task.id): \(task.error ?? "no reason recorded")") }
        guard failed.isEmpty else {
            say("\(failed.count) level(s) failed (levels after them were skipped); worker logs are in \(root)/workers/")
            throw ExitCode(1)
        }
        say("sweep complete. Next: sift report \(root)")
    }
}

/// A `sift worker` child process of `sift run`.
final class LocalWorker {
    let process = Process()

    init(endpoint: String, threads: Int, liveness: LivenessOptions, log: String) throws {
        // An empty log; opening it for writing below reports any failure.
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        // /proc/self/exe is this very binary, even if the file is rebuilt meanwhile.
        let executable = FileManager.default.fileExists(atPath: "/proc/self/exe") ? "/proc/self/exe" : CommandLine.arguments[0]
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker", "--connect", endpoint, "--threads", String(threads),
                             "--heartbeat", String(liveness.heartbeat), "--liveness", String(liveness.liveness)]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Workers leave on their own when told the sweep is complete; otherwise they are stopped.
    func stop() {
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// The status line of `sift run`: tasks by state, workers alive, throughput and ETA.
final class SweepProgress {
    let store: TaskStore
    let start = Date()
    let initiallyDone: Int
    private let interactive = isatty(STDOUT_FILENO) != 0
    private var lastDone = -1

    init(store: TaskStore) {
        self.store = store
        initiallyDone = (try? store.counts())?[.done] ?? 0
    }

    func show(workers: Int) {
        guard let counts = try? store.counts() else { return }
        let done = counts[.done] ?? 0, leased = counts[.leased] ?? 0
        let waiting = (counts[.queued] ?? 0) + (counts[.blocked] ?? 0)
        let elapsed = Date().timeIntervalSince(start)
        let finishedHere = done - initiallyDone
        let perMinute = elapsed > 0 ? Double(finishedHere) / elapsed * 60 : 0
        let eta = finishedHere > 0 ? elapsed * Double(waiting + leased) / Double(finishedHere) : nil
        let line = "levels: \(done) done · \(leased) running · \(waiting) waiting · \(counts[.failed] ?? 0) failed"
            + " · \(counts[.skipped] ?? 0) not needed · workers \(workers) · \(String(format: "%.1f", perMinute))/min · \(clockText(elapsed))"
            + (eta.map { " · ETA ~\(clockText($0))" } ?? "")
        if interactive {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
        } else if done != lastDone {
            say(line)
        }
        lastDone = done
    }

    func finish() {
        if interactive { say("") }
    }
}
