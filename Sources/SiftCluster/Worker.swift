import Foundation
import Logging
import Synchronization
import SiftWire

/// Runs tasks for a coordinator over a DEALER socket, one at a time.
///
/// The task runs on its own thread; this object's thread owns the socket, keeps the heartbeats
/// going and reconnects (Paranoid Pirate: a fresh socket, backoff doubling from 1 s to 32 s) when
/// the coordinator falls silent. A result finished while disconnected is sent after reconnecting.
/// A worker told to stop finishes its task and reports it, but no longer waits for a coordinator
/// that has gone silent; told to abandon, it leaves at once (the task's lease is lost, at no cost to it).
package final class Worker {
    /// Runs one task: returns its summary and attachments, or throws to report a failure. It may point
    /// `progress` at its own counters, which the heartbeats then carry to the coordinator.
    package typealias Executor =
        @Sendable (TaskAssignment, [[UInt8]], ProgressBoard) throws -> (summary: String, attachments: [[UInt8]])

    package enum Exit: Equatable, Sendable {
        case sweepComplete
        case refused(String)
        /// Stopped on request, with the task in flight (if any) finished and reported, or its coordinator gone.
        case stopped
        /// Left at once, the task in flight unfinished.
        case abandoned(String)
        /// The coordinator revoked the task in flight (its training stopped moving). A thread cannot be
        /// stopped from outside: the caller replaces the process (`sift worker` re-executes itself).
        case revoked(String)
    }

    let endpoint: String
    let context: ZeroMQContext
    let settings: ClusterSettings
    let executor: Executor
    /// Every line names this worker (host:pid) and the task in flight.
    let logger: Logger
    let hello: WorkerHello
    /// The coordinator's public key and this worker's key pair, when the coordinator uses CURVE.
    let curve: (serverKey: String, keys: CurveKeyPair)?
    let clock: () -> Date
    /// Security handshakes failed in a row without a reason given, since the last one that succeeded.
    private var handshakeFailures = 0
    /// How many such failures in a row mean the two sides cannot agree (libzmq retries every 100 ms).
    static let handshakeFailuresToGiveUp = 5

    package init(
        endpoint: String, context: ZeroMQContext, settings: ClusterSettings,
        curve: (serverKey: String, keys: CurveKeyPair)? = nil, executor: @escaping Executor,
        log: Logger, clock: @escaping () -> Date = Date.init,
        instance: Int32 = getpid()
    ) {
        self.curve = curve
        self.clock = clock
        self.endpoint = endpoint
        self.context = context
        self.settings = settings
        self.executor = executor
        // The coordinator knows a worker as host:pid; workers sharing a process (tests) need instances of their own.
        hello = WorkerHello(
            host: ProcessInfo.processInfo.hostName, pid: instance,
            cores: ProcessInfo.processInfo.activeProcessorCount, build: settings.build)
        var logger = log
        logger[metadataKey: "worker"] = "\(hello.host):\(hello.pid)"
        self.logger = logger
    }

    /// The task in flight and, once it ends, its outcome; shared with the task's thread.
    final class Job: Sendable {
        let assignment: TaskAssignment
        let progress = ProgressBoard()
        private let finished = Mutex<WireMessage?>(nil)

        init(_ assignment: TaskAssignment) { self.assignment = assignment }

        var outcome: WireMessage? {
            get { finished.withLock { $0 } }
            set { finished.withLock { $0 = newValue } }
        }
    }

    /// Serves until the coordinator says the sweep is complete, refuses us, or `shouldStop` turns
    /// true, in which case the task in flight is finished and reported before returning (unless the
    /// coordinator is silent by then). `shouldAbandon` returns a reason to leave at once.
    package func run(
        shouldStop: @escaping () -> Bool = { false }, shouldAbandon: @escaping () -> String? = { nil }
    ) throws -> Exit {
        var (socket, monitor) = try connect()
        var lastHeard = clock(), lastBeat = Date.distantPast
        var backoff = 1.0
        var job: Job?
        /// Whether the job's outcome went out on the current socket.
        var reported = false
        var stopping = false
        func log(_ level: Logger.Level, _ message: String) {
            logger.log(level: level, "\(message)", metadata: ["task": "\(job?.assignment.task ?? "none")"])
        }
        let silence = settings.heartbeatInterval * Double(settings.liveness)
        while true {
            if let reason = shouldAbandon() {
                log(
                    .warning,
                    "leaving at once: \(reason)" + (job.map { "; task \($0.assignment.task) is left unfinished" } ?? "")
                )
                return .abandoned(reason)
            }
            if shouldStop() && !stopping {
                stopping = true
                log(.notice, job.map { "stopping after task \($0.assignment.task)" } ?? "stopping")
            }
            if stopping && job == nil { return .stopped }
            if stopping, clock().timeIntervalSince(lastHeard) > silence {
                log(
                    .warning,
                    "stopping without reporting task \(job?.assignment.task ?? "?"): the coordinator at \(endpoint) is silent"
                )
                return .stopped
            }

            // While a task runs, look often for its end; idle, wait longer for the coordinator.
            let wait = job.map { _ in reported ? 100 : 1 } ?? 100
            if let message = try socket.receive(
                timeout: wait, maxFrames: WireMessage.maxFrames, maxBytes: WireMessage.maxBytes)
            {
                lastHeard = clock()
                backoff = 1
                let decoded: WireMessage?
                do {
                    decoded = try WireMessage(frames: message.frames)
                } catch WireError.versionMismatch(let peer, let ours) {
                    let reason =
                        "the coordinator speaks protocol version \(peer), this worker \(ours); run the same sift build on both"
                    log(.error, reason)
                    return .refused(reason)
                } catch {
                    log(.warning, "dropped a message from the coordinator: \(error)")
                    decoded = nil
                }
                switch decoded {
                case let .task(assignment, attachments)?:
                    if job != nil || stopping {
                        let reason = job.map { "worker is busy with \($0.assignment.task)" } ?? "worker is stopping"
                        try socket.send(
                            WireMessage.failure(
                                TaskFailure(
                                    task: assignment.task, attempt: assignment.attempt,
                                    lease: assignment.lease, error: reason, cause: .declined)
                            ).frames)
                        continue
                    }
                    let started = Job(assignment)
                    job = started
                    reported = false
                    log(.info, "started (attempt \(assignment.attempt))")
                    let executor = self.executor
                    Thread.detachNewThread {
                        do {
                            let (summary, files) = try executor(assignment, attachments, started.progress)
                            started.outcome = .result(
                                TaskResult(
                                    task: assignment.task, attempt: assignment.attempt,
                                    lease: assignment.lease, digest: TaskDigest.of(files), summary: summary),
                                attachments: files)
                        } catch {
                            // Only an error that blames the host is retried elsewhere; anything else is the task's own.
                            let cause = (error as? AttributedError)?.cause ?? .task
                            started.outcome = .failure(
                                TaskFailure(
                                    task: assignment.task, attempt: assignment.attempt,
                                    lease: assignment.lease, error: "\(error)", cause: cause))
                        }
                    }
                case .acknowledge(let reference)?:
                    if job?.assignment.task == reference.task && job?.outcome != nil { job = nil }
                case let .revoke(reference, reason)?:
                    guard let current = job, current.assignment.task == reference.task, current.outcome == nil else {
                        break
                    }
                    let why = "the coordinator revoked task \(reference.task): \(reason); leaving it to another worker"
                    log(.error, why)
                    return .revoked(why)
                case .done?:
                    if job == nil { return .sweepComplete }
                case .refuse(let refusal)?:
                    log(.error, "refused by the coordinator: \(refusal.reason)")
                    return .refused(refusal.reason)
                case .heartbeat(let beat)?:
                    // Answered at once: the coordinator gives a new peer no task before this round trip.
                    if let challenge = beat.challenge {
                        try socket.send(
                            WireMessage.heartbeat(Heartbeat(task: job?.assignment.task, answer: challenge)).frames)
                    }
                case .ready?, .result?, .failure?, .statusRequest?, .status?, nil:
                    break
                }
            }
            if let refusal = try handshakeRefusal(monitor) {
                log(.error, refusal)
                return .refused(refusal)
            }
            // Report a finished task; it is resent after each reconnect until acknowledged.
            if job != nil, !reported, let outcome = job?.outcome {
                try socket.send(outcome.frames)
                reported = true
                if case .failure(let failure) = outcome {
                    log(.warning, "failed (\(failure.cause.rawValue)): \(failure.error)")
                } else {
                    log(.info, "finished; result sent")
                }
            }
            let now = clock()
            if now.timeIntervalSince(lastBeat) >= settings.heartbeatInterval {
                lastBeat = now
                try socket.send(
                    WireMessage.heartbeat(Heartbeat(task: job?.assignment.task, progress: job?.progress.read(now: now)))
                        .frames)
            }
            if now.timeIntervalSince(lastHeard) > silence && !stopping {
                log(.warning, "coordinator at \(endpoint) silent; reconnecting in \(Int(backoff)) s")
                socket.close()
                // Wait in short steps, so that a stop or an abandon is seen during the backoff.
                let resume = clock().addingTimeInterval(backoff)
                while clock() < resume && !shouldStop() && shouldAbandon() == nil { usleep(50_000) }
                backoff = min(backoff * 2, ClusterSettings.maximumReconnectBackoff)
                (socket, monitor) = try connect(busyWith: job?.assignment)
                reported = false
                lastHeard = clock()
            }
        }
    }

    /// Why the coordinator refused this worker at the security handshake, if it did: a refusal that no
    /// retry can change, so the worker says so and exits rather than waiting in silence.
    /// A mechanism mismatch reaches this side as a protocol error, or, when the coordinator hangs up first,
    /// as a failure with no reason (a broken pipe) on every one of libzmq's retries; a streak of those
    /// counts as the mismatch, while a lone one (a coordinator stopped mid-handshake) does not.
    private func handshakeRefusal(_ monitor: SocketMonitor) throws -> String? {
        let plainAdvice = "the coordinator uses CURVE: pass --curve-secret and --server-key"
        for event in try monitor.events() {
            switch event {
            case .refusedCredentials:
                return
                    "the coordinator at \(endpoint) refused this worker: its CURVE key is not on the coordinator's allow-list; "
                    + "add \(curve?.keys.publicKey ?? "its public key") to the file given to the coordinator's --allow"
            case .protocolError:
                return "the coordinator at \(endpoint) refused this worker: \(event.problem ?? ""); "
                    + (curve == nil
                        ? plainAdvice : "the coordinator does not use CURVE: leave out --curve-secret and --server-key")
            case .failed:
                handshakeFailures += 1
                if handshakeFailures >= Self.handshakeFailuresToGiveUp {
                    return "the coordinator at \(endpoint) broke off \(handshakeFailures) security handshakes in a row "
                        + "(\(event.problem ?? "")); "
                        + (curve == nil
                            ? plainAdvice : "it may not use CURVE, or may hold another key than --server-key names")
                }
            case .succeeded:
                handshakeFailures = 0
            }
        }
        return nil
    }

    /// A fresh DEALER socket that introduces itself, naming the task still in flight if any, and the
    /// monitor of its handshakes.
    private func connect(busyWith assignment: TaskAssignment? = nil) throws -> (ZeroMQSocket, SocketMonitor) {
        let socket = try ZeroMQSocket(context, kind: .dealer)
        let monitor = try SocketMonitor(watching: socket, context: context)
        if let curve { try socket.makeCurveClient(serverKey: curve.serverKey, keys: curve.keys) }
        try socket.connect(endpoint)
        var greeting = hello
        greeting.task = assignment.map { TaskReference(task: $0.task) }
        greeting.attempt = assignment?.attempt
        greeting.lease = assignment?.lease
        try socket.send(WireMessage.ready(greeting).frames)
        return (socket, monitor)
    }
}
