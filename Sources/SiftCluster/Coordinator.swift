import Foundation
import SiftSweep
import SiftWire

/// Hands tasks from the store to workers over a ROUTER socket, and records their results.
///
/// Every state change is committed to the store before the worker is answered, so the
/// coordinator can be killed at any moment and restarted with the same store.
public final class Coordinator {
    public struct Counters: Sendable {
        public var dispatched = 0
        public var recorded = 0
        public var duplicates = 0
        public var dropped = 0
        public var refused = 0
        /// When the first task went out, to measure throughput from there.
        public var firstDispatch: Date?

        public init() {}
    }

    struct Peer {
        var hello: WorkerHello
        var lastSeen: Date
        var task: (id: String, attempt: Int)?
    }

    /// CURVE encryption and the public keys of the workers let in.
    public struct Security: Sendable {
        public var secretKey: String
        public var allowedWorkers: Set<String>

        public init(secretKey: String, allowedWorkers: Set<String>) {
            self.secretKey = secretKey
            self.allowedWorkers = allowedWorkers
        }
    }

    let store: TaskStore
    let settings: ClusterSettings
    let socket: ZeroMQSocket
    let gatekeeper: ZAPAllowList?
    let log: (String) -> Void
    /// Builds a leased task's parameters and attachments (a level's masks and rewind point).
    let prepare: (TaskRecord) throws -> (parameters: String, attachments: [[UInt8]])
    /// Called with each valid result before it is recorded (artifacts are written here);
    /// returns whether it ends its chain.
    let onResult: (TaskRecord, TaskResult, [[UInt8]]) throws -> Bool
    private var peers: [[UInt8]: Peer] = [:]
    public private(set) var counters = Counters()

    public init(store: TaskStore, context: ZeroMQContext, bind endpoint: String, settings: ClusterSettings,
                security: Security? = nil, log: @escaping (String) -> Void,
                prepare: @escaping (TaskRecord) throws -> (parameters: String, attachments: [[UInt8]]) = { ($0.parameters, []) },
                onResult: @escaping (TaskRecord, TaskResult, [[UInt8]]) throws -> Bool = { _, _, _ in false }) throws {
        self.store = store
        self.settings = settings
        self.log = log
        self.prepare = prepare
        self.onResult = onResult
        socket = try ZeroMQSocket(context, kind: .router)
        try socket.set(ZeroMQOption.routerMandatory, 1)
        if let security {
            // The ZAP handler must be in place before the socket binds.
            gatekeeper = try ZAPAllowList(context, allowed: security.allowedWorkers, log: log)
            try socket.makeCurveServer(secretKey: security.secretKey)
        } else {
            gatekeeper = nil
        }
        try socket.bind(endpoint)
        // No lease survives a restart: those tasks go back to the queue.
        let released = try store.releaseAllLeases()
        if released > 0 { log("returned \(released) leased task(s) to the queue after a restart") }
    }

    public var endpoint: String { socket.lastEndpoint }

    /// Workers currently registered.
    public var workerCount: Int { peers.count }

