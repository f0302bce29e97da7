import Foundation
import ArgumentParser
import Dispatch
import Logging
import SiftCluster
import SiftLevels
import SiftEngine
import SiftStore
import SiftConfig
import SiftWire

/// Options shared by the coordinator and the worker.
struct LivenessOptions: ParsableArguments {
    @Option(help: "Seconds between heartbeats.") var heartbeat = 1.0
    @Option(help: "Missed heartbeats before a peer is declared dead.") var liveness = 5

    func validate() throws {
        try OptionBounds.check(heartbeat, in: 0.01...3600, "--heartbeat")
        try OptionBounds.check(liveness, in: 1...1_000, "--liveness")
    }

    var settings: ClusterSettings {
        var settings = ClusterSettings(build: SiftBuild.identifier)
        settings.heartbeatInterval = heartbeat
        settings.liveness = liveness
        return settings
    }
}

/// What a run may do to an output folder that exists: re-queue failures, extend the sweep, change builds.
struct ResumeOptions: ParsableArguments {
    @Flag(help: "Put failed levels, and the levels skipped because of them, back in the queue; finished levels stay.")
    var retryFailed = false
    @Flag(help: "Add the sweep's new experiments to an existing output folder (refused without it).") var extend = false
    @Flag(help: "Go on with an output folder that another build of sift ran (its levels may differ byte for byte).")
    var allowOtherBuild = false
}

/// How much the coordinator and the workers log.
struct LogOptions: ParsableArguments {
    @Option(help: "Least level logged: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// How often a running sweep rewrites OUT/report/.
struct ReportOptions: ParsableArguments {
    @Option(help: "Seconds between rewrites of OUT/report/ while the sweep runs (0: only at the end).")
    var reportEvery = 600.0

    func validate() throws {
        try OptionBounds.check(reportEvery, in: 0...1e7, "--report-every")
    }
}

/// When a training counts as hung: its step counter still for many of its own steps, with a floor.
struct WatchdogOptions: ParsableArguments {
    @Option(
        help:
            "A level whose training step has not moved for this many of its own step times is hung: its lease is revoked and the level goes to another worker."
    )
    var hungAfterSteps = 100.0
    @Option(help: "…but never sooner than this many seconds.") var hungAfterSeconds = 300.0

    func validate() throws {
        try OptionBounds.check(hungAfterSteps, in: 1...1e9, "--hung-after-steps")
        try OptionBounds.check(hungAfterSeconds, in: 1...1e7, "--hung-after-seconds")
    }

    func apply(to settings: inout ClusterSettings) {
        settings.hungAfterSteps = hungAfterSteps
        settings.hungAfterSeconds = hungAfterSeconds
    }
}

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve a sweep's IMP levels to workers over ZeroMQ, keeping every result in OUT.",
        discussion: """
            Each level is a task; it carries its masks and rewind point, so workers need no shared filesystem. \
            Results land in OUT/experiments/<hash>/seed-<s>/level-<k>/ (read them with `sift report OUT`), and \
            the task states in OUT/sweep.sqlite. Kill the coordinator at any moment and start the same command \
            again: finished levels are kept, leased ones return to the queue, and results their workers still \
            send are accepted.

            A task that fails on a worker's host (its data, say) is retried on another worker, up to \
            --max-attempts such failures; a worker that fails twice in a row is set aside for a while (a restart \
            remembers it). A task \
            whose own inputs are at fault fails at once. A lease lost with its worker (killed, partitioned, or a \
            coordinator restart) costs the task nothing, up to --max-lost-leases deaths of workers holding it.

            Exit status: 0 when every chain finished or diverged, 2 when some level failed (start it again with \
            --retry-failed once the cause is fixed), 130 when stopped, 1 on any other error.
            """)

    @Argument(help: "Sweep or experiment config (YAML).") var sweep: String
    @OptionGroup var serving: CoordinatorOptions

    func run() throws {
        // The plan is read and checked before anything is written.
        let config = try SweepConfig.load(path: sweep)
        let levels = LevelTasks(sweep: config, layout: SweepLayout(root: serving.out))
        let provenance = Provenance(
            sweepFile: sweep, sweepDigest: config.digest, build: SiftBuild.identifier)
        try serving.serve(plan: try levels.plan(), provenance: provenance, levels: levels)
    }
}

