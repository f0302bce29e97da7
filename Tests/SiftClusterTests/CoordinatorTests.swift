import Foundation
import Logging
import SiftCluster
import SiftStore
import SiftConfig
import SiftTestKit
import SiftWire
import Testing

/// Coordinator and workers in one process (each on its own thread, as sockets require), over loopback.
@Suite(.serialized) struct CoordinatorTests {
    static let sleeper: Worker.Executor = { assignment, _, _ in try SleepTasks.run(assignment) }

    /// What a test collects: log lines, or results by task.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        let log = InMemoryLogHandler.Lines()
        func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines + log.all }
        var logger: Logger { InMemoryLogHandler.logger(log) }
    }

    /// What a background thread ended with, read by the test with a deadline.
    final class Outcome<Value: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private let finished = DispatchSemaphore(value: 0)
        private var result: Result<Value, Error>?

        func finish(_ body: () throws -> Value) {
            let value = Result { try body() }
            lock.lock(); result = value; lock.unlock()
            finished.signal()
        }

        /// The thread's value, or an error if it threw or did not finish within `timeout` seconds.
        func wait(timeout: Double = 60) throws -> Value {
            guard finished.wait(timeout: .now() + timeout) == .success else { throw TimedOut(seconds: timeout) }
            lock.lock(); defer { lock.unlock() }
            return try result!.get()
        }
    }

    struct TimedOut: Error { var seconds: Double }

    /// Runs a coordinator on a background thread; returns its endpoint and its outcome (its counters).
    static func startCoordinator(
        store: TaskStore, settings: ClusterSettings, log: Lines,
        results: Lines
    ) throws -> (endpoint: String, outcome: Outcome<Coordinator.Counters>) {
        let context = ZeroMQContext()
        let coordinator = try Coordinator(
            store: store, context: context, bind: "tcp://127.0.0.1:0", settings: settings,
            log: log.logger,
            onResult: { task, _, files in
                results.add(task.id + "=" + String(decoding: files[0], as: UTF8.self))
                return .continues
            })
        let outcome = Outcome<Coordinator.Counters>()
        nonisolated(unsafe) let serving = coordinator
        Thread.detachNewThread {
            outcome.finish {
                try serving.run()
                return serving.counters
            }
        }
        return (coordinator.endpoint, outcome)
    }

    /// Starts `count` sleep-task workers on threads of their own; the outcome is each worker's exit.
    static func startWorkers(
        _ count: Int, endpoint: String, settings: ClusterSettings, log: Lines
    ) -> [Outcome<Worker.Exit>] {
        (0..<count).map { i in
            let outcome = Outcome<Worker.Exit>()
            Thread.detachNewThread {
                outcome.finish {
                    try Worker(
                        endpoint: endpoint, context: ZeroMQContext(), settings: settings, executor: sleeper,
                        log: log.logger,
                        instance: Int32(1000 + i)
                    ).run()
                }
            }
            return outcome
        }
    }

    @Test func everyTaskRunsOnceAcrossThreeWorkers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TaskStore(path: dir.file("sweep.sqlite"))
        try store.add(SleepTasks.plan(chains: 4, levels: 3, milliseconds: 20))
        var settings = ClusterSettings(build: "sift-test")
        settings.heartbeatInterval = 0.2
        let log = Lines(), results = Lines()
        let (endpoint, coordinator) = try Self.startCoordinator(
            store: store, settings: settings, log: log, results: results)
        let workers = Self.startWorkers(3, endpoint: endpoint, settings: settings, log: log)
        let counters = try coordinator.wait()
        for worker in workers {
            #expect(try worker.wait(timeout: 10) == .sweepComplete, "workers exit when the sweep is complete")
        }
        #expect(try store.counts() == [.done: 12])
        #expect(counters.recorded == 12)
        #expect(Set(results.all).count == 12 && results.all.count == 12, "each result recorded exactly once")
        #expect(results.all.allSatisfy { $0.hasPrefix($0.split(separator: "=")[1]) })
    }

    @Test func aWorkerOfAnotherBuildIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TaskStore(path: dir.file("sweep.sqlite"))
        try store.add(SleepTasks.plan(chains: 1, levels: 2, milliseconds: 1))
        var settings = ClusterSettings(build: "sift-test")
        settings.heartbeatInterval = 0.2
        let log = Lines(), results = Lines()
        let (endpoint, coordinator) = try Self.startCoordinator(
            store: store, settings: settings, log: log, results: results)
        var stale = settings
        stale.build = "sift-0.0.1-old"
        let exit = try Worker(
            endpoint: endpoint, context: ZeroMQContext(), settings: stale, executor: Self.sleeper, log: log.logger
        ).run()
        #expect(exit == .refused("worker build sift-0.0.1-old differs from the coordinator's \(settings.build)"))
        #expect(log.all.contains { $0.contains("refused worker") })
        let workers = Self.startWorkers(1, endpoint: endpoint, settings: settings, log: log)
        _ = try coordinator.wait()
        #expect(try workers[0].wait(timeout: 10) == .sweepComplete)
        #expect(try store.counts() == [.done: 2])
    }

    @Test func garbageLeavesTheCoordinatorServing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TaskStore(path: dir.file("sweep.sqlite"))
        try store.add(SleepTasks.plan(chains: 2, levels: 2, milliseconds: 5))
        var settings = ClusterSettings(build: "sift-test")
        settings.heartbeatInterval = 0.2
        let log = Lines(), results = Lines()
        let (endpoint, coordinator) = try Self.startCoordinator(
            store: store, settings: settings, log: log, results: results)
        let context = ZeroMQContext()
        let attacker = try ZeroMQSocket(context, kind: .dealer)
        try attacker.connect(endpoint)
        var rng: UInt64 = 42
        for length in [0, 3, 7, 100, 5000] {
            let junk = (0..<length).map { _ -> UInt8 in
                rng = rng &* 6364136223846793005 &+ 1; return UInt8(truncatingIfNeeded: rng >> 40)
            }
            try attacker.send([junk])
            try attacker.send([junk, junk])
        }
        var wrongVersion = WireMessage.ready(WorkerHello(host: "x", pid: 1, cores: 1, build: settings.build)).frames
        wrongVersion[0][5] = 9
        // From a peer of its own: complaints about one peer are logged once an interval (ComplaintLog).
        let outdated = try ZeroMQSocket(context, kind: .dealer)
        try outdated.connect(endpoint)
        try outdated.send(wrongVersion)
        try attacker.send(
            WireMessage.result(
                TaskResult(task: "sleep-0/0", attempt: 1, lease: "guessed", digest: "forged", summary: "{}"),
                attachments: [[1]]
            ).frames)
        try attacker.send(WireMessage.done.frames)
        try attacker.send([[UInt8]](repeating: [1, 2, 3], count: WireMessage.maxFrames + 8))  // too many frames
        let workers = Self.startWorkers(2, endpoint: endpoint, settings: settings, log: log)
        let counters = try coordinator.wait()
        for worker in workers { #expect(try worker.wait(timeout: 10) == .sweepComplete) }
        #expect(try store.counts() == [.done: 4])
        #expect(counters.dropped >= 10)
        #expect(log.all.contains { $0.contains("protocol version 9") })
    }

    /// libzmq's part limit (ZMQ_MAXMSGSIZE): a peer that sends a larger frame is cut off before it is buffered,
    /// so the coordinator never reads it. Served from the test's thread.
    @Test func aFrameOverTheLimitIsDroppedUnread() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TaskStore(path: dir.file("sweep.sqlite"))
        try store.add(SleepTasks.plan(chains: 1, levels: 1, milliseconds: 0))
        var settings = ClusterSettings(build: "sift-test")
        settings.maximumFrameBytes = 64 << 10
        let context = ZeroMQContext()
        let coordinator = try Coordinator(
            store: store, context: context, bind: "tcp://127.0.0.1:0", settings: settings, log: Lines().logger)
        let flooder = try ScriptedPeer(
            context, endpoint: coordinator.endpoint, pid: 9, host: "scripted", build: settings.build)
        // Wait (bounded) until the coordinator has seen the flooder and its answer: it is then handed the task.
        var handed: TaskAssignment?
        for _ in 0..<200 where handed == nil {
            try coordinator.serveOnce(waitMilliseconds: 10)
            handed = try flooder.task()
        }
        let assignment = try #require(handed)
        let big = [UInt8](repeating: 7, count: 1 << 20)
        try flooder.send(
            .result(
                TaskResult(
                    task: assignment.task, attempt: 1, lease: assignment.lease, digest: TaskDigest.of([big]),
                    summary: "{}"), attachments: [big]))
        for _ in 0..<50 { try coordinator.serveOnce(waitMilliseconds: 10) }
        #expect(coordinator.counters.recorded == 0, "a 1 MiB frame past a 64 KiB limit never reaches the coordinator")
        #expect(try store.task("sleep-0/0")?.state == .leased)
    }
}
