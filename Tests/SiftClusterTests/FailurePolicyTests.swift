import Foundation
import Logging
import SiftCluster
import SiftStore
import SiftConfig
import SiftTestKit
import SiftWire
import Testing

/// The coordinator's policy driven turn by turn from the test's thread, like swift-nio's embedded event
/// loop: its core with no socket (`EmbeddedCoordinator`), scripted workers that say exactly what the test
/// tells them, and a clock the test moves. Nothing here sleeps, spawns a thread or opens a socket.
@Suite struct FailurePolicyTests {
    /// An embedded coordinator core over a store of sleep tasks, with its log.
    final class Harness {
        let dir: TemporaryDirectory
        let store: TaskStore
        let embedded: EmbeddedCoordinator
        let settings: ClusterSettings
        private let lines = InMemoryLogHandler.Lines()

        init(
            chains: Int, levels: Int,
            onResult: @escaping ResultOutcome.Store = { _, _, _ in .continues },
            clock: ManualClock = ManualClock(),
            prepare: @escaping CoordinatorCore.Prepare = CoordinatorCore.asRecorded
        ) throws {
            dir = try TemporaryDirectory()
            store = try TaskStore(path: dir.file("sweep.sqlite"))
            try store.add(SleepTasks.plan(chains: chains, levels: levels, milliseconds: 0))
            var settings = ClusterSettings(build: "sift-test")
            settings.heartbeatInterval = 1
            settings.liveness = 3
            settings.setAsideSeconds = 60
            settings.hungAfterSeconds = 5
            settings.hungAfterSteps = 100
            self.settings = settings
            embedded = try EmbeddedCoordinator(
                store: store, settings: settings, log: InMemoryLogHandler.logger(lines), onResult: onResult,
                clock: clock, prepare: prepare)
        }

        deinit { dir.remove() }

        var clock: ManualClock { embedded.clock }
        var coordinator: CoordinatorCore { embedded.core }
        var log: [String] { lines.all }

        /// A new core on the same store, as after a SIGKILL and restart: workers reconnect with `worker(pid:)`.
        func restart() throws { try embedded.restart() }

        /// A worker that said READY and answered the coordinator's challenge: the next turn can give it a task.
        func worker(pid: Int32, host: String = "scripted") throws -> ScriptedPeer {
            let worker = try ScriptedPeer(embedded.connect(), pid: pid, host: host, build: settings.build)
            try turn()
            _ = try worker.inbox()
            return worker
        }

        /// Turns the core until every result sent so far is written and recorded.
        @discardableResult
        func turn() throws -> Bool { try embedded.turn() }
    }

    @Test func aSilentWorkersLeaseIsLostNotFailedAndItsLateResultCounts() throws {
        let h = try Harness(chains: 1, levels: 2)
        let slow = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try slow.task())
        #expect(task.task == "sleep-0/0" && task.attempt == 1)

