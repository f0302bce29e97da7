import Foundation
import Logging
import SiftStore
import SiftConfig
import SiftWire

/// Serves a `CoordinatorCore` over a ROUTER socket: polls it, takes messages in bursts, hands results to the
/// intake to be written off the loop, logs failed handshakes, and sends what the core answers.
///
/// Every state change is committed to the store before the worker is answered, so the coordinator can be
/// killed at any moment and restarted with the same store.
package final class Coordinator {
    package typealias Counters = CoordinatorCore.Counters

    /// CURVE encryption and the public keys of the workers let in.
    package struct Security: Sendable {
        package var secretKey: String
        package var allowedWorkers: Set<String>

        package init(secretKey: String, allowedWorkers: Set<String>) {
            self.secretKey = secretKey
            self.allowedWorkers = allowedWorkers
        }
    }

    private var core: CoordinatorCore
    let socket: ZeroMQSocket
    let gatekeeper: ZAPAllowList?
    /// Handshakes that failed (a plain client at a CURVE coordinator, say) never arrive as messages: this logs them.
    let handshakes: SocketMonitor
    /// Checks results and writes their files off the loop (see `ResultIntake`).
    let intake: ResultIntake
    let settings: ClusterSettings

    /// `onResult` is called with each result whose digest and lease check out, before it is recorded, on a
    /// background queue (one result at a time): it writes the artifacts and says whether the result ends its
    /// chain, or throws `RejectedResult` for a result that does not hold what it should.
    package init(
        store: TaskStore, context: ZeroMQContext, bind endpoint: String, settings: ClusterSettings,
        security: Security? = nil, log: Logger, clock: @escaping () -> Date = Date.init,
        prepare: @escaping CoordinatorCore.Prepare = CoordinatorCore.asRecorded,
        onResult: @escaping ResultOutcome.Store = { _, _, _ in .continues }
    ) throws {
        self.settings = settings
        intake = ResultIntake(store: onResult)
        let complaints = ComplaintLog()
        socket = try ZeroMQSocket(context, kind: .router)
        handshakes = try SocketMonitor(watching: socket, context: context)
        try socket.set(ZeroMQOption.routerMandatory, 1)
        try socket.set(ZeroMQOption.maximumMessageSize, int64: Int64(settings.maximumFrameBytes))
        // libzmq queues up to this many whole messages per peer before it stops reading that peer's
        // connection: with the part and message limits, what a flood can make the coordinator hold.
        try socket.set(ZeroMQOption.receiveQueueLength, Self.queuedMessagesPerPeer)
        if let security {
            // The ZAP handler must be in place before the socket binds.
            gatekeeper = try ZAPAllowList(
                context, allowed: security.allowedWorkers,
                log: { line in
                    for line in complaints.admit("CURVE", line, now: clock()) { log.warning("\(line)") }
                })
            try socket.makeCurveServer(secretKey: security.secretKey)
        } else {
            gatekeeper = nil
        }
        try socket.bind(endpoint)
        log.notice("serving on \(socket.lastEndpoint) as build \(settings.build)")
        // Each worker's connection is an open file here.
        let openFiles = OpenFileLimit.raiseToHardLimit()
        if openFiles < 4096 {
            log.warning(
                "this process may open only \(openFiles) files, so it can hold about \(max(openFiles - 100, 0)) workers; raise the hard limit (ulimit -Hn, LimitNOFILE= in systemd, or ask the cluster's admins) for more"
            )
        }
        core = try CoordinatorCore(
            store: store, settings: settings, log: log, complaints: complaints, clock: clock, prepare: prepare)
    }

    package var endpoint: String { socket.lastEndpoint }

    /// A worker has at most a result and a heartbeat or two in flight.
    static let queuedMessagesPerPeer: Int32 = 2

    package var counters: Counters { core.counters }

    /// Workers currently registered.
    package var workerCount: Int { core.workerCount }

    /// Results taken in whose files are still being written: a test that steps the loop turns it until none is.
    package var resultsInFlight: Int { core.resultsInFlight }

    /// Serves until the sweep is finished (then tells every worker) or `shouldStop` returns true.
    /// `onTick` runs about once per heartbeat interval, for progress displays and supervision.
    /// Returns whether the sweep finished.
    @discardableResult
    package func run(shouldStop: () -> Bool = { false }, onTick: () -> Void = {}) throws -> Bool {
        while !shouldStop() {
            if try serveOnce(waitMilliseconds: Int(settings.heartbeatInterval * 250), onTick: onTick) { return true }
        }
        return false
    }

    /// One turn of the loop: waits up to `waitMilliseconds` for messages, takes a burst of them, and lets the
    /// core handle it (see `CoordinatorCore.turn`). Returns true once the sweep is finished.
    @discardableResult
    package func serveOnce(waitMilliseconds: Int, onTick: () -> Void = {}) throws -> Bool {
        // A result being written is picked up within a few milliseconds of being ready.
        let wait = core.resultsInFlight > 0 ? min(waitMilliseconds, 2) : waitMilliseconds
        let ready = try ZeroMQSocket.poll(
            [socket, handshakes.pollable] + (gatekeeper.map { [$0.pollable] } ?? []), timeout: wait)
        if ready[1] {
            // A refused CURVE key is logged by the ZAP handler, with the key. Which side notices a mechanism
            // mismatch first is a race: here it shows as a protocol error or as a connection cut mid-handshake.
            for event in try handshakes.events() {
                switch event {
                case .protocolError, .failed:
                    core.handshakeFailed(
                        endpoint: endpoint, problem: event.problem ?? "", underCurve: gatekeeper != nil)
                case .succeeded, .refusedCredentials:
                    continue
                }
            }
        }
        if ready.count > 2 && ready[2] { try gatekeeper?.handle() }
        // A burst ends at 512 messages, or once it holds as many bytes as the largest result.
        var burst: [ReceivedMessage] = []
        var burstBytes = 0
        while ready[0], burst.count < 512, burstBytes < settings.maximumMessageBytes,
            let message = try socket.receive(
                timeout: 0, maxFrames: settings.receiveLimits.frames, maxBytes: settings.receiveLimits.bytes)
        {
            burst.append(message)
            burstBytes += message.frames.reduce(0) { $0 + $1.count }
        }
        let turn = try core.turn(received: burst, written: intake.collect(), send: send)
        for (job, attachments) in turn.submissions { intake.submit(job, attachments: attachments) }
        if turn.ticked { onTick() }
        return turn.finished
    }

    /// A worker process known to have exited (a local worker of `sift run`): its lease is lost now,
    /// rather than when its heartbeats are missed.
    package func workerExited(host: String, pid: Int32, cause: String) throws {
        try core.workerExited(host: host, pid: pid, cause: cause)
    }

    /// The live view: the store's counts and failures, and the workers as this coordinator sees them now.
    package func status(now: Date) throws -> SweepStatus { try core.status(now: now) }

    private func send(_ message: WireMessage, to identity: [UInt8]) -> Bool {
        do {
            try socket.send([identity] + message.frames, waiting: false)
            return true
        } catch {
            return false
        }
    }
}
