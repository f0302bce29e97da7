import Foundation
import SiftCluster
import SiftWire

/// What a scripted peer speaks over: a DEALER socket to a coordinator, or a connection to an
/// `EmbeddedCoordinator`.
package protocol PeerLink {
    func send(_ frames: [[UInt8]]) throws
    /// The next message for this peer, waiting up to `timeout` ms for one (an embedded link never waits).
    func receive(timeout: Int) throws -> [[UInt8]]?
}

/// A DEALER socket connected to a coordinator's endpoint.
package struct DealerLink: PeerLink {
    package let socket: ZeroMQSocket

    /// `lingerMilliseconds` 0 drops what is queued when the socket closes (thousands of simulated workers).
    package init(_ context: ZeroMQContext, endpoint: String, lingerMilliseconds: Int32? = nil) throws {
        socket = try ZeroMQSocket(context, kind: .dealer)
        if let lingerMilliseconds { try socket.set(ZeroMQOption.linger, lingerMilliseconds) }
        try socket.connect(endpoint)
    }

    package func send(_ frames: [[UInt8]]) throws { try socket.send(frames) }

    package func receive(timeout: Int) throws -> [[UInt8]]? { try socket.receive(timeout: timeout)?.frames }
}

/// A worker whose every message the test writes: the one scripted peer of the failure-policy and fuzz tests
/// (over an `EmbeddedCoordinator`), of the end-to-end tests and of the simulated cluster (over a DEALER
/// socket). It says READY when made, answers the coordinator's challenges, and sends what it is told (a result
/// of its task, a forged one, a failure, a flood).
package struct ScriptedPeer {
    package let link: any PeerLink
    package let pid: Int32
    package let host: String
    package var name: String { "\(host):\(pid)" }

    /// Says READY with `build` over `link`; `holding`, as a worker that reconnects names the task it still runs.
    package init(
        _ link: any PeerLink, pid: Int32, host: String, cores: Int = 1, build: String,
        holding task: TaskAssignment? = nil
    ) throws {
        self.link = link
        self.pid = pid
        self.host = host
        var hello = WorkerHello(host: host, pid: pid, cores: cores, build: build)
        if let task {
            (hello.task, hello.attempt, hello.lease) = (TaskReference(task: task.task), task.attempt, task.lease)
        }
        try send(.ready(hello))
    }

    /// Connects to a coordinator's `endpoint` over a DEALER socket and says READY.
    package init(
        _ context: ZeroMQContext, endpoint: String, pid: Int32, host: String, cores: Int = 1, build: String
    ) throws {
        try self.init(try DealerLink(context, endpoint: endpoint), pid: pid, host: host, cores: cores, build: build)
    }

    package func send(_ message: WireMessage) throws { try link.send(message.frames) }

    /// Every message delivered so far, heartbeats included, none answered.
    package func delivered() throws -> [WireMessage] {
        var messages: [WireMessage] = []
        while let frames = try link.receive(timeout: 0) { messages.append(try WireMessage(frames: frames)) }
        return messages
    }

    /// Messages already delivered, heartbeats left out unless asked for; a heartbeat's challenge is answered,
    /// as a real worker does.
    package func inbox(heartbeats: Bool = false) throws -> [WireMessage] {
        var messages: [WireMessage] = []
        while let frames = try link.receive(timeout: 0) {
            let message = try WireMessage(frames: frames)
            if !(try answered(message)) || heartbeats { messages.append(message) }
        }
        return messages
    }

    /// The one task in the inbox, if any.
    package func task() throws -> TaskAssignment? {
        for case let .task(assignment, _) in try inbox() { return assignment }
        return nil
    }

    /// Waits up to `timeout` seconds for a task, answering challenges on the way; nil when refused or none came
    /// (a coordinator in another process, over TCP).
    package func awaitTask(timeout: Double) throws -> TaskAssignment? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let frames = try link.receive(timeout: 100), let message = try? WireMessage(frames: frames) else {
                continue
            }
            if try answered(message) { continue }
            switch message {
            case let .task(assignment, _): return assignment
            case .refuse: return nil
            default: continue
            }
        }
        return nil
    }

    /// A result for `assignment` carrying `files` (by default the task's name, so digests differ per task),
    /// under `lease` (by default the task's own), for a test to send as it is or to tamper with.
    package static func resultMessage(
        _ assignment: TaskAssignment, lease: String? = nil, summary: String = "{}",
        files: [[UInt8]]? = nil
    ) -> WireMessage {
        let files = files ?? [Array(assignment.task.utf8)]
        return .result(
            TaskResult(
                task: assignment.task, attempt: assignment.attempt, lease: lease ?? assignment.lease,
                digest: TaskDigest.of(files), summary: summary),
            attachments: files)
    }

    /// Sends the task's result, as an honest worker that did it would.
    package func result(_ assignment: TaskAssignment) throws { try send(Self.resultMessage(assignment)) }

    /// Whether `message` was a heartbeat, answered if it carried a challenge.
    private func answered(_ message: WireMessage) throws -> Bool {
        guard case .heartbeat(let beat) = message else { return false }
        if let challenge = beat.challenge { try send(.heartbeat(Heartbeat(answer: challenge))) }
        return true
    }
}