/// Everything `sift coordinator` takes but the sweep: where to serve, what to keep, how to judge workers.
/// A group of its own so that the test bed's coordinator (sleep tasks) serves with the same options.
package struct CoordinatorOptions: ParsableArguments {
    @Option(help: "Address to bind. Without CURVE keys, keep it on 127.0.0.1 unless the network is trusted.")
    var bind = "tcp://127.0.0.1:5555"
    @Option(help: "Output folder: the store and every level's files.") package var out: String
    @Option(help: "Failures on workers' hosts before a task is marked failed.") var maxAttempts = 3
    @Option(help: "Leases a task may lose with the worker holding them before it is marked failed.") var maxLostLeases =
        8
    @OptionGroup var resume: ResumeOptions
    @Option(help: "CURVE secret key file of the coordinator (`sift keygen`): encrypts and authenticates all traffic.")
    var curveSecret: String?
    @Option(help: "With --curve-secret: file of worker public keys allowed in, one per line.") var allow: String?
    @OptionGroup var liveness: LivenessOptions
    @OptionGroup var watchdog: WatchdogOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var reporting: ReportOptions

    package init() {}

    package func validate() throws {
        try OptionBounds.check(maxAttempts, in: 1...100, "--max-attempts")
        try OptionBounds.check(maxLostLeases, in: 1...1_000, "--max-lost-leases")
    }

    /// Serves `plan` from OUT until every task is settled or a signal (or `shouldStop`) stops it, then says how
    /// the sweep ended through the exit status. `levels` prepares and stores level tasks; without it, tasks
    /// carry their parameters alone and `storeOther` writes their results.
    package func serve(
        plan: [PlannedTask], provenance: Provenance, levels: LevelTasks?,
        storeOther: @escaping @Sendable (TaskRecord, [[UInt8]]) throws -> Void = { _, _ in },
        shouldStop: @escaping () -> Bool = { false }
    ) throws {
        var security: Coordinator.Security?
        switch (curveSecret, allow) {
        case let (secret?, allow?):
            security = Coordinator.Security(
                secretKey: try readSecretKey(secret),
                allowedWorkers: Set(try readKeys(allow, what: "allow-list")))
        case (nil, nil):
            if !bind.contains("127.0.0.1") && !bind.contains("localhost") {
                say(
                    "warning: binding \(bind) without CURVE keys: any host that reaches this port can take tasks and send results"
                )
            }
        default:
            throw ValidationError("--curve-secret and --allow go together")
        }
        var settings = liveness.settings
        watchdog.apply(to: &settings)
        let folder = try SweepFolder(root: out, plan: plan, provenance: provenance, resume: resume)
        defer { withExtendedLifetime(folder) {} }
        let store = folder.store
        settings.retryLimits = RetryLimits(hostFailures: maxAttempts, lostLeases: maxLostLeases)
        if let levels { settings.limitMessages(to: levels) }
        let stop = StopFlag.onTermination()
        let start = Date()
        let log = Logger.lines("coordinator", to: .standardOutput, level: logging.logLevel)
        try levels?.recomputeLostLevels(in: store) { log.warning("\($0)") }
        let coordinator = try Coordinator(
            store: store, context: ZeroMQContext(), bind: bind, settings: settings, security: security,
            log: log,
            prepare: { task in try levels?.prepare(task) ?? (task.parameters, []) },
            onResult: { task, result, files in
                if let levels { return try levels.store(task, result: result, attachments: files) }
                try storeOther(task, files)
                return .continues
            })
        say(
            "coordinator listening on \(coordinator.endpoint)"
                + (security.map { " with CURVE, \($0.allowedWorkers.count) worker key(s) allowed" } ?? "")
                + "; store \(folder.storePath)")
        let report = levels.map { _ in
            ReportRefresher(root: out, store: store, interval: reporting.reportEvery, log: log)
        }
        let finished = try coordinator.run(shouldStop: { stop.isSet || shouldStop() }, onTick: { report?.tick() })
        report?.finish()
        let c = coordinator.counters
        let seconds = Date().timeIntervalSince(start)
        var summary =
            "recorded \(c.recorded), duplicates \(c.duplicates), dropped \(c.dropped), refused \(c.refused), store commits \(c.commits) in \(String(format: "%.2f", seconds)) s"
        if let first = c.firstDispatch, c.recorded > 0 {
            let rate = Double(c.recorded) / Date().timeIntervalSince(first)
            summary +=
                rate >= 10
                ? String(format: "; %.0f tasks/s", rate) : String(format: "; %.2f tasks/s (%.1f/min)", rate, rate * 60)
            summary += " from the first dispatch"
        }
        say(summary)
        guard finished else { throw ExitCode(SweepOutcome.stopped) }
        let status = try SweepOutcome.report(
            store, output: out, retryHint: "start the same command with --retry-failed.")
        if status != 0 { throw ExitCode(status) }
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take tasks from a coordinator, one at a time, until the sweep is complete.",
        discussion: """
            Run several per node. On SIGTERM or SIGINT the worker finishes its task, reports it, then exits; it \
            exits without reporting if the coordinator has been silent for the liveness period, and at once on a \
            second signal (the task's lease is then lost, at no cost to the task). A task that fails because of \
            this node (its data files, say) is retried on another worker. SIFT_FASHION_MNIST points a node's \
            workers at its own copy of Fashion-MNIST.
            """)

    @OptionGroup var options: WorkerOptions

    func run() throws { try options.run() }
}

