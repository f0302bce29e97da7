import ArgumentParser
import Dispatch
import Foundation
import SiftCluster
import SiftSweep
import SiftWire

/// Options shared by the coordinator and the worker.
struct LivenessOptions: ParsableArguments {
    @Option(help: "Seconds between heartbeats.") var heartbeat = 1.0
    @Option(help: "Missed heartbeats before a peer is declared dead.") var liveness = 5

    var settings: ClusterSettings {
        var settings = ClusterSettings()
        settings.heartbeatInterval = heartbeat
        settings.liveness = liveness
        return settings
    }
}

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve a sweep's tasks to workers over ZeroMQ, keeping every result in DIR/sweep.sqlite.",
        discussion: """
        Today the coordinator serves the test task kind only (--sleep-tasks): protocol, fault and throughput \
        checks. Training sweeps run with `sift run` until IMP levels become coordinator tasks. Kill it at any \
        moment and start the same command again: finished tasks are kept, leased ones return to the queue.
        """)

    @Option(help: "Address to bind. Without CURVE keys, keep it on 127.0.0.1 unless the network is trusted.")
    var bind = "tcp://127.0.0.1:5555"
    @Option(help: "Folder for the store.") var out: String
    @Option(help: "Test mode: serve this many chains of sleep tasks.") var sleepTasks: Int
    @Option(help: "Test mode: levels per chain.") var sleepLevels = 1
    @Option(help: "Test mode: milliseconds each sleep task takes.") var sleepMs = 0
    @Option(help: "Attempts before a task is marked failed.") var maxAttempts = 3
    @OptionGroup var liveness: LivenessOptions

    func run() throws {
        if !bind.contains("127.0.0.1") && !bind.contains("localhost") {
            say("warning: binding \(bind) without CURVE keys: any host that reaches this port can take tasks")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let store = try TaskStore(path: "\(out)/sweep.sqlite")
        try store.add(SleepTasks.plan(chains: sleepTasks, levels: sleepLevels, milliseconds: sleepMs))
        var settings = liveness.settings
        settings.maxAttempts = maxAttempts
        let stop = StopFlag.onTermination()
        let start = Date()
        let coordinator = try Coordinator(store: store, context: ZeroMQContext(), bind: bind, settings: settings, log: say,
                                          onResult: { _, _, _ in })
        say("coordinator listening on \(coordinator.endpoint); store \(out)/sweep.sqlite")
        try coordinator.run(shouldStop: { stop.isSet })
        let c = coordinator.counters
        let seconds = Date().timeIntervalSince(start)
        say("recorded \(c.recorded), duplicates \(c.duplicates), dropped \(c.dropped), refused \(c.refused) in \(String(format: "%.2f", seconds)) s")
        if stop.isSet { throw ExitCode(130) }
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take tasks from a coordinator, one at a time, until the sweep is complete.",
        discussion: "Run several per node. On SIGTERM or SIGINT the worker finishes its task, reports it, then exits.")

    @Option(help: "Coordinator endpoint, e.g. tcp://node01:5555.") var connect: String
    @OptionGroup var liveness: LivenessOptions

    func run() throws {
        let stop = StopFlag.onTermination()
        let worker = Worker(endpoint: connect, context: ZeroMQContext(), settings: liveness.settings, executor: { assignment, _ in
            guard assignment.kind == SleepTasks.kind else { throw ValidationError("this worker cannot run \(assignment.kind) tasks") }
            return try SleepTasks.run(assignment)
        }, log: say)
        switch try worker.run(shouldStop: { stop.isSet }) {
        case .sweepComplete: say("sweep complete; worker exiting")
        case .stopped: say("stopped on request")
        case .refused(let reason):
            say("refused: \(reason)")
            throw ExitCode(3)
        }
    }
}
