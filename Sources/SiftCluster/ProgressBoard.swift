import Foundation
import Synchronization
import SiftWire

/// How far a running task is, as the worker's heartbeats carry it to the coordinator. The task says how to
/// read its progress (a level's training points it at its trainer's counters); the heartbeat reads it. The
/// cluster knows tasks, not training, so what is read is the wire's `TaskProgress`.
package final class ProgressBoard: Sendable {
    /// The reader in a struct of its own, never a bare closure in the mutex: Swift 6.3 wraps a closure stored
    /// in a generic container in two conversion thunks on each `withLock { $0 }` that reads it out, so a worker
    /// reading the board on every turn of its loop (hundreds a second) grew a chain of thunks that overflowed
    /// the stack after about a minute of training.
    private struct Reader: Sendable {
        let read: @Sendable (Date) -> TaskProgress
    }

    private let reader = Mutex<Reader?>(nil)

    package init() {}

    /// From now on, `read` says how far the task is at a given time.
    package func follow(_ read: @escaping @Sendable (Date) -> TaskProgress) {
        reader.withLock { $0 = Reader(read: read) }
    }

    /// The task's progress at `now`, or nil while it has said nothing.
    package func read(now: Date) -> TaskProgress? {
        reader.withLock { $0 }?.read(now)
    }
}
