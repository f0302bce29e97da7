import Foundation
import SiftCluster
import SiftWire

/// A worker whose every message the test writes, over a real DEALER socket: the one scripted peer of the
/// failure-policy, fuzz and end-to-end tests. It says READY when made, answers the coordinator's challenges,
/// and sends what it is told (a result of its task, a forged one, a failure, a flood).
package struct ScriptedPeer {
    package let socket: ZeroMQSocket
    package let pid: Int32
    package let host: String
    package var name: String { "\(host):\(pid)" }

    /// Connects to `endpoint` and says READY with `build`; `holding`, as a worker that reconnects names the
    /// task it still runs.
    package init(_ context: ZeroMQContext, endpoint: String, pid: Int32, host: String, cores: Int = 1, build: String,
                holding task: TaskAssignment? = nil) throws {
        self.pid = pid
        self.host = host
        socket = try ZeroMQSocket(context, kind: .dealer)
        try socket.connect(endpoint)
        var hello = WorkerHello(host: host, pid: pid, cores: cores, build: build)
        if let task {
            (hello.task, hello.attempt, hello.lease) = (TaskReference(task: task.task), task.attempt, task.lease)
        }
        try send(.ready(hello))
    }

    package func send(_ message: WireMessage) throws { try socket.send(message.frames) }

    /// Messages already delivered (inproc delivers at once), heartbeats left out; a heartbeat's challenge is
    /// answered, as a real worker does.
    package func inbox() throws -> [WireMessage] {
        var messages: [WireMessage] = []
        while let received = try socket.receive(timeout: 0) {
            let message = try WireMessage(frames: received.frames)
            if !(try answered(message)) { messages.append(message) }
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
            guard let reply = try socket.receive(timeout: 100), let message = try? WireMessage(frames: reply.frames) else { continue }
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
    package static func resultMessage(_ assignment: TaskAssignment, lease: String? = nil, summary: String = "{}",
                                     files: [[UInt8]]? = nil) -> WireMessage {
        let files = files ?? [Array(assignment.task.utf8)]
        return .result(TaskResult(task: assignment.task, attempt: assignment.attempt, lease: lease ?? assignment.lease,
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
