import Foundation
import Synchronization
import SiftWire

/// How far a running task is, as the worker's heartbeats carry it to the coordinator. The task says how to
/// read its progress (a level's training points it at its trainer's counters); the heartbeat reads it. The
/// cluster knows tasks, not training, so what is read is the wire's `TaskProgress`.
package final class ProgressBoard: Sendable {
    private let reader = Mutex<(@Sendable (Date) -> TaskProgress)?>(nil)

    package init() {}

    /// From now on, `read` says how far the task is at a given time.
    package func follow(_ read: @escaping @Sendable (Date) -> TaskProgress) {
        reader.withLock { $0 = read }
    }

    /// The task's progress at `now`, or nil while it has said nothing.
    package func read(now: Date) -> TaskProgress? {
        reader.withLock { $0 }?(now)
    }
}
