import Foundation
import ArgumentParser
import Logging
import SiftCluster
import SiftLevels
import SiftStore
import SiftConfig
import SiftEngine
import SiftWire

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep on this machine: a coordinator and N local workers in one process tree.",
        discussion: """
            The same coordinator, store and artifacts as the distributed mode (`sift coordinator` with `sift worker` \
            on other nodes): every IMP level is a task, results land in OUT/experiments/<hash>/seed-<s>/level-<k>/ \
            and task states in OUT/sweep.sqlite. Run the same command again to resume: finished levels are kept. \
            A worker that dies is restarted; Ctrl-C stops everything within seconds. The coordinator's log is \
            OUT/coordinator.log, the workers' logs are in OUT/workers/. Then run `sift report OUT`.

            Exit status: 0 when every chain finished or diverged, 2 when some level failed (rerun with \
            --retry-failed once the cause is fixed), 130 when stopped, 1 on any other error.
            """)

    @Argument(help: "Sweep or experiment config (YAML).") var config: String
    @Option(
        help:
            "Local worker processes (default: one per chain that has levels to run, up to the cores; at most 4 per core without --force)."
    )
    var workers: Int?
    @Flag(help: "Allow more than 4 local workers per core (up to 1,024).") var force = false
    @Option(help: "Output folder (default: runs/<sweep name>).") var out: String?
    @Option(
        help:
            "Threads per worker, or `auto`: each worker running a level takes an even share of the cores the idle ones leave (the bytes are the same at any count)."
    )
    var threads: ThreadCount = .auto
    @OptionGroup var resume: ResumeOptions
    @OptionGroup var liveness: LivenessOptions
    @OptionGroup var watchdog: WatchdogOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var reporting: ReportOptions

    func validate() throws {
        if let workers {
            try OptionBounds.check(
                workers, in: OptionBounds.workers(forced: force), "--workers",
                hint: force ? "" : " (this machine has \(AvailableCores.count) cores; --force allows up to 1,024)")
        }
        try threads.validate()
    }

    func run() throws {
        let sweep = try SweepConfig.load(path: config)
        let stem = ((config as NSString).lastPathComponent as NSString).deletingPathExtension
        let root = out ?? "runs/\(sweep.name.map { $0.replacingOccurrences(of: " ", with: "-") } ?? stem)"
        let tasks = LevelTasks(sweep: sweep, layout: SweepLayout(root: root))
        // The plan is checked before anything is written.
        let plan = try tasks.plan()
        var settings = liveness.settings
        // The workers of an earlier `sift run` on this folder ended with it: no lease of theirs will be finished.
        settings.leasesOutliveRestart = false
        watchdog.apply(to: &settings)
        let provenance = Provenance(sweepFile: config, sweepDigest: sweep.digest, build: settings.build)
        let folder = try SweepFolder(
            root: root, subfolders: ["workers"], plan: plan, provenance: provenance, resume: resume)
        defer { withExtendedLifetime(folder) {} }
        let store = folder.store
        let stop = StopFlag.onTermination()
        let log = Logger.lines(
            "coordinator", to: try LineLogHandler.Sink(appendingTo: "\(root)/coordinator.log"), level: logging.logLevel)
        try tasks.recomputeLostLevels(in: store) { line in
            say("warning: \(line)")
            log.warning("\(line)")
        }
        settings.limitMessages(to: tasks)
        let coordinator = try Coordinator(
            store: store, context: ZeroMQContext(), bind: "tcp://127.0.0.1:0", settings: settings, log: log,
            prepare: { try tasks.prepare($0) }, onResult: { try tasks.store($0, result: $1, attachments: $2) })
        let counts = try store.counts()
        let openChains = Set(try store.pendingTasks().map { "\($0.experiment)/\($0.seed)" }).count
        let count = workers ?? CoreSharing.workers(cores: AvailableCores.count, openChains: openChains)
        let threadText =
            threads == .auto
            ? ", sharing \(AvailableCores.count) cores" : threads == .fixed(1) ? "" : " of \(threads) threads"
        say(
            "sweep \(sweep.name ?? stem): \(sweep.experiments.count) experiment(s), \(counts.values.reduce(0, +)) level task(s)"
                + ((counts[.done] ?? 0) > 0 ? ", \(counts[.done] ?? 0) already done" : "")
                + "; \(count) local worker(s)\(threadText); output in \(root)")
        if let advice = BLASKernelAdvice.forThisProcess {
            say("warning: \(advice)")
            log.warning("\(advice)")
        }
        let children = try LocalWorkers(
            count: count, endpoint: coordinator.endpoint, threads: threads.description, liveness: liveness,
            logLevel: logging.logLevel, logFolder: "\(root)/workers",
            say: { line in
                say(line); log.warning("\(line)")
            })
        // However the loop ends (finished, stopped, or an error such as a full disk), the workers are stopped.
        defer { children.stop() }
        let progress = SweepProgress(store: store)
        defer { progress.finish() }
        let report = ReportRefresher(root: root, store: store, interval: reporting.reportEvery, log: log)
        let host = ProcessInfo.processInfo.hostName
        var supervisionError: Error?
        let finished = try coordinator.run(
            shouldStop: { stop.isSet || supervisionError != nil },
            onTick: {
                do {
                    try children.supervise { pid, cause in
                        try coordinator.workerExited(host: host, pid: pid, cause: cause)
                    }
                } catch {
                    supervisionError = error
                }
                progress.show(workers: coordinator.workerCount)
                report.tick()
            })
        progress.finish()
        report.finish()
        if let supervisionError { throw supervisionError }
        guard finished else {
            say("stopped; run the same command again to resume")
            throw ExitCode(SweepOutcome.stopped)
        }
        let status = try SweepOutcome.report(
            store, output: root, retryHint: "run the same command with --retry-failed.")
        guard status == 0 else { throw ExitCode(status) }
        say("sweep complete; report: \(root)/report/index.html (rewrite it with `sift report \(root)`)")
    }
}

