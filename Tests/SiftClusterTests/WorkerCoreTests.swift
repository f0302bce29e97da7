import Foundation
import SiftCluster
import SiftTestKit
import SiftWire
import Testing

/// The worker's protocol driven by hand: messages the test writes, outcomes it hands in, a clock it moves.
/// No socket, thread or sleep.
@Suite struct WorkerCoreTests {
    let clock = ManualClock()
    let settings: ClusterSettings = {
        var settings = ClusterSettings(build: "sift-test")
        settings.heartbeatInterval = 1
        settings.liveness = 3
        return settings
    }()
    let assignment = TaskAssignment(task: "t/0", attempt: 1, lease: "lease", kind: SleepTasks.kind, parameters: "{}")
    var result: WireMessage {
        .result(TaskResult(task: "t/0", attempt: 1, lease: "lease", digest: "d", summary: "{}"), attachments: [[1]])
    }

    /// The messages among `actions`.
    func sent(_ actions: [WorkerCore.Action]) -> [WireMessage] {
        actions.compactMap {
            if case .send(let message) = $0 { return message }; return nil
        }
    }

    func exit(_ actions: [WorkerCore.Action]) -> Worker.Exit? {
        actions.lazy.compactMap {
            if case .exit(let exit) = $0 { return exit }; return nil
        }.first
    }

    /// A turn in which nothing arrives: begin, then end.
    func idleTurn(_ core: inout WorkerCore, ended: WireMessage? = nil, stop: Bool = false) -> [WorkerCore.Action] {
        core.begin(now: clock.now, ended: ended, stopAsked: stop, abandon: nil)
            + core.end(now: clock.now, ended: ended, progress: nil)
    }

    @Test func aChallengeIsAnsweredAndATaskStarted() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        let answer = core.received(.success(.heartbeat(Heartbeat(challenge: "c1"))), now: clock.now)
        #expect(sent(answer) == [.heartbeat(Heartbeat(answer: "c1"))])
        let actions = core.received(.success(.task(assignment, attachments: [[7]])), now: clock.now)
        #expect(actions.contains(.start(assignment, attachments: [[7]])))
        #expect(core.task == assignment && core.waitMilliseconds == 1, "a running task's outcome is looked for often")
    }

    @Test func aSecondTaskWhileBusyIsDeclined() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        _ = core.received(.success(.task(assignment, attachments: [])), now: clock.now)
        var other = assignment
        other.task = "u/0"
        let declined = sent(core.received(.success(.task(other, attachments: [])), now: clock.now))
        guard case .failure(let failure)? = declined.first else {
            Issue.record("no failure sent: \(declined)")
            return
        }
        #expect(failure.task == "u/0" && failure.cause == .declined && failure.error.contains("busy with t/0"))
    }

    /// The outcome goes out once, then again after a reconnect, until acknowledged; `done` ends the worker
    /// only once nothing is in flight.
    @Test func anOutcomeIsResentAfterAReconnectUntilAcknowledged() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        _ = core.received(.success(.task(assignment, attachments: [])), now: clock.now)
        #expect(sent(idleTurn(&core, ended: result)).contains(result))
        clock.advance(0.5)
        #expect(!sent(idleTurn(&core)).contains(result), "sent once per connection")
        #expect(
            exit(core.received(.success(.done), now: clock.now)) == nil, "not done while a result is unacknowledged")
        // The coordinator falls silent past the liveness period (3 s): reconnect, then the result goes again.
        clock.advance(3.5)
        let silent = idleTurn(&core)
        #expect(silent.contains(.reconnect(afterSeconds: 1)))
        core.reconnected(now: clock.now)
        #expect(sent(idleTurn(&core)).contains(result))
        _ = core.received(.success(.acknowledge(TaskReference(task: "t/0"))), now: clock.now)
        #expect(core.task == nil)
        #expect(exit(core.received(.success(.done), now: clock.now)) == .sweepComplete)
    }

    @Test func reconnectsBackOffDoublingUpToTheCeiling() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        var waits: [Double] = []
        for _ in 0..<8 {
            clock.advance(4)
            for case .reconnect(let seconds) in idleTurn(&core) { waits.append(seconds) }
            core.reconnected(now: clock.now)
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 32, 32])
        // Any message resets it.
        _ = core.received(.success(.heartbeat(Heartbeat())), now: clock.now)
        clock.advance(4)
        #expect(idleTurn(&core).contains(.reconnect(afterSeconds: 1)))
    }

    /// Told to stop, the worker finishes and reports its task, then leaves; a silent coordinator does not hold it.
    @Test func aStopWaitsForTheTaskUnlessTheCoordinatorIsSilent() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        _ = core.received(.success(.task(assignment, attachments: [])), now: clock.now)
        #expect(exit(idleTurn(&core, stop: true)) == nil, "the task is still running")
        #expect(sent(idleTurn(&core, ended: result, stop: true)).contains(result))
        _ = core.received(.success(.acknowledge(TaskReference(task: "t/0"))), now: clock.now)
        #expect(exit(idleTurn(&core, stop: true)) == .stopped)

        var silent = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        _ = silent.received(.success(.task(assignment, attachments: [])), now: clock.now)
        clock.advance(3.5)
        let actions = silent.begin(now: clock.now, ended: nil, stopAsked: true, abandon: nil)
        #expect(exit(actions) == .stopped)
        #expect(
            actions.contains {
                if case .log(_, let line) = $0 { return line.contains("is silent") }; return false
            })
    }

    @Test func aRevokeEndsARunningTaskAndAnAbandonEndsAtOnce() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        _ = core.received(.success(.task(assignment, attachments: [])), now: clock.now)
        let revoked = exit(core.received(.success(.revoke(TaskReference(task: "t/0"), reason: "hung")), now: clock.now))
        guard case .revoked(let why)? = revoked else {
            Issue.record("not revoked: \(String(describing: revoked))")
            return
        }
        #expect(why.contains("hung"))
        #expect(
            exit(core.begin(now: clock.now, ended: nil, stopAsked: false, abandon: "parent gone"))
                == .abandoned("parent gone"))
    }

    @Test func anotherProtocolVersionOrARefusalEndsTheWorker() {
        var core = WorkerCore(settings: settings, endpoint: "tcp://c", now: clock.now)
        let mismatch = core.received(.failure(.versionMismatch(peer: 9, ours: 1)), now: clock.now)
        guard case .refused(let reason)? = exit(mismatch) else {
            Issue.record("not refused")
            return
        }
        #expect(reason.contains("protocol version 9"))
        #expect(
            exit(core.received(.success(.refuse(Refusal(reason: "old build"))), now: clock.now))
                == .refused("old build"))
        #expect(exit(core.received(.failure(.malformed("junk")), now: clock.now)) == nil, "junk is dropped, not fatal")
    }
}