    /// Serves until the sweep is finished (then tells every worker) or `shouldStop` returns true.
    /// `onTick` runs about once per heartbeat interval, for progress displays.
    ///
    /// Messages are taken in bursts: every change a burst causes is committed in one transaction,
    /// and only then are its acknowledgements and new tasks sent. Nothing is acknowledged before it is durable.
    public func run(shouldStop: () -> Bool = { false }, onTick: () -> Void = {}) throws {
        var lastBeat = Date.distantPast
        var finishedCheckDue = true
        while !shouldStop() {
            let ready = try ZeroMQSocket.poll([socket] + (gatekeeper.map { [$0.pollable] } ?? []),
                                              timeout: Int(settings.heartbeatInterval * 250))
            if ready.count > 1 && ready[1] { try gatekeeper?.handle() }
            var burst: [ReceivedMessage] = []
            while ready[0], burst.count < 512,
                  let message = try socket.receive(timeout: 0, maxFrames: WireMessage.maxFrames + 1, maxBytes: WireMessage.maxBytes) {
                burst.append(message)
            }
            var outgoing: [(identity: [UInt8], message: WireMessage)] = []
            let now = Date()
            let idle = peers.contains { $0.value.task == nil }
            if !burst.isEmpty || idle {
                try store.transaction { tx in
                    for message in burst { try handle(message, tx, now: now, replies: &outgoing) }
                    try dispatch(tx, now: now, sends: &outgoing)
                }
            }
            for (identity, message) in outgoing where !send(message, to: identity) {
                // A peer that vanished: a task sent to it returns to the queue when its lease ends.
                peers.removeValue(forKey: identity)
            }
            finishedCheckDue = finishedCheckDue || outgoing.contains { if case .acknowledge = $0.message { return true }; return false }
            if now.timeIntervalSince(lastBeat) >= settings.heartbeatInterval {
                lastBeat = now
                onTick()
                buryDeadPeers(now: now)
                try store.recordWorkers(peers.values.map {
                    TaskStore.WorkerRow(name: "\($0.hello.host):\($0.hello.pid)", cores: $0.hello.cores, task: $0.task?.id,
                                        lastSeen: $0.lastSeen, alive: true)
                })
                for identity in peers.keys { send(.heartbeat(Heartbeat()), to: identity) }
                for task in try store.expireLeases(maxAttempts: settings.maxAttempts, now: now) {
                    log("lease of \(task) expired; back to the queue")
                }
                finishedCheckDue = true
            }
            if finishedCheckDue {
                finishedCheckDue = false
                if try store.isFinished() {
                    for identity in peers.keys { send(.done, to: identity) }
                    // The workers exit on `done`: the store should not go on showing them at work.
                    try store.recordWorkers([])
                    log("sweep complete")
                    return
                }
            }
        }
    }

    private func handle(_ received: ReceivedMessage, _ tx: TaskStore.Transaction, now: Date,
                        replies: inout [(identity: [UInt8], message: WireMessage)]) throws {
        guard let identity = received.frames.first else { return }
        guard !received.truncated else {
            counters.dropped += 1
            log("dropped an oversized message from \(Self.name(identity))")
            return
        }
        let message: WireMessage
        do {
            message = try WireMessage(frames: Array(received.frames.dropFirst()))
        } catch let error as WireError {
            counters.dropped += 1
            log("dropped a message from \(Self.name(identity)): \(error)")
            if case .versionMismatch = error {
                replies.append((identity, .refuse(Refusal(reason: "\(error); upgrade the worker"))))
            }
            return
        }
        switch message {
        case .ready(let hello):
            guard hello.build == settings.build else {
                counters.refused += 1
                log("refused worker \(hello.host):\(hello.pid): build \(hello.build), coordinator runs \(settings.build)")
                replies.append((identity, .refuse(Refusal(reason: "worker build \(hello.build) differs from the coordinator's \(settings.build)"))))
                return
            }
            let inFlight = hello.task.flatMap { task in hello.attempt.map { (id: task.task, attempt: $0) } }
            peers[identity] = Peer(hello: hello, lastSeen: now, task: inFlight)
            log("worker \(hello.host):\(hello.pid) ready (\(hello.cores) cores)")
        case .heartbeat(let beat):
            guard var peer = peers[identity] else { return }
            peer.lastSeen = now
            peers[identity] = peer
            if let task = peer.task, beat.task == task.id {
                try tx.renew(task: task.id, attempt: task.attempt, leaseSeconds: settings.leaseSeconds, now: now)
            }
        case let .result(result, attachments):
            peers[identity]?.lastSeen = now
            guard TaskDigest.of(attachments) == result.digest else {
                counters.dropped += 1
                log("dropped a result for \(result.task) from \(Self.name(identity)): digest does not match its attachments")
                return
            }
            let outcome = try record(result, attachments: attachments, tx, now: now)
            switch outcome {
            case .recorded: counters.recorded += 1
            case .duplicate, .stale:
                counters.duplicates += 1
                log("ignored a \(outcome == .duplicate ? "duplicate" : "late") result for \(result.task) (attempt \(result.attempt)) from \(Self.name(identity))")
            case .unknownTask: counters.dropped += 1
            }
            if peers[identity]?.task?.id == result.task { peers[identity]?.task = nil }
            replies.append((identity, .acknowledge(TaskReference(task: result.task))))
        case .failure(let failure):
            peers[identity]?.lastSeen = now
            let state = try tx.fail(task: failure.task, attempt: failure.attempt, error: failure.error,
                                    maxAttempts: settings.maxAttempts, now: now)
            log("task \(failure.task) attempt \(failure.attempt) failed: \(failure.error)" + (state == .failed ? " — giving up" : ""))
            if peers[identity]?.task?.id == failure.task { peers[identity]?.task = nil }
            replies.append((identity, .acknowledge(TaskReference(task: failure.task))))
        case .statusRequest:
            replies.append((identity, .status(try status(now: now))))
        case .task, .acknowledge, .refuse, .done, .status:
            counters.dropped += 1
            log("dropped an out-of-place \(message.kindName) from \(Self.name(identity))")
        }
    }

