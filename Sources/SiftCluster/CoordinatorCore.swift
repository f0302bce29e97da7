import Foundation
import Logging
import SiftStore
import SiftConfig
import SiftWire

/// The coordinator's policy with no sockets, threads or clocks of its own: who gets which task, when a
/// lease is lost, when a failure fails a level, when a worker is set aside, when a training counts as hung,
/// and what a result is bound to. It takes the messages a transport received and the results the intake has
/// written, and answers through the `send` it is given; its store writes go through `TaskStore`
/// transactions, each committed before anything it decided is sent. `Coordinator` feeds it from a ZeroMQ
/// ROUTER socket; tests feed it by hand (`EmbeddedCoordinator` in SiftTestKit), with a clock they move.
///
/// Failures are counted by cause (`FailureCause`): a task's own failure ends it once a second host agrees,
/// a host's is retried on another worker, and a lease lost with its worker costs the task nothing but a
/// separate, higher budget.
package struct CoordinatorCore {
    package struct Counters: Sendable {
        package var dispatched = 0
        package var recorded = 0
        package var duplicates = 0
        package var dropped = 0
        package var refused = 0
        /// Store transactions committed: the store's write rate, with `sift-testbed bench-coordinator`.
        package var commits = 0
        /// When the first task went out, to measure throughput from there.
        package var firstDispatch: Date?

        package init() {}
    }

    /// A class, not a struct: the loop looks over every peer on most turns, and with thousands of workers
    /// copying each one's strings there was the coordinator's largest cost.
    final class Peer {
        let hello: WorkerHello
        /// Its CURVE public key, as the ZAP handler vouched for it.
        let key: String?
        var lastSeen: Date
        /// Sent with the first heartbeat; the peer gets no task until it sends it back.
        let challenge: String
        var answered = false
        var task: (id: String, attempt: Int, lease: String)? {
            didSet { if task?.id != oldValue?.id || task?.attempt != oldValue?.attempt { watch = nil } }
        }
        /// The task's training step as last reported, when it last moved (this coordinator's clock), and
        /// the worker's measured steps per second: what the watchdog judges.
        var watch: (step: Int, movedAt: Date, stepsPerSecond: Double?)?
        let name: String

        init(hello: WorkerHello, key: String?, lastSeen: Date, challenge: String) {
            self.hello = hello
            self.key = key
            self.lastSeen = lastSeen
            self.challenge = challenge
            name = "\(hello.host):\(hello.pid)"
        }

        func holder(_ lease: String) -> LeaseHolder { LeaseHolder(worker: name, token: lease, key: key) }
    }

    package typealias Reply = (identity: [UInt8], message: WireMessage)

    /// What a turn leaves for its transport to do besides the replies it has sent.
    package struct Turn {
        /// Results whose leases checked out, to be checked and written off the loop; each comes back in a
        /// later turn's `written`.
        package var submissions: [(job: ResultJob, attachments: [[UInt8]])] = []
        /// Whether the heartbeat interval's housekeeping ran (progress displays and supervision follow it).
        package var ticked = false
        /// Whether the sweep is finished: every worker has been told.
        package var finished = false
    }

    let store: TaskStore
    let settings: ClusterSettings
    let log: Logger
    /// Complaints about peers (malformed messages, refusals), logged at a bounded rate; shared with the
    /// transport's CURVE handler.
    let complaints: ComplaintLog
    /// The time; injected so that lease, liveness and set-aside logic can be tested without sleeping.
    let clock: () -> Date
    /// Builds what a leased task is sent with: its parameters and attached files.
    package typealias Prepare = (TaskRecord) throws -> (parameters: String, attachments: [[UInt8]])
    /// Sends a task as the store recorded it, with nothing attached.
    package static func asRecorded(_ task: TaskRecord) -> (parameters: String, attachments: [[UInt8]]) {
        (task.parameters, [])
    }
    /// Builds a leased task's parameters and attachments (a level's masks and rewind point).
    let prepare: Prepare
    private var peers: [[UInt8]: Peer] = [:]
    /// Each worker's record of trouble by name, as the store keeps it: it outlives reconnects and restarts.
    private var troubles: [String: WorkerTrouble]
    private var lastBeat = Date.distantPast
    /// When this coordinator started serving: workers rejoin it over `settings.rejoinSeconds`.
    private let startedAt: Date
    private var finishedCheckDue = true
    /// Tasks leased by the previous coordinator whose workers have not rejoined yet.
    private var heldForRejoin: Set<String> = []
    /// Tasks whose results are being checked and written: their leases must not lapse meanwhile, and a
    /// second copy of one (resent after a reconnect) is not taken twice.
    private var taking: Set<String> = []
    /// The current turn's results to write.
    private var submissions: [(job: ResultJob, attachments: [[UInt8]])] = []
    package private(set) var counters = Counters()

    package init(
        store: TaskStore, settings: ClusterSettings, log: Logger, complaints: ComplaintLog = ComplaintLog(),
        clock: @escaping () -> Date = Date.init,
        prepare: @escaping Prepare = asRecorded
    ) throws {
        self.store = store
        self.settings = settings
        self.log = log
        self.complaints = complaints
        self.clock = clock
        self.prepare = prepare
        troubles = try store.troubles()
        startedAt = clock()
        // The previous coordinator's leases stand while their workers rejoin: a worker still training its level
        // finishes it. Those whose worker does not come back return to the queue, at no cost to them.
        // (Already past, without rejoining: the first housekeeping returns them.)
        let rejoin = settings.leasesOutliveRestart ? settings.rejoinSeconds : -1
        heldForRejoin = Set(try store.holdLeasesForRejoin(until: startedAt.addingTimeInterval(rejoin)))
        if !heldForRejoin.isEmpty && rejoin > 0 {
            note(
                .notice,
                "\(heldForRejoin.count) level(s) were leased when this coordinator started: their workers have \(Int(settings.rejoinSeconds)) s to rejoin and finish them"
            )
        }
    }

    /// How often a level whose files went missing is computed again before a level needing it fails instead
    /// (a disk that loses every file written would otherwise loop).
    static let recomputationsOfALevel = 3

    /// Workers currently registered.
    package var workerCount: Int { peers.count }

    /// Results taken in whose files are still being written: a test that steps the loop turns it until none is.
    package var resultsInFlight: Int { taking.count }

    /// One turn: handles a burst of received messages and the results written since the last turn, hands
    /// out tasks, and once per heartbeat interval does the housekeeping. `send` delivers a reply without
    /// waiting and says whether the peer is still there.
    ///
    /// Every change a turn causes is committed in one transaction, and only then are its acknowledgements
    /// and new tasks sent. Nothing is acknowledged before it is durable.
    package mutating func turn(
        received burst: [ReceivedMessage], written: [(job: ResultJob, outcome: ResultOutcome)],
        send: (WireMessage, [UInt8]) -> Bool
    ) throws -> Turn {
        var outgoing: [Reply] = []
        let now = clock()
        let idle = peers.contains { $0.value.task == nil && $0.value.answered }
        submissions = []
        for (job, _) in written { taking.remove(job.result.task) }
        if !burst.isEmpty || idle || !written.isEmpty {
            try committing { core, tx in
                for (job, outcome) in written { try core.record(job, outcome, tx, now: now, replies: &outgoing) }
                for message in burst { try core.handle(message, tx, now: now, replies: &outgoing) }
                try core.dispatch(tx, now: now, sends: &outgoing)
            }
        }
        var turn = Turn(submissions: submissions)
        submissions = []
        for (identity, message) in outgoing where !send(message, identity) {
            // A peer that vanished: a task sent to it returns to the queue when its lease ends.
            peers.removeValue(forKey: identity)
        }
        finishedCheckDue =
            finishedCheckDue
            || outgoing.contains {
                if case .acknowledge = $0.message { return true }; return false
            }
        if now.timeIntervalSince(lastBeat) >= settings.heartbeatInterval {
            lastBeat = now
            for line in complaints.roll(now: now) { note(.warning, line) }
            try housekeeping(now: now, send: send)
            finishedCheckDue = true
            turn.ticked = true
        }
        guard finishedCheckDue else { return turn }
        finishedCheckDue = false
        guard try store.isFinished() else { return turn }
        for identity in peers.keys { _ = send(.done, identity) }
        // The workers exit on `done`: the store should not go on showing them at work.
        try store.recordWorkers([])
        note(.notice, "sweep complete")
        turn.finished = true
        return turn
    }

    /// A connection whose security handshake failed (a refused CURVE key, a plain client at a CURVE
    /// coordinator, or a peer that stalled mid-greeting): it never becomes a peer, so only the log hears of it.
    package mutating func handshakeFailed(endpoint: String, problem: String, underCurve: Bool) {
        counters.refused += 1
        if underCurve {
            complain(
                "handshake",
                "refused a connection to \(endpoint): \(problem) (a worker without CURVE keys, or with another coordinator's public key?)"
            )
        } else {
            // Without CURVE nothing is refused: a peer that stalls mid-greeting (stopped, or a coordinator
            // that was itself stopped and resumed) or does not speak ZeroMQ.
            complain(
                "handshake", "a connection to \(endpoint) ended before its ZeroMQ greeting finished: \(problem)",
                level: .notice)
        }
    }

    /// Follows a running task's step counter; only training is watched (loading and measuring have no steps).
    private mutating func watch(_ progress: TaskProgress, of identity: [UInt8], now: Date) {
        guard progress.phase == .training else {
            peers[identity]?.watch = nil
            return
        }
        if let watch = peers[identity]?.watch, watch.step == progress.step {
            peers[identity]?.watch?.stepsPerSecond = progress.stepsPerSecond ?? watch.stepsPerSecond
        } else {
            peers[identity]?.watch = (progress.step, now, progress.stepsPerSecond)
        }
    }

    /// How long a training may stand still before it counts as hung: many of its own steps, with a floor.
    func hungLimit(stepsPerSecond: Double?) -> Double {
        guard let rate = stepsPerSecond, rate > 0 else { return settings.hungAfterSeconds }
        return max(settings.hungAfterSeconds, settings.hungAfterSteps / rate)
    }

    /// Takes back the leases of trainings whose step counter stopped moving though their heartbeats go on
    /// (a deadlocked trainer): the task goes back to the queue, the worker is told to drop it and leave
    /// (a stuck thread cannot be stopped; a fresh process can work), and is forgotten here.
    private mutating func revokeHungLeases(_ tx: TaskStore.Transaction, now: Date, sends: inout [Reply]) throws {
        for (identity, peer) in peers {
            guard let task = peer.task, let watch = peer.watch else { continue }
            let still = now.timeIntervalSince(watch.movedAt), limit = hungLimit(stepsPerSecond: watch.stepsPerSecond)
            guard still > limit else { continue }
            let reason =
                "its training stood at step \(watch.step) for \(Int(still)) s (limit \(Int(limit)) s) while its heartbeats went on"
            let state = try tx.fail(
                task: task.id, attempt: task.attempt, cause: .lostLease, error: "hung on \(peer.name): \(reason)",
                limits: settings.retryLimits, now: now)
            note(
                .warning,
                "revoked \(task.id) (attempt \(task.attempt)) from \(peer.name): \(reason); \(Self.verdict(state))")
            try noteTrouble(worker: peer.name, "its training of \(task.id) hung", tx, now: now)
            peers.removeValue(forKey: identity)
            sends.append((identity, .revoke(TaskReference(task: task.id), reason: reason)))
        }
    }

    /// Buries silent peers and expired leases (as lost leases), revokes hung trainings, records the
    /// workers, sends heartbeats.
    private mutating func housekeeping(now: Date, send: (WireMessage, [UInt8]) -> Bool) throws {
        var revocations: [Reply] = []
        try committing { core, tx in try core.settleLeases(tx, now: now, sends: &revocations) }
        try store.recordWorkers(
            peers.values.map {
                TaskStore.WorkerRow(
                    name: $0.name, cores: $0.hello.cores, task: $0.task?.id, lastSeen: $0.lastSeen, alive: true,
                    note: setAsideNote(for: $0.name, now: now))
            })
        for (identity, message) in revocations { _ = send(message, identity) }
        for identity in peers.keys { _ = send(.heartbeat(Heartbeat()), identity) }
    }

    /// Within housekeeping's transaction: hung trainings, silent peers and expired leases.
    private mutating func settleLeases(_ tx: TaskStore.Transaction, now: Date, sends: inout [Reply]) throws {
        let deadline = settings.silenceSeconds
        let silent = peers.filter { now.timeIntervalSince($0.value.lastSeen) > deadline }
        try revokeHungLeases(tx, now: now, sends: &sends)
        for (identity, peer) in silent {
            peers.removeValue(forKey: identity)
            note(.warning, "worker \(peer.name) silent for \(Int(deadline)) s; declared dead")
            if peer.task != nil {
                try noteTrouble(worker: peer.name, "its lease expired: it fell silent", tx, now: now)
            }
            try loseLease(of: peer, tx, reason: "worker \(peer.name) fell silent", now: now)
        }
        for lease in try tx.expiredLeases(now: now) where !taking.contains(lease.task) {
            if heldForRejoin.remove(lease.task) != nil {
                try tx.releaseLease(task: lease.task, now: now)
                note(
                    .notice,
                    "no worker rejoined holding \(lease.task) (\(lease.worker ?? "?")): back to the queue, at no cost to it"
                )
                continue
            }
            let state = try tx.fail(
                task: lease.task, attempt: lease.attempt, cause: .lostLease,
                error: "lease expired: worker \(lease.worker ?? "?") fell silent",
                limits: settings.retryLimits, now: now)
            // Its worker may still look alive for a moment (it spoke after taking the lease): name it anyway.
            note(
                .warning,
                "lease of \(lease.task) expired: \(lease.worker ?? "its worker") fell silent while holding it; \(Self.verdict(state))"
            )
            if let worker = lease.worker {
                try noteTrouble(worker: worker, "its lease of \(lease.task) expired", tx, now: now)
            }
            // A live peer that let its lease run out (it stopped naming the task) is idle again.
            for (identity, peer) in peers where peer.task?.id == lease.task { peers[identity]?.task = nil }
        }
    }

    /// A worker process known to have exited (a local worker of `sift run`): its lease is lost now,
    /// rather than when its heartbeats are missed.
    package mutating func workerExited(host: String, pid: Int32, cause: String) throws {
        note(.warning, "\(cause)")
        guard let entry = peers.first(where: { $0.value.hello.host == host && $0.value.hello.pid == pid }) else {
            return
        }
        peers.removeValue(forKey: entry.key)
        let now = clock()
        try committing { core, tx in try core.loseLease(of: entry.value, tx, reason: cause, now: now) }
    }

    private mutating func loseLease(of peer: Peer, _ tx: TaskStore.Transaction, reason: String, now: Date) throws {
        // A result of it that is being written will be recorded: the lease is not lost.
        guard let task = peer.task, !taking.contains(task.id) else { return }
        let state = try tx.fail(
            task: task.id, attempt: task.attempt, cause: .lostLease, error: reason, limits: settings.retryLimits,
            now: now)
        if let state {
            note(.notice, "\(task.id): \(reason) while holding it; \(Self.verdict(state))")
        }
    }

    /// One received message: checked against the wire's limits and format, then handed to its kind's handler.
    private mutating func handle(
        _ received: ReceivedMessage, _ tx: TaskStore.Transaction, now: Date,
        replies: inout [Reply]
    ) throws {
        guard let identity = received.frames.first else { return }
        guard !received.truncated else {
            counters.dropped += 1
            complain(
                peers[identity]?.name ?? Self.name(identity), "dropped an oversized message from \(Self.name(identity))"
            )
            // Most likely its result: retrying would only send it again, so the level fails with the
            // reason (and the worker is released) instead of waiting on a result that can never arrive.
            if let peer = peers[identity], let task = peer.task {
                try fail(
                    task.id, attempt: task.attempt, cause: .task,
                    error:
                        "its result exceeded the wire's limit (\(WireMessage.maxFrames) frames, \(settings.maximumMessageBytes) bytes)",
                    worker: peer.name, tx, now: now)
                peers[identity]?.task = nil
                replies.append((identity, .acknowledge(TaskReference(task: task.id))))
            }
            return
        }
        let message: WireMessage
        do {
            message = try WireMessage(frames: Array(received.frames.dropFirst()))
        } catch let error as WireError {
            counters.dropped += 1
            complain(
                peers[identity]?.name ?? Self.name(identity), "dropped a message from \(Self.name(identity)): \(error)")
            if case .versionMismatch = error {
                replies.append((identity, .refuse(Refusal(reason: "\(error); upgrade the worker"))))
            }
            return
        }
        switch message {
        case .ready(let hello):
            try admit(hello, from: identity, key: received.userID, tx, now: now, replies: &replies)
        case .heartbeat(let beat):
            try take(beat, from: identity, tx, now: now, replies: &replies)
        case let .result(result, attachments):
            try take(result, attachments: attachments, from: identity, tx, now: now, replies: &replies)
        case .failure(let failure):
            try take(failure, from: identity, tx, now: now, replies: &replies)
        case .statusRequest:
            replies.append((identity, .status(try status(now: now))))
        case .task, .acknowledge, .revoke, .refuse, .done, .status:
            counters.dropped += 1
            complain(
                peers[identity]?.name ?? Self.name(identity),
                "dropped an out-of-place \(message.kindName) from \(Self.name(identity))")
        }
    }

    /// A READY: refused with the reason, or a new peer that must answer its challenge before it gets a task.
    private mutating func admit(
        _ hello: WorkerHello, from identity: [UInt8], key: String?, _ tx: TaskStore.Transaction, now: Date,
        replies: inout [Reply]
    ) throws {
        if let problem = hello.problem {
            counters.refused += 1
            complain(Self.name(identity), "refused \(Self.name(identity)): \(problem)")
            replies.append((identity, .refuse(Refusal(reason: problem))))
            return
        }
        guard hello.build == settings.build else {
            counters.refused += 1
            complain(
                "\(hello.host):\(hello.pid)",
                "refused worker \(hello.host):\(hello.pid): build \(hello.build), coordinator runs \(settings.build)")
            replies.append(
                (
                    identity,
                    .refuse(
                        Refusal(reason: "worker build \(hello.build) differs from the coordinator's \(settings.build)"))
                ))
            return
        }
        let peer = Peer(hello: hello, key: key, lastSeen: now, challenge: LeaseHolder.newToken())
        // A worker that reconnects names the task it still runs; the claim stands only with that lease's token.
        if let task = hello.task?.task, let attempt = hello.attempt, let lease = hello.lease {
            if try tx.holds(peer.holder(lease), task: task, attempt: attempt) {
                peer.task = (task, attempt, lease)
                heldForRejoin.remove(task)
            } else {
                complain(
                    peer.name,
                    "ignored \(peer.name)'s claim to be running \(task) (attempt \(attempt)): it does not hold that lease"
                )
            }
        }
        // A worker that reconnects comes back on a new socket: its old one is gone, its lease is not. A peer
        // taking the name of a live worker that holds a lease must prove the lease (or, under CURVE, be its key).
        if let (old, known) = peers.first(where: { $0.value.name == peer.name && $0.key != identity }) {
            guard known.key == peer.key, known.task == nil || peer.task != nil else {
                counters.refused += 1
                complain(
                    peer.name,
                    "refused \(Self.name(identity)): it says it is \(peer.name), a live worker holding a lease it cannot prove"
                )
                replies.append((identity, .refuse(Refusal(reason: "another live worker goes by \(peer.name)"))))
                return
            }
            // The worker proved a lease of its own and names no other task: a task leased to its previous
            // connection was sent on the socket it left (it judged this coordinator silent while the task
            // was on its way) and never reached it. That lease goes back at no cost to the task or the worker.
            if let lost = known.task, lost.id != peer.task?.id, !taking.contains(lost.id) {
                try tx.releaseLease(task: lost.id, now: now)
                note(
                    .notice,
                    "\(lost.id) was leased to \(peer.name)'s previous connection, which it left before the task reached it: back to the queue, at no cost to it"
                )
            }
            peers.removeValue(forKey: old)
        }
        peers[identity] = peer
        replies.append((identity, .heartbeat(Heartbeat(challenge: peer.challenge))))
        note(.info, "worker \(peer.name) ready (\(hello.cores) cores)\(peer.key.map { ", key \($0)" } ?? "")")
    }

    /// A heartbeat: the peer is alive, its challenge may be answered, and the lease it names is renewed.
    private mutating func take(
        _ beat: Heartbeat, from identity: [UInt8], _ tx: TaskStore.Transaction, now: Date,
        replies: inout [Reply]
    ) throws {
        guard let peer = peers[identity] else { return }
        peer.lastSeen = now
        if beat.answer == peer.challenge { peer.answered = true }
        if let task = peer.task, beat.task == task.id {
            try tx.renew(task: task.id, attempt: task.attempt, leaseSeconds: settings.leaseSeconds, now: now)
            if let progress = beat.progress {
                try tx.recordProgress(task: task.id, attempt: task.attempt, progress: progress.json, now: now)
                watch(progress, of: identity, now: now)
            }
        }
        if let echo = beat.echo, echo.utf8.count <= 64 { replies.append((identity, .heartbeat(Heartbeat(echo: echo)))) }
    }

    /// The registered peer behind `identity`, now seen alive; nil (and the message dropped, with a complaint)
    /// for a connection that never said READY.
    private mutating func speaker(_ identity: [UInt8], sending what: String, now: Date) -> Peer? {
        guard let peer = peers[identity] else {
            counters.dropped += 1
            complain(Self.name(identity), "dropped \(what) from \(Self.name(identity)), which never said READY")
            return nil
        }
        peer.lastSeen = now
        return peer
    }

    /// A result: bound to the lease it names, then handed to the intake to be checked and written.
    private mutating func take(
        _ result: TaskResult, attachments: [[UInt8]], from identity: [UInt8], _ tx: TaskStore.Transaction,
        now: Date, replies: inout [Reply]
    ) throws {
        guard let peer = speaker(identity, sending: "a result for \(result.task)", now: now) else { return }
        let holder = peer.holder(result.lease)
        let verdict = try tx.verdict(task: result.task, attempt: result.attempt, from: holder)
        guard verdict == .recorded, let task = try tx.task(result.task) else {
            conclude(result, verdict, from: identity, peer: peer.name, replies: &replies)
            return
        }
        let job = ResultJob(
            identity: identity, peer: peer.name, holder: holder, build: peer.hello.build,
            task: task, result: result)
        if taking.insert(result.task).inserted {
            submissions.append((job, attachments))
        } else {
            complain(
                peer.name,
                "ignored a second copy of \(result.task) (attempt \(result.attempt)) from \(peer.name): the first is being written",
                level: .notice)
        }
    }

    /// A failure report: counted against its cause if the sender holds the lease, and acknowledged.
    private mutating func take(
        _ failure: TaskFailure, from identity: [UInt8], _ tx: TaskStore.Transaction, now: Date,
        replies: inout [Reply]
    ) throws {
        guard let peer = speaker(identity, sending: "a failure report for \(failure.task)", now: now) else { return }
        if try tx.holds(peer.holder(failure.lease), task: failure.task, attempt: failure.attempt) {
            let cause: FailureCause =
                switch failure.cause {
                case .task: .task
                case .host: .host
                case .declined: .lostLease
                }
            try fail(
                failure.task, attempt: failure.attempt, cause: cause, error: failure.error, worker: peer.name, tx,
                now: now)
        } else {
            counters.dropped += 1
            complain(
                peer.name,
                "dropped a failure report for \(failure.task) (attempt \(failure.attempt)) from \(peer.name): it does not hold that lease"
            )
        }
        if peers[identity]?.task?.id == failure.task { peers[identity]?.task = nil }
        replies.append((identity, .acknowledge(TaskReference(task: failure.task))))
    }

    /// Counts a failed attempt against its cause; failures on a host in a row set its worker aside. A task's
    /// own failure (or a result too large to arrive) fails the task only once a second host agrees, or when
    /// no other host is alive to try it: one peer's word cannot fail a level, and until another host tries it
    /// the report counts as trouble on the sender's host.
    private mutating func fail(
        _ task: String, attempt: Int, cause: FailureCause, error: String, worker: String,
        _ tx: TaskStore.Transaction, now: Date
    ) throws {
        let host = TaskStore.host(ofWorker: worker)
        let awaiting =
            try cause == .task
            && Self.awaitsAnotherHost(
                reportedBy: host, earlierReporters: tx.taskFailureHosts(of: task), liveHosts: Set(twoLiveHosts()))
        let state = try tx.fail(
            task: task, attempt: attempt, cause: cause, error: "\(error) [on \(worker)]",
            limits: settings.retryLimits, awaitingAnotherHost: awaiting, now: now)
        guard state != nil else { return }
        let verdict =
            state == .failed
            ? "marked failed"
            : awaiting
                ? "one host's word so far: back to the queue for another host" : "back to the queue for another worker"
        note(.warning, "task \(task) attempt \(attempt) failed (\(cause.rawValue)) on \(worker): \(error); \(verdict)")
        if cause == .host || awaiting { try noteTrouble(worker: worker, error, tx, now: now) }
    }

    /// Up to two distinct hosts of the peers that answered their challenge: enough to tell whether a host
    /// other than a given one is alive, without a pass over every peer for each idle worker.
    private func twoLiveHosts() -> [String] {
        var hosts: [String] = []
        for peer in peers.values where peer.answered && !hosts.contains(peer.hello.host) {
            hosts.append(peer.hello.host)
            if hosts.count == 2 { break }
        }
        return hosts
    }

    /// Whether a task's own failure, as `host` reports it, waits for another host's word: no other host has
    /// said so yet, and another host is alive to try it.
    static func awaitsAnotherHost(
        reportedBy host: String, earlierReporters: Set<String>, liveHosts: Set<String>
    ) -> Bool {
        earlierReporters.subtracting([host]).isEmpty && !liveHosts.subtracting([host]).isEmpty
    }

    /// Counts a failure on `worker`'s host or a lease it let expire; so many in a row set it aside.
    private mutating func noteTrouble(worker: String, _ error: String, _ tx: TaskStore.Transaction, now: Date) throws {
        var record = troubles[worker] ?? WorkerTrouble()
        record.failuresInARow += 1
        record.lastError = error
        if record.failuresInARow >= settings.setAsideAfter {
            record.timesSetAside += 1
            let seconds = min(settings.setAsideSeconds * pow(2, Double(record.timesSetAside - 1)), 3600)
            record.setAsideUntil = now.addingTimeInterval(seconds)
            record.failuresInARow = 0
            note(
                .warning,
                "worker \(worker) set aside for \(Int(seconds)) s after \(settings.setAsideAfter) failures or expired leases in a row; last: \(error)"
            )
        }
        troubles[worker] = record
        try tx.record(record, of: worker)
    }

    /// Why `worker` gets no task for now, if it is set aside.
    private func setAsideNote(for worker: String, now: Date) -> String? {
        guard let record = troubles[worker], let until = record.setAsideUntil, until > now else { return nil }
        return
            "set aside for \(Int(until.timeIntervalSince(now))) s more after failures or expired leases: \(record.lastError)"
    }

    /// Records a result whose files the intake has written (or refused), then acknowledges it.
    private mutating func record(
        _ job: ResultJob, _ outcome: ResultOutcome, _ tx: TaskStore.Transaction, now: Date,
        replies: inout [Reply]
    ) throws {
        let result = job.result
        let verdict: CompletionOutcome
        switch outcome {
        case .corrupt:
            counters.dropped += 1
            complain(
                job.peer, "dropped a result for \(result.task) from \(job.peer): digest does not match its attachments")
            return
        case .failed(let error):
            throw error
        case .rejected(let rejected):
            // Record it against the lease the sender holds now, if it still holds one for this task.
            if let task = try tx.task(result.task), task.state == .leased && task.attempts == result.attempt {
                try fail(
                    result.task, attempt: result.attempt, cause: .host, error: "\(rejected)", worker: job.peer, tx,
                    now: now)
            } else {
                complain(job.peer, "dropped a result for \(result.task) from \(job.peer): \(rejected)")
            }
            verdict = .stale
        case .stored(let ending):
            verdict = try tx.complete(
                task: result.task, attempt: result.attempt, from: job.holder, build: job.build,
                digest: result.digest, summary: result.summary, ending: ending, now: now)
            guard verdict == .recorded else { break }
            // A result ends the worker's run of trouble.
            if var trouble = troubles[job.peer], trouble.failuresInARow > 0 {
                trouble.failuresInARow = 0
                troubles[job.peer] = trouble
                try tx.record(trouble, of: job.peer)
            }
            switch ending {
            case .continues: break
            case .endsChain: note(.info, "\(result.task) ends its chain; later levels are not needed")
            case .diverged(let reason):
                note(.warning, "\(result.task) diverged (\(reason)); later levels of its chain are not needed")
            }
        }
        conclude(result, verdict, from: job.identity, peer: job.peer, replies: &replies)
    }

    /// Counts and logs what became of a result, frees its worker and acknowledges it.
    private mutating func conclude(
        _ result: TaskResult, _ verdict: CompletionOutcome, from identity: [UInt8], peer: String,
        replies: inout [Reply]
    ) {
        switch verdict {
        case .recorded:
            counters.recorded += 1
            note(.info, "recorded \(result.task) (attempt \(result.attempt)) from \(peer)")
        case .duplicate, .stale:
            counters.duplicates += 1
            complain(
                peer,
                "ignored a \(verdict == .duplicate ? "duplicate" : "late") result for \(result.task) (attempt \(result.attempt)) from \(peer)",
                level: .notice)
        case .wrongLease:
            counters.dropped += 1
            let key = peers[identity]?.key.map { " (key \($0))" } ?? ""
            complain(
                peer,
                "dropped a result for \(result.task) (attempt \(result.attempt)) from \(peer)\(key): it does not hold that lease (another worker's, or a wrong token or key)"
            )
        case .unknownTask:
            counters.dropped += 1
            complain(peer, "dropped a result for \(result.task) from \(peer): no such task")
        }
        if peers[identity]?.task?.id == result.task { peers[identity]?.task = nil }
        replies.append((identity, .acknowledge(TaskReference(task: result.task))))
    }

    /// Hands tasks to idle workers. Their leases run from when the tasks leave, not from the turn's start:
    /// preparing a task reads its level's files, and a turn that hands out many (every worker of a large
    /// cluster rejoining at once) can take longer than a lease, whose tasks would then expire before their
    /// workers even had them.
    private mutating func dispatch(_ tx: TaskStore.Transaction, now: Date, sends: inout [Reply]) throws {
        var leased: [(task: String, attempt: Int)] = []
        try leaseToIdleWorkers(tx, now: now, sends: &sends, leased: &leased)
        let sent = clock()
        guard sent > now else { return }
        for lease in leased {
            try tx.renew(task: lease.task, attempt: lease.attempt, leaseSeconds: settings.leaseSeconds, now: sent)
        }
    }

    /// Leases a task to every idle worker that answered its first heartbeat and is not set aside (unless
    /// every live worker is, so that a sweep whose every host fails still ends); the tasks are sent once
    /// the transaction commits. Which workers are live is known only once all have had time to rejoin:
    /// before that, a set-aside worker that came back first would be handed every task it fails.
    private mutating func leaseToIdleWorkers(
        _ tx: TaskStore.Transaction, now: Date, sends: inout [Reply], leased: inout [(task: String, attempt: Int)]
    ) throws {
        let everyoneSetAside =
            now.timeIntervalSince(startedAt) >= settings.rejoinSeconds
            && peers.values.allSatisfy { setAsideNote(for: $0.name, now: now) != nil }
        let liveHosts = twoLiveHosts()
        for (identity, peer) in peers where peer.task == nil && peer.answered {
            if !everyoneSetAside && setAsideNote(for: peer.name, now: now) != nil { continue }
            let holder = peer.holder(LeaseHolder.newToken())
            let otherHostsAlive = liveHosts.contains { $0 != peer.hello.host }
            guard
                let task = try tx.leaseNext(
                    to: holder, leaseSeconds: settings.leaseSeconds, otherHostsAlive: otherHostsAlive,
                    now: now)
            else {
                // The queue is empty, or holds only tasks this worker's host must leave to another.
                if try otherHostsAlive && tx.hasQueuedTask() { continue }
                return
            }
            peers[identity]?.task = (task.id, task.attempts, holder.token)
            counters.dispatched += 1
            if counters.firstDispatch == nil { counters.firstDispatch = now }
            let prepared: (parameters: String, attachments: [[UInt8]])
            do {
                prepared = try prepare(task)
            } catch let lost as LostLevel
                where (try? tx.recoveries(of: lost.task)) ?? Int.max < Self.recomputationsOfALevel
            {
                // A level it needs was deleted or damaged since it was recorded: compute that one again first.
                peers[identity]?.task = nil
                try tx.unlease(task: task.id, attempt: task.attempts, now: now)
                let sentBack = try tx.recompute([(lost.task, lost.reason)], now: now)
                note(
                    .warning,
                    "\(task.id) cannot start: \(lost); \(lost.task) will be computed again (\(sentBack.count) level(s) sent back to the queue)"
                )
                continue
            } catch {
                // Inputs that cannot be built will not appear later: fail the task with the reason.
                peers[identity]?.task = nil
                _ = try tx.fail(
                    task: task.id, attempt: task.attempts, cause: .task, error: "cannot prepare: \(error)",
                    limits: settings.retryLimits, now: now)
                note(.error, "task \(task.id) cannot be prepared: \(error); marked failed")
                continue
            }
            let assignment = TaskAssignment(
                task: task.id, attempt: task.attempts, lease: holder.token, kind: TaskKind(rawValue: task.kind),
                parameters: prepared.parameters)
            sends.append((identity, .task(assignment, attachments: prepared.attachments)))
            leased.append((task.id, task.attempts))
        }
    }

    /// Logs a complaint about `peer` within the bound `ComplaintLog` sets: a flood of bad messages costs the
    /// log a few lines an interval, not a line each.
    private mutating func complain(_ peer: String, _ message: String, level: Logger.Level = .warning) {
        for line in complaints.admit(peer, message, now: clock()) { note(level, line) }
    }

    /// Log lines held back while a transaction is open, or nil when none is.
    private var heldLines: [(level: Logger.Level, message: String)]?

    /// Logs now, or once the open transaction has committed.
    private mutating func note(_ level: Logger.Level, _ message: String) {
        if heldLines != nil { heldLines?.append((level, message)) } else { log.log(level: level, "\(message)") }
    }

    /// A store transaction whose log lines come out only after it commits: a line that says a level was
    /// recorded is never ahead of the store, whenever the coordinator is killed. The body gets the core
    /// itself to change, beside the transaction.
    private mutating func committing<T>(_ body: (inout CoordinatorCore, TaskStore.Transaction) throws -> T) throws -> T
    {
        heldLines = []
        defer {
            let lines = heldLines ?? []
            heldLines = nil
            for line in lines { log.log(level: line.level, "\(line.message)") }
        }
        let store = self.store
        let value = try store.transaction { tx in try body(&self, tx) }
        counters.commits += 1
        return value
    }

    /// The live view: the store's counts and failures, and the workers as this coordinator sees them now.
    package func status(now: Date) throws -> SweepStatus {
        var report = try SweepStatus(store: store, now: now)
        report.workers = peers.values.map {
            SweepStatus.Worker(
                name: $0.name, cores: $0.hello.cores, task: $0.task?.id,
                secondsSinceHeartbeat: now.timeIntervalSince($0.lastSeen), alive: true,
                setAside: setAsideNote(for: $0.name, now: now))
        }.sorted { $0.name < $1.name }
        return report
    }

    /// What became of a task whose lease was lost.
    static func verdict(_ state: TaskState?) -> String {
        state == .failed ? "too many lost leases, marked failed" : "back to the queue"
    }

    static func name(_ identity: [UInt8]) -> String {
        "peer " + identity.map { String(format: "%02x", $0) }.joined()
    }
}

extension WireMessage {
    var kindName: String {
        switch self {
        case .ready: return "READY"
        case .heartbeat: return "HEARTBEAT"
        case .task: return "TASK"
        case .result: return "RESULT"
        case .failure: return "FAILURE"
        case .acknowledge: return "ACK"
        case .revoke: return "REVOKE"
        case .refuse: return "REFUSE"
        case .done: return "DONE"
        case .statusRequest: return "STATUS?"
        case .status: return "STATUS"
        }
    }
}