        // Heartbeats keep the lease; then the worker falls silent past the liveness period (3 s).
        for _ in 0..<5 {
            h.clock.advance(1)
            try slow.send(.heartbeat(Heartbeat(task: task.task)))
            try h.turn()
        }
        #expect(try h.store.task(task.task)?.state == .leased)
        h.clock.advance(4)
        try h.turn()
        let record = try #require(try h.store.task(task.task))
        #expect(
            record.state == .queued && record.lostLeases == 1 && record.hostFailures == 0,
            "a worker that fell silent cost the task nothing but a lost lease")
        #expect(h.log.contains { $0.contains("silent") && $0.contains("declared dead") })

        // Its result arrives later, from the same worker reconnecting: accepted, not recomputed.
        try slow.send(.ready(WorkerHello(host: "scripted", pid: 1, cores: 1, build: h.settings.build)))
        try slow.result(task)
        try h.turn()
        #expect(try h.store.task(task.task)?.state == .done)
        #expect(h.coordinator.counters.recorded == 1)
    }

    /// Preparing a task reads its level's files, and a turn that hands out many may outlast a lease (3 s here):
    /// the leases it hands out run from when their tasks leave, so they do not expire before their workers
    /// have even had them.
    @Test func aLeaseRunsFromWhenItsTaskLeavesNotFromASlowTurnsStart() throws {
        let clock = ManualClock()
        let h = try Harness(chains: 1, levels: 1, clock: clock) { task in
            clock.advance(5)  // a slow disk
            return CoordinatorCore.asRecorded(task)
        }
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        // The worker's heartbeat sent while the coordinator was busy arrives before it names its new task.
        try worker.send(.heartbeat(Heartbeat()))
        try h.turn()
        clock.advance(1)
        try worker.send(.heartbeat(Heartbeat(task: task.task)))
        try h.turn()
        #expect(try h.store.task(task.task)?.state == .leased, "\(h.log)")
        #expect(try h.store.task(task.task)?.lostLeases == 0)
        #expect(!h.log.contains { $0.contains("expired") }, "\(h.log)")
    }

    @Test func aWorkerFailingOnItsHostIsSetAsideAndItsTasksGoElsewhere() throws {
        let h = try Harness(chains: 3, levels: 1)
        let bad = try h.worker(pid: 1), good = try h.worker(pid: 2)
        try h.turn()
        var goodTask = try #require(try good.task())
        for _ in 0..<2 {
            let task = try #require(try bad.task(), "the bad worker takes a task it has not failed yet")
            try bad.send(
                .failure(
                    TaskFailure(
                        task: task.task, attempt: task.attempt, lease: task.lease, error: "train-images truncated",
                        cause: .host)))
            try h.turn()
        }
        #expect(
            h.log.contains { $0.contains("scripted:1 set aside for 60 s after 2 failures or expired leases in a row") })
        #expect(try h.coordinator.status(now: h.clock.now).workers.first { $0.name == "scripted:1" }?.setAside != nil)
        var done: [String] = []
        var finished = false
        while !finished {
            try good.result(goodTask)
            done.append(goodTask.task)
            finished = try h.turn()
            #expect(try bad.task() == nil, "a set-aside worker gets no task while another can work")
            guard let next = try good.task() else { break }
            goodTask = next
        }
        #expect(finished, "the healthy worker finishes the sweep")
        #expect(Set(done) == ["sleep-0/0", "sleep-1/0", "sleep-2/0"])
        #expect(try h.store.counts() == [.done: 3], "no task failed for the bad worker's sake")
        let failures = try done.flatMap { try h.store.failures(of: $0) }
        #expect(
            failures.map(\.worker) == ["scripted:1", "scripted:1"] && failures.allSatisfy { $0.cause == .host },
            "each failure is recorded with the worker it happened on")
    }

    @Test func aSetAsideWorkerStaysSetAsideWhenTheCoordinatorRestarts() throws {
        let h = try Harness(chains: 3, levels: 1)
        let bad = try h.worker(pid: 1)
        try h.turn()
        for _ in 0..<2 {
            let task = try #require(try bad.task())
            try bad.send(
                .failure(
                    TaskFailure(
                        task: task.task, attempt: task.attempt, lease: task.lease, error: "train-images truncated",
                        cause: .host)))
            try h.turn()
        }
        #expect(h.log.contains { $0.contains("scripted:1 set aside for 60 s") })
        let setAsideEnds = h.clock.now.addingTimeInterval(h.settings.setAsideSeconds)

        // Killed and restarted: the bad worker rejoins first, under the same name. Alone, it is still not
        // the only worker there is until the others have had time to rejoin (3 s of silence, 32 s of backoff).
        try h.restart()
        h.clock.advance(10)
        let badAgain = try h.worker(pid: 1)
        for _ in 0..<3 {
            h.clock.advance(1)
            try badAgain.send(.heartbeat(Heartbeat()))
            try h.turn()
            #expect(try badAgain.task() == nil, "the restarted coordinator remembers that the bad worker is set aside")
        }
        let good = try h.worker(pid: 2)
        try h.turn()
        #expect(try badAgain.task() == nil)
        let goodTask = try #require(try good.task())
        #expect(
            try h.coordinator.status(now: h.clock.now).workers.first { $0.name == "scripted:1" }?.setAside?.contains(
                "47 s more") == true)

        // Its term runs out under the new coordinator as it would have under the old one.
        for _ in 0..<47 {
            h.clock.advance(1)
            try badAgain.send(.heartbeat(Heartbeat()))
            try good.send(.heartbeat(Heartbeat(task: goodTask.task)))
            try h.turn()
            if h.clock.now < setAsideEnds { #expect(try badAgain.task() == nil) }
        }
        #expect(try badAgain.task() != nil, "set aside for its term, not for ever")
    }

    @Test func everyWorkerSetAsideStillLetsTheSweepEnd() throws {
        let h = try Harness(chains: 1, levels: 1)
        let only = try h.worker(pid: 1)
        try h.turn()
        for attempt in 1...3 {
            // Set aside after two failures; once every worker has had time to join (35 s here) and it is
            // still the only one, it carries on.
            var waited = 0
            var task = try only.task()
            while task == nil && waited < 40 {
                h.clock.advance(1)
                waited += 1
                try only.send(.heartbeat(Heartbeat()))
                try h.turn()
                task = try only.task()
            }
            let handed = try #require(task, "attempt \(attempt) is handed out though the only worker is set aside")
            #expect(waited == (attempt < 3 ? 0 : 35), "attempt \(attempt) came after \(waited) s")
            try only.send(
                .failure(
                    TaskFailure(
                        task: handed.task, attempt: handed.attempt, lease: handed.lease, error: "no data here",
                        cause: .host)))
            try h.turn()
        }
        #expect(try h.store.counts() == [.failed: 1])
        #expect(try h.store.task("sleep-0/0")?.error?.contains("failed 3 times, on 1 worker(s)") == true)
    }

    @Test func aTasksOwnFailureEndsItAtOnce() throws {
        let h = try Harness(chains: 1, levels: 2)
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        try worker.send(
            .failure(
                TaskFailure(
                    task: task.task, attempt: 1, lease: task.lease, error: "model.arch: 2 outputs for 10 classes",
                    cause: .task)))
        #expect(try h.turn(), "the sweep is settled: one level failed, the next skipped")
        #expect(try h.store.counts() == [.failed: 1, .skipped: 1])
    }

    /// A peer that says every task it is leased fails for its own inputs: while another host is alive, each
    /// such task goes to that host instead, and the liar is set aside as a failing host would be.
    @Test func oneHostsWordCannotFailALevel() throws {
        let h = try Harness(chains: 3, levels: 1)
        let liar = try h.worker(pid: 1, host: "liar"), honest = try h.worker(pid: 2, host: "honest")
        try h.turn()
        var finished = false
        for _ in 0..<20 where !finished {
            if let task = try liar.task() {
                try liar.send(
                    .failure(
                        TaskFailure(
                            task: task.task, attempt: task.attempt, lease: task.lease, error: "bad inputs", cause: .task
                        )))
            }
            if let task = try honest.task() { try honest.result(task) }
            finished = try h.turn()
        }
        #expect(finished)
        #expect(try h.store.counts() == [.done: 3], "no level failed on the liar's word")
        #expect(h.log.contains { $0.contains("one host's word so far: back to the queue for another host") })
        #expect(h.log.contains { $0.contains("liar:1 set aside for 60 s") })
    }

    /// Two hosts that agree fail the level; so does one host when no other is alive to ask.
    @Test func aTasksOwnFailureStandsOnceASecondHostAgrees() throws {
        let h = try Harness(chains: 1, levels: 1)
        let first = try h.worker(pid: 1, host: "a"), second = try h.worker(pid: 2, host: "b")
        try h.turn()
        let failing = { (worker: ScriptedPeer) throws -> Bool in
            guard let task = try worker.task() else { return false }
            try worker.send(
                .failure(
                    TaskFailure(
                        task: task.task, attempt: task.attempt, lease: task.lease, error: "2 outputs for 10 classes",
                        cause: .task)))
            try h.turn()
            return true
        }
        let firstFailed = try failing(first)
        let secondFailed = try !firstFailed && failing(second)
        #expect(firstFailed != secondFailed, "one of them had the lease")
        let retry = try #require(try h.store.task("sleep-0/0"))
        #expect(
            retry.state == .leased && retry.worker == (firstFailed ? "b:2" : "a:1"),
            "the host that has not tried it has it")
        #expect(try failing(firstFailed ? second : first))
        #expect(try h.store.task("sleep-0/0")?.state == .failed)
    }

    /// A result too large for a message, from one host, is retried on another while one is alive.
    @Test func anOversizedResultFromOneHostIsTriedElsewhere() throws {
        let h = try Harness(chains: 1, levels: 1)
        let big = try h.worker(pid: 1, host: "big")
        try h.turn()
        let task = try #require(try big.task())
        let honest = try h.worker(pid: 2, host: "honest")
        let files = (0..<(WireMessage.maxFrames + 4)).map { [UInt8(truncatingIfNeeded: $0)] }
        try big.send(ScriptedPeer.resultMessage(task, files: files))
        try h.turn()
        let retry = try #require(try honest.task(), "the level goes to the other host: \(h.log)")
        try honest.result(retry)
        #expect(try h.turn())
        #expect(try h.store.counts() == [.done: 1])
    }

    /// 20,000 malformed messages from one connection and one from each of 500 more: a few dozen log lines.
    @Test func aFloodOfMalformedMessagesCostsTheLogAFewLines() throws {
        let h = try Harness(chains: 1, levels: 1)
        let flooder = h.embedded.connect()
        try flooder.send([[0x42]])
        for _ in 0..<500 { try h.embedded.connect().send([[0x42]]) }
        for _ in 0..<100 {
            for _ in 0..<200 { try flooder.send([[0x42]]) }
            try h.turn()
        }
        h.clock.advance(11)
        try h.turn()
        let complaints = h.log.filter { $0.contains("dropped a message") || $0.contains("not logged one by one") }
        #expect(complaints.count >= 2 && complaints.count <= 41, "\(complaints.count) lines")
        #expect(h.log.contains { $0.contains("more like this in the last 11 s") })
    }

    @Test func aWorkerThatExitsLosesItsLeaseAtOnce() throws {
        let h = try Harness(chains: 1, levels: 1)
        let doomed = try h.worker(pid: 7)
        try h.turn()
        #expect(try doomed.task() != nil)
        try h.embedded.core.workerExited(host: "scripted", pid: 7, cause: "worker 0 (pid 7) killed by signal 9")
        let record = try #require(try h.store.task("sleep-0/0"))
        #expect(record.state == .queued && record.lostLeases == 1)
        #expect(try h.store.failures(of: "sleep-0/0").map(\.error) == ["worker 0 (pid 7) killed by signal 9"])
    }

    /// After a restart, a lease of the previous coordinator waits for its worker to rejoin; if it does not,
    /// the task goes back to the queue at no cost to it.
    @Test func aRestartReturnsLeasesFreeOfCharge() throws {
        let h = try Harness(chains: 1, levels: 1)
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        try h.restart()
        #expect(try h.store.task(task.task)?.state == .leased, "held while its worker may rejoin")
        h.clock.advance(h.settings.rejoinSeconds + 1)
        try h.turn()
        let record = try #require(try h.store.task(task.task))
        #expect(record.state == .queued && record.lostLeases == 0 && record.hostFailures == 0)
        #expect(
            h.log.contains {
                $0.contains("no worker rejoined holding \(task.task) (scripted:1): back to the queue, at no cost to it")
            })
    }

    /// The worker holding a lease when the coordinator restarts rejoins, finishes its level, and its result
    /// is recorded: a newcomer that says READY first is not handed the level.
    @Test func aRestartedCoordinatorLetsTheHolderFinish() throws {
        let h = try Harness(chains: 1, levels: 1)
        let holder = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try holder.task())
        try h.restart()
        let newcomer = try h.worker(pid: 2)
        try h.turn()
        #expect(try newcomer.task() == nil, "the level is still the holder's")
        let rejoined = try ScriptedPeer(
            h.embedded.connect(), pid: 1, host: "scripted", build: h.settings.build, holding: task)
        try h.turn()
        _ = try rejoined.inbox()
        try rejoined.result(task)
        #expect(try h.turn(), "the sweep is finished by the holder's result")
        #expect(try h.store.task(task.task)?.attempts == 1, "computed once")
    }

    /// A worker that judged its coordinator silent (a starved coordinator answers late) reconnects while its
    /// result waits to be acknowledged; the task the coordinator leased to its old connection meanwhile never
    /// reached it. Its new READY proves its own lease, so that task goes back to the queue at once, at no cost,
    /// and the worker is not charged with a lease it never saw expire (seen in the factorial sweep of session 21).
    @Test func aTaskSentOnAConnectionItsWorkerLeftCostsItNothing() throws {
        let h = try Harness(chains: 3, levels: 1)
        let before = try h.worker(pid: 1)
        try h.turn()
        let finished = try #require(try before.task())
        try before.result(finished)
        try h.turn()
        // Recorded and acknowledged, and the next task leased, all on the connection the worker is leaving.
        let lost = try #require(try before.task())
        let after = try ScriptedPeer(
            h.embedded.connect(), pid: 1, host: "scripted", build: h.settings.build, holding: finished)
        try h.turn()
        let record = try #require(try h.store.task(lost.task))
        #expect(record.state == .queued && record.lostLeases == 0, "\(record)")
        #expect(h.log.contains { $0.contains("\(lost.task) was leased to scripted:1's previous connection") })
        // The worker sends its result again, is acknowledged, and works on: nothing expires, nothing is set aside.
        _ = try after.inbox()
        try after.result(finished)
        for _ in 0..<6 {
            try h.turn()
            let task = try after.task()
            h.clock.advance(1)
            try after.send(.heartbeat(Heartbeat(task: task?.task)))
            if let task { try after.result(task) }
        }
        #expect(try h.turn(), "the sweep finishes on the reconnected worker")
        #expect(!h.log.contains { $0.contains("expired") || $0.contains("set aside") }, "\(h.log)")
    }

    @Test func readiesWithImpossibleFieldsAreRefusedAndGetNoTask() throws {
        let h = try Harness(chains: 1, levels: 1)
        let honest = try h.worker(pid: 1)
        for hello in [
            WorkerHello(host: "ghost", pid: 2, cores: -5, build: h.settings.build),
            WorkerHello(host: "ghost", pid: 0, cores: 1, build: h.settings.build),
            WorkerHello(host: "", pid: 3, cores: 1, build: h.settings.build),
        ] {
            let link = h.embedded.connect()
            try link.send(WireMessage.ready(hello).frames)
            try h.turn()
            let reply = try #require(try link.receive(timeout: 0))
            guard case .refuse(let refusal) = try WireMessage(frames: reply) else {
                Issue.record("a READY with \(hello) was not refused")
                continue
            }
            #expect(!refusal.reason.isEmpty)
        }
        #expect(h.log.filter { $0.contains("refused peer") }.count == 3, "each refusal is logged with the peer")
        // The well-formed worker still gets the one task.
        #expect(try honest.task()?.task == "sleep-0/0")
    }

    /// A result with more frames than a message may hold can never arrive whole, however often it is
    /// sent: its level fails with the reason and the worker is acknowledged, so nothing waits on it.
    @Test func aResultTooLargeForAMessageFailsItsLevelInsteadOfStalling() throws {
        let h = try Harness(chains: 1, levels: 1)
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        let files = (0..<(WireMessage.maxFrames + 4)).map { [UInt8(truncatingIfNeeded: $0)] }
        try worker.send(ScriptedPeer.resultMessage(task, files: files))
        try h.turn()
        let record = try #require(try h.store.task(task.task))
        #expect(record.state == .failed)
        #expect(record.error?.contains("exceeded the wire's limit") == true)
        #expect(
            try worker.inbox().contains {
                if case .acknowledge(let reference) = $0 { return reference.task == task.task }; return false
            })
    }

    /// A result's files are written off the loop: while they are (here, until the test lets the write finish),
    /// heartbeats are answered, and the result is neither recorded nor acknowledged; a second copy of it is
    /// not taken in twice. Once written, it is recorded and acknowledged in the next turn.
    @Test func heartbeatsAreAnsweredWhileAResultIsWrittenAndItIsAcknowledgedOnlyOnceWritten() throws {
        let h = try Harness(chains: 1, levels: 1)
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        h.embedded.holdWrites = true
        try worker.result(task)
        try worker.result(task)
        try worker.send(.heartbeat(Heartbeat(task: task.task, echo: "probe")))
        for _ in 0..<3 { try h.turn() }
        let delivered = try worker.delivered()
        #expect(
            delivered.contains {
                if case .heartbeat(let beat) = $0 { return beat.echo == "probe" }; return false
            },
            "the heartbeat is answered while the result is being written")
        #expect(
            !delivered.contains {
                if case .acknowledge = $0 { return true }; return false
            })
        #expect(h.coordinator.resultsInFlight == 1 && h.coordinator.counters.recorded == 0)
        #expect(try h.store.task(task.task)?.state == .leased)

        h.embedded.holdWrites = false
        try h.turn()
        #expect(
            try worker.inbox().contains {
                if case .acknowledge(let reference) = $0 { return reference.task == task.task }; return false
            })
        #expect(try h.store.task(task.task)?.state == .done)
        #expect(h.coordinator.counters.recorded == 1)
        #expect(h.log.contains { $0.contains("ignored a second copy of \(task.task)") })
    }

    @Test func readiesThatNeverAnswerGetNoTask() throws {
        let h = try Harness(chains: 2, levels: 1)
        for i in 0..<10 {
            try h.embedded.connect().send(
                WireMessage.ready(WorkerHello(host: "ghost", pid: Int32(10 + i), cores: 8, build: h.settings.build))
                    .frames)
        }
        for _ in 0..<3 {
            try h.turn()
            h.clock.advance(1)
        }
        #expect(try h.store.counts() == [.queued: 2], "a READY alone earns no task")
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        try worker.result(task)
        try h.turn()
        try worker.result(try #require(try worker.task()))
        #expect(try h.turn())
        #expect(try h.store.counts() == [.done: 2])
    }

    @Test func aResultOrFailureWithoutItsLeaseIsDroppedAndLogged() throws {
        let h = try Harness(chains: 1, levels: 1)
        let holder = try h.worker(pid: 1), forger = try h.worker(pid: 2)
        try h.turn()
        let task = try #require(try holder.task())
        var forged = task
        forged.lease = String(repeating: "0", count: 32)
        try forger.result(forged)
        try forger.send(
            .failure(TaskFailure(task: task.task, attempt: task.attempt, lease: task.lease, error: "x", cause: .task)))
        try holder.result(forged)
        try h.turn()
        #expect(try h.store.task(task.task)?.state == .leased, "neither the forger nor a wrong token settles the task")
        // The forger's second complaint comes in the interval's summary (ComplaintLog).
        #expect(h.log.filter { $0.contains("does not hold that lease") }.count == 2)
        try holder.result(task)
        #expect(try h.turn())
        #expect(try h.store.counts() == [.done: 1])
        h.clock.advance(11)
        try h.turn()
        #expect(
            h.log.contains {
                $0.hasPrefix("warning scripted:2: 1 more like this")
                    && $0.contains("dropped a failure report for \(task.task) (attempt 1) from scripted:2")
            }, "\(h.log)")
    }

    @Test func aWorkerWhoseLeasesKeepExpiringIsSetAside() throws {
        let h = try Harness(chains: 3, levels: 1)
        let flaky = try h.worker(pid: 1)
        for round in 1...2 {
            try h.turn()
            #expect(try flaky.task() != nil, "round \(round): the flaky worker takes a task")
            // It keeps its connection alive but never renews the lease: the lease runs out (3 s).
            for _ in 0..<4 {
                h.clock.advance(1)
                try flaky.send(.heartbeat(Heartbeat()))
                try h.turn()
            }
        }
        #expect(h.log.contains { $0.contains("scripted:1 set aside for 60 s") && $0.contains("expired") })
        #expect(
            try h.coordinator.status(now: h.clock.now).workers.first { $0.name == "scripted:1" }?.setAside?.contains(
                "expired") == true)
        #expect(try h.store.counts()[.failed] == nil, "expired leases alone fail no task")
    }

    /// A heartbeat that says how far the task's training is.
    static func beat(_ task: TaskAssignment, step: Int, phase: TaskProgress.Phase = .training) -> WireMessage {
        .heartbeat(
            Heartbeat(
                task: task.task,
                progress: TaskProgress(
                    phase: phase, step: step, steps: 1000, epoch: 1, epochs: 1,
                    loss: 0.5, stepsPerSecond: 10, secondsSinceChange: 0)))
    }

    @Test func aTrainingWhoseStepsStopIsRevokedThoughItsHeartbeatsGoOn() throws {
        let h = try Harness(chains: 1, levels: 1)
        let stuck = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try stuck.task())
        // Ten steps a second, then nothing: the limit is 100 steps' time (10 s), above the 5 s floor.
        for step in 1...5 {
            h.clock.advance(1)
            try stuck.send(Self.beat(task, step: step * 10))
            try h.turn()
        }
        #expect(
            try h.store.task(task.task)?.progress?.contains("\"step\":50") == true,
            "the store keeps the latest progress")
        for _ in 0..<9 {
            h.clock.advance(1)
            try stuck.send(Self.beat(task, step: 50))
            try h.turn()
        }
        #expect(try h.store.task(task.task)?.state == .leased, "9 s without a step is under the limit")
        for _ in 0..<2 {
            h.clock.advance(1)
            try stuck.send(Self.beat(task, step: 50))
            try h.turn()
        }
        let record = try #require(try h.store.task(task.task))
        #expect(record.state == .queued && record.lostLeases == 1 && record.hostFailures == 0)
        #expect(
            h.log.contains {
                $0.contains("revoked \(task.task) (attempt 1) from scripted:1: its training stood at step 50")
            })
        #expect(
            try stuck.inbox().contains {
                if case .revoke(let reference, _) = $0 { return reference.task == task.task }; return false
            })
        // Another worker takes it and finishes it; the hung one's late result would no longer count.
        let healthy = try h.worker(pid: 2)
        try h.turn()
        let again = try #require(try healthy.task())
        #expect(again.task == task.task && again.attempt == 2)
        try stuck.result(task)
        try healthy.result(again)
        #expect(try h.turn())
        #expect(h.coordinator.counters.recorded == 1, "recorded once, from the second lease")
    }

    @Test func measuringIsNotWatchedForSteps() throws {
        let h = try Harness(chains: 1, levels: 1)
        let worker = try h.worker(pid: 1)
        try h.turn()
        let task = try #require(try worker.task())
        try worker.send(Self.beat(task, step: 1000))
        try h.turn()
        for _ in 0..<60 {
            h.clock.advance(1)
            try worker.send(Self.beat(task, step: 1000, phase: .measuring))
            try h.turn()
        }
        #expect(try h.store.task(task.task)?.state == .leased, "a level being measured has no steps to watch")
    }
}