/// The status line of `sift run`: levels by state, the running levels' progress, workers, throughput and ETA.
/// On a terminal one line redrawn in place; on a pipe a plain line when the counts change, at most one
/// every 5 s, and one a minute regardless.
final class SweepProgress {
    let store: TaskStore
    let start = Date()
    let initiallyDone: Int
    private let interactive = isatty(STDOUT_FILENO) != 0
    private var lastStates = ""
    private var lastPrinted = Date.distantPast
    /// The full status (running levels, ETA) costs a scan of the pending tasks: taken every few seconds.
    private var status: SweepStatus?
    private var statusTaken = Date.distantPast

    init(store: TaskStore) {
        self.store = store
        initiallyDone = (try? store.counts())?[.done] ?? 0
    }

    func show(workers: Int) {
        let now = Date()
        if now.timeIntervalSince(statusTaken) >= 5 {
            status = try? SweepStatus(store: store)
            statusTaken = now
        }
        guard let counts = try? store.counts() else { return }
        func n(_ state: TaskState) -> Int { counts[state] ?? 0 }
        let tally = TaskTally(counts)
        let elapsed = now.timeIntervalSince(start)
        let perMinute = elapsed > 0 ? Double(tally.finished - initiallyDone) / elapsed * 60 : 0
        var states = "levels: \(n(.done)) done · \(tally.running) running · \(tally.waiting) waiting"
        if n(.diverged) > 0 { states += " · \(n(.diverged)) diverged" }
        states += " · \(n(.failed)) failed"
        if n(.skipped) > 0 { states += " · \(n(.skipped)) skipped after a failure" }
        states += " · \(n(.unneeded)) not needed"
        var line = states + " · workers \(workers) · \(String(format: "%.1f", perMinute))/min · \(clockText(elapsed))"
        if let level = status?.running.compactMap({ running in running.progress.map { (running.task, $0) } }).first,
            level.1.phase == .training
        {
            line +=
                " · " + level.0.split(separator: "/").suffix(2).joined(separator: " ") + " "
                + progressBar(level.1.fraction, width: 10)
                + String(format: " %.0f%%", level.1.fraction * 100)
                + (level.1.loss.map { String(format: " loss %.3g", $0) } ?? "")
        }
        if let left = status?.secondsLeft, tally.waiting + tally.running > 0 {
            // Until deeper, sparser levels are measured, they are costed as the deepest measured one: at most.
            line +=
                status?.secondsLeftIsUpperBound == true ? " · ETA ≤ \(clockText(left))" : " · ETA ~\(clockText(left))"
        }
        if interactive {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
        } else if (states != lastStates && now.timeIntervalSince(lastPrinted) >= 5)
            || now.timeIntervalSince(lastPrinted) >= 60
        {
            say(line)
            lastPrinted = now
            lastStates = states
        }
        if interactive { lastStates = states }
    }

    /// Ends the updating line (once), so that what follows starts on a line of its own.
    func finish() {
        if interactive && !lastStates.isEmpty { say("") }
        lastStates = ""
    }
}
