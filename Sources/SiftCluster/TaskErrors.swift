import SiftWire

/// A result that arrived intact but does not hold what its task should produce; the attempt counts
/// as a failure on the sender's host, and the coordinator serves on.
package struct RejectedResult: Error, Sendable, CustomStringConvertible {
    package var reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { "invalid result: \(reason)" }
}

/// A finished level whose files a later level needs are gone or unreadable: the coordinator computes it
/// again (with what depends on it) instead of failing the level that needed it.
package struct LostLevel: Error, CustomStringConvertible {
    package var task: String
    package var reason: String
    package init(task: String, reason: String) {
        self.task = task
        self.reason = reason
    }
    package var description: String { "the files of \(task) are lost: \(reason)" }
}

/// A failure of this worker's host (its data, its resources), not of the task: the coordinator
/// retries the task on another worker and sets a worker aside that keeps failing.
package struct HostFailure: AttributedError, CustomStringConvertible {
    package var underlying: Error
    package var cause: TaskFailure.Cause { .host }
    package init(underlying: Error) { self.underlying = underlying }
    package var description: String { "\(underlying)" }
}
