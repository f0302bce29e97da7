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
    ///
    /// The protocol's decisions are `WorkerCore`'s; this loop owns the socket, runs tasks on threads and
    /// carries out what the core asks.
    package func run(
        shouldStop: @escaping () -> Bool = { false }, shouldAbandon: @escaping () -> String? = { nil }
    ) throws -> Exit {
        var (socket, monitor) = try connect()
        var core = WorkerCore(settings: settings, endpoint: endpoint, now: clock())
        var job: Job?
        /// Carries out the core's actions in order; returns the exit, if one is among them.
        func perform(_ actions: [WorkerCore.Action]) throws -> Exit? {
            for action in actions {
                switch action {
                case .send(let message):
                    try socket.send(message.frames)
                case .log(let level, let message):
                    logger.log(level: level, "\(message)", metadata: ["task": "\(job?.assignment.task ?? "none")"])
                case let .start(assignment, attachments):
                    let started = Job(assignment)
                    job = started
                    let executor = self.executor
                    Thread.detachNewThread {
                        started.outcome = Self.execute(assignment, attachments, executor, progress: started.progress)
                    }
                case .reconnect(let seconds):
                    socket.close()
                    // Wait in short steps, so that a stop or an abandon is seen during the backoff.
                    let resume = clock().addingTimeInterval(seconds)
                    while clock() < resume && !shouldStop() && shouldAbandon() == nil { usleep(50_000) }
                    (socket, monitor) = try connect(busyWith: core.task)
                    core.reconnected(now: clock())
                case .exit(let exit):
                    return exit
                }
            }
            return nil
        }
        while true {
            if let exit = try perform(
                core.begin(now: clock(), ended: job?.outcome, stopAsked: shouldStop(), abandon: shouldAbandon()))
            {
                return exit
            }
            if let message = try socket.receive(
                timeout: core.waitMilliseconds, maxFrames: WireMessage.maxFrames, maxBytes: WireMessage.maxBytes)
            {
                let decoded = Result { try WireMessage(frames: message.frames) }.mapError {
                    $0 as? WireError ?? .malformed("\($0)")
                }
                if let exit = try perform(core.received(decoded, now: clock())) { return exit }
            }
            if let refusal = try handshakeRefusal(monitor),
                let exit = try perform([.log(.error, refusal), .exit(.refused(refusal))])
            {
                return exit
            }
            let now = clock()
            if let exit = try perform(core.end(now: now, ended: job?.outcome, progress: job?.progress.read(now: now))) {
                return exit
            }
            if core.task == nil { job = nil }
        }
    }

    /// Runs a task to its outcome: its result, or its failure with the cause it names (only an error that
    /// blames the host is retried elsewhere; anything else is the task's own).
    static func execute(
        _ assignment: TaskAssignment, _ attachments: [[UInt8]], _ executor: Executor, progress: ProgressBoard
    ) -> WireMessage {
        do {
            let (summary, files) = try executor(assignment, attachments, progress)
            let result = TaskResult(
                task: assignment.task, attempt: assignment.attempt, lease: assignment.lease,
                digest: TaskDigest.of(files), summary: summary)
            return .result(result, attachments: files)
        } catch {
            let cause = (error as? AttributedError)?.cause ?? .task
            return .failure(
                TaskFailure(
                    task: assignment.task, attempt: assignment.attempt, lease: assignment.lease, error: "\(error)",
                    cause: cause))
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