    /// Stores a result (after the artifact hook) and says what became of it.
    private func record(_ result: TaskResult, attachments: [[UInt8]], _ tx: TaskStore.Transaction, now: Date) throws -> CompletionOutcome {
        guard let task = try tx.task(result.task) else { return .unknownTask }
        if task.state == .done { return .duplicate }
        guard task.state == .leased, task.attempts == result.attempt else { return .stale }
        let endsChain = try onResult(task, result, attachments)
        if endsChain { log("\(result.task) ends its chain; later levels are not needed") }
        return try tx.complete(task: result.task, attempt: result.attempt, digest: result.digest, summary: result.summary,
                               endsChain: endsChain, now: now)
    }

    /// Leases a task to every idle worker; the tasks are sent once the transaction commits.
    private func dispatch(_ tx: TaskStore.Transaction, now: Date, sends: inout [(identity: [UInt8], message: WireMessage)]) throws {
        for (identity, peer) in peers where peer.task == nil {
            guard let task = try tx.leaseNext(worker: "\(peer.hello.host):\(peer.hello.pid)", leaseSeconds: settings.leaseSeconds, now: now) else {
                return
            }
            peers[identity]?.task = (task.id, task.attempts)
            counters.dispatched += 1
            if counters.firstDispatch == nil { counters.firstDispatch = now }
            let prepared: (parameters: String, attachments: [[UInt8]])
            do {
                prepared = try prepare(task)
            } catch {
                // Inputs that cannot be built will not appear later: fail the task with the reason.
                peers[identity]?.task = nil
                let state = try tx.fail(task: task.id, attempt: task.attempts, error: "cannot prepare: \(error)", maxAttempts: 1, now: now)
                log("task \(task.id) cannot be prepared: \(error)" + (state == .failed ? "; marked failed" : ""))
                continue
            }
            let assignment = TaskAssignment(task: task.id, attempt: task.attempts, kind: task.kind, parameters: prepared.parameters)
            sends.append((identity, .task(assignment, attachments: prepared.attachments)))
        }
    }

    /// The live view: the store's counts and failures, and the workers as this coordinator sees them now.
    func status(now: Date) throws -> SweepStatus {
        var report = try SweepStatus(store: store, now: now)
        report.workers = peers.values.map {
            SweepStatus.Worker(name: "\($0.hello.host):\($0.hello.pid)", cores: $0.hello.cores, task: $0.task?.id,
                               secondsSinceHeartbeat: now.timeIntervalSince($0.lastSeen), alive: true)
        }.sorted { $0.name < $1.name }
        return report
    }

    private func buryDeadPeers(now: Date) {
        let deadline = settings.heartbeatInterval * Double(settings.liveness)
        for (identity, peer) in peers where now.timeIntervalSince(peer.lastSeen) > deadline {
            peers.removeValue(forKey: identity)
            log("worker \(peer.hello.host):\(peer.hello.pid) silent for \(Int(deadline)) s; declared dead"
                + (peer.task.map { ", task \($0.id) returns to the queue when its lease ends" } ?? ""))
        }
    }

    @discardableResult
    private func send(_ message: WireMessage, to identity: [UInt8]) -> Bool {
        do {
            try socket.send([identity] + message.frames)
            return true
        } catch {
            return false
        }
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
        case .refuse: return "REFUSE"
        case .done: return "DONE"
        case .statusRequest: return "STATUS?"
        case .status: return "STATUS"
        }
    }
}