/// What `sift worker` takes, and its loop: a group of its own so that the test bed's worker (which also runs
/// sleep tasks, and can be told to hang) works with the same options.
package struct WorkerOptions: ParsableArguments {
    @Option(help: "Coordinator endpoint, e.g. tcp://node01:5555.") var connect: String
    @Option(
        help:
            "Threads for a level's products, sparse kernels and analyses, or `auto`: an even share of this node's cores (its CPU affinity set) among the workers on it that are running a level, recounted every 2 s, so that workers left running as a sweep drains take the cores of idle ones. The bytes are the same at any count."
    )
    var threads: ThreadCount = .fixed(1)
    @Option(help: "CURVE secret key file of this worker (`sift keygen`).") var curveSecret: String?
    @Option(help: "With --curve-secret: the coordinator's public key file.") var serverKey: String?
    @Option(
        help: ArgumentHelp(
            "Exit at once when this process (the `sift run` that started it) is gone.", visibility: .hidden))
    var parent: Int32?
    @OptionGroup var liveness: LivenessOptions
    @OptionGroup var logging: LogOptions

    package init() {}

    package func validate() throws {
        try threads.validate()
    }

    /// Takes tasks until the sweep is complete or a signal stops it. Level tasks run on `levels`; a kind in
    /// `otherKinds` runs on its executor.
    package func run(levels: LevelTaskRunner = LevelTaskRunner(), otherKinds: [TaskKind: Worker.Executor] = [:]) throws
    {
        if case .fixed(let count) = threads { BLAS.threads = count }
        if let advice = BLASKernelAdvice.forThisProcess { say("warning: \(advice)") }
        let cores = threads == .auto ? try NodeCores() : nil
        let recount = cores.map(Self.recountThreads)
        defer { recount?.cancel() }
        var curve: (serverKey: String, keys: CurveKeyPair)?
        switch (curveSecret, serverKey) {
        case let (secret?, server?):
            curve = (
                try readKeys(server, what: "server key")[0], try CurveKeyPair(secretKey: try readSecretKey(secret))
            )
        case (nil, nil): break
        default: throw ValidationError("--curve-secret and --server-key go together")
        }
        let stop = StopFlag.onTermination()
        let worker = Worker(
            endpoint: connect, context: ZeroMQContext(), settings: liveness.settings, curve: curve,
            executor: { assignment, attachments, progress in
                if assignment.kind == LevelTasks.kind {
                    cores?.working()
                    defer { cores?.idle() }
                    if let cores { BLAS.threads = cores.threads() }
                    return try levels.run(assignment, attachments: attachments, board: progress)
                }
                guard let executor = otherKinds[assignment.kind] else {
                    throw CommandFailure(
                        "this worker cannot run \(assignment.kind) tasks; is it older than the coordinator?")
                }
                return try executor(assignment, attachments, progress)
            }, log: Logger.lines("worker", to: .standardOutput, level: logging.logLevel))
        // Checked every turn of the worker's loop (100 ms at most): a parent that is gone leaves us
        // re-parented, and a `sift run` that was SIGKILLed must not leave workers behind.
        let parent = self.parent
        let abandon: () -> String? = {
            if stop.isUrgent { return "asked to stop a second time" }
            if let parent, getppid() != parent {
                return "the sift run that started this worker (pid \(parent)) is gone"
            }
            return nil
        }
        switch try worker.run(shouldStop: { stop.isSet }, shouldAbandon: abandon) {
        case .sweepComplete: say("sweep complete; worker exiting")
        case .stopped: say("stopped on request")
        case .abandoned(let reason):
            say("left: \(reason)")
            throw ExitCode(SweepOutcome.stopped)
        case .refused(let reason):
            say("refused: \(reason)")
            throw ExitCode(3)
        case .revoked(let reason):
            // A hung thread cannot be stopped from outside: this process image is replaced by a fresh one,
            // same pid and arguments, so every deployment (Slurm, ssh, systemd, sift run) keeps its worker.
            say("left: \(reason); starting afresh")
            var argv = CommandLine.arguments.map { strdup($0) } + [nil]
            execv("/proc/self/exe", &argv)
            say("cannot start afresh (\(String(cString: strerror(errno)))); exiting")
            throw ExitCode(4)
        }
    }

    /// With `--threads auto`: the worker's thread count follows its share of the node's cores every 2 s,
    /// mid-level too (a level's products and passes read it at each call).
    private static func recountThreads(_ cores: NodeCores) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 2, repeating: 2)
        timer.setEventHandler { BLAS.threads = cores.threads() }
        timer.resume()
        return timer
    }
}
