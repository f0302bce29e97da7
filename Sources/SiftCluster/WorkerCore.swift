import Foundation
import Logging
import SiftWire

/// The worker's side of the protocol with no socket, thread or clock of its own: when to answer a challenge,
/// take or decline a task, report its outcome (again after each reconnect, until acknowledged), send a
/// heartbeat, reconnect with a doubling backoff, and leave. `Worker` feeds it what its DEALER socket
/// receives and what the task's thread ends with, and carries out the actions it returns; tests feed it by
/// hand with a clock they move.
package struct WorkerCore {
    /// What the worker's shell is to do, in order.
    package enum Action: Equatable, Sendable {
        case send(WireMessage)
        /// Run the task on a thread of its own; its outcome comes back through `turn(now:ended:)`.
        case start(TaskAssignment, attachments: [[UInt8]])
        /// Close the socket, wait this long (seeing a stop or an abandon meanwhile), then connect afresh,
        /// naming the task in flight, and call `reconnected(now:)`.
        case reconnect(afterSeconds: Double)
        case exit(Worker.Exit)
        case log(Logger.Level, String)
    }

    let settings: ClusterSettings
    let endpoint: String
    /// The task in flight, and its outcome once its thread has ended it.
    package private(set) var task: TaskAssignment?
    private var outcome: WireMessage?
    /// Whether the outcome went out on the current connection.
    private var reported = false
    private var stopping = false
    private var lastHeard: Date
    private var lastBeat = Date.distantPast
    private var backoff = 1.0

    package init(settings: ClusterSettings, endpoint: String, now: Date) {
        self.settings = settings
        self.endpoint = endpoint
        lastHeard = now
    }

    /// How long the shell waits for a message: briefly while a task's outcome is due, longer otherwise.
    package var waitMilliseconds: Int { task != nil && !reported ? 1 : 100 }

    /// The start of a turn: the task's outcome if its thread has ended it, and a request to leave at once, or
    /// to stop once the task in flight is reported.
    package mutating func begin(now: Date, ended: WireMessage?, stopAsked: Bool, abandon reason: String?) -> [Action] {
        learn(ended)
        if let reason {
            let unfinished = task.map { "; task \($0.task) is left unfinished" } ?? ""
            return [.log(.warning, "leaving at once: \(reason)" + unfinished), .exit(.abandoned(reason))]
        }
        var actions: [Action] = []
        if stopAsked && !stopping {
            stopping = true
            actions.append(.log(.notice, task.map { "stopping after task \($0.task)" } ?? "stopping"))
        }
        if stopping && task == nil { return actions + [.exit(.stopped)] }
        if stopping, now.timeIntervalSince(lastHeard) > settings.silenceSeconds {
            let what = task?.task ?? "?"
            return actions + [
                .log(.warning, "stopping without reporting task \(what): the coordinator at \(endpoint) is silent"),
                .exit(.stopped),
            ]
        }
        return actions
    }

    /// A message from the coordinator, or why it could not be read.
    package mutating func received(_ message: Result<WireMessage, WireError>, now: Date) -> [Action] {
        lastHeard = now
        backoff = 1
        let decoded: WireMessage
        switch message {
        case .success(let message): decoded = message
        case .failure(.versionMismatch(let peer, let ours)):
            let reason =
                "the coordinator speaks protocol version \(peer), this worker \(ours); run the same sift build on both"
            return [.log(.error, reason), .exit(.refused(reason))]
        case .failure(let error):
            return [.log(.warning, "dropped a message from the coordinator: \(error)")]
        }
        switch decoded {
        case let .task(assignment, attachments):
            guard task == nil && !stopping else {
                let reason = task.map { "worker is busy with \($0.task)" } ?? "worker is stopping"
                let declined = TaskFailure(
                    task: assignment.task, attempt: assignment.attempt, lease: assignment.lease, error: reason,
                    cause: .declined)
                return [.send(.failure(declined))]
            }
            task = assignment
            outcome = nil
            reported = false
            return [
                .log(.info, "started (attempt \(assignment.attempt))"), .start(assignment, attachments: attachments),
            ]
        case .acknowledge(let reference):
            if task?.task == reference.task && outcome != nil { task = nil }
        case let .revoke(reference, reason):
            guard let current = task, current.task == reference.task, outcome == nil else { break }
            let why = "the coordinator revoked task \(reference.task): \(reason); leaving it to another worker"
            return [.log(.error, why), .exit(.revoked(why))]
        case .done:
            if task == nil { return [.exit(.sweepComplete)] }
        case .refuse(let refusal):
            return [.log(.error, "refused by the coordinator: \(refusal.reason)"), .exit(.refused(refusal.reason))]
        case .heartbeat(let beat):
            // Answered at once: the coordinator gives a new peer no task before this round trip.
            if let challenge = beat.challenge {
                return [.send(.heartbeat(Heartbeat(task: task?.task, answer: challenge)))]
            }
        case .ready, .result, .failure, .statusRequest, .status:
            break
        }
        return []
    }

    /// The end of a turn: the task's outcome once its thread has one (read again here, after the turn's wait
    /// for a message, so that an outcome is reported in the turn it appears), reported and resent after each
    /// reconnect until acknowledged; a heartbeat each interval carrying `progress`; and a reconnect when the
    /// coordinator has been silent for the liveness period.
    package mutating func end(now: Date, ended: WireMessage?, progress: TaskProgress?) -> [Action] {
        var actions: [Action] = []
        learn(ended)
        if task != nil, !reported, let outcome {
            reported = true
            actions.append(.send(outcome))
            if case .failure(let failure) = outcome {
                actions.append(.log(.warning, "failed (\(failure.cause.rawValue)): \(failure.error)"))
            } else {
                actions.append(.log(.info, "finished; result sent"))
            }
        }
        if now.timeIntervalSince(lastBeat) >= settings.heartbeatInterval {
            lastBeat = now
            actions.append(.send(.heartbeat(Heartbeat(task: task?.task, progress: progress))))
        }
        if now.timeIntervalSince(lastHeard) > settings.silenceSeconds && !stopping {
            actions.append(.log(.warning, "coordinator at \(endpoint) silent; reconnecting in \(Int(backoff)) s"))
            actions.append(.reconnect(afterSeconds: backoff))
            backoff = min(backoff * 2, ClusterSettings.maximumReconnectBackoff)
        }
        return actions
    }

    /// Keeps the task's outcome once its thread has one.
    private mutating func learn(_ ended: WireMessage?) {
        if task != nil, outcome == nil, let ended { outcome = ended }
    }

    /// A fresh connection is up: the outcome in hand goes out on it again.
    package mutating func reconnected(now: Date) {
        reported = false
        lastHeard = now
    }
}
