import Foundation
import GRDB

/// Where a task stands. `blocked` waits for its dependencies; `diverged` finished with a non-finite
/// training (its files are written, its chain ends there); `skipped` depends on a task that failed
/// for good and can be retried with it; `unneeded` lies past the end of its chain.
package enum TaskState: String, Codable, CaseIterable, Sendable {
    case blocked, queued, leased, done, diverged, failed, skipped, unneeded
}

/// Why an attempt at a task ended without a result; each cause has its own budget.
package enum FailureCause: String, Codable, Sendable {
    /// The task itself is at fault (its config, its inputs): it fails at once.
    case task
    /// The worker's host is at fault (its data, its resources): retried on another worker.
    case host
    /// The worker holding the lease died or fell silent: not the task's doing, but a task that kills
    /// every worker it touches must end too, so these are counted against a higher limit.
    case lostLease = "lost-lease"
}

/// How many failures of each kind a task may have before it fails for good.
package struct RetryLimits: Sendable, Equatable {
    /// Attempts that failed on a host (distinct workers where there is a choice).
    package var hostFailures: Int
    /// Leases lost with the worker that held them.
    package var lostLeases: Int

    package init(hostFailures: Int = 3, lostLeases: Int = 8) {
        self.hostFailures = hostFailures
        self.lostLeases = lostLeases
    }
}

/// How a recorded result ends its chain, if it does.
package enum ChainEnding: Sendable, Equatable {
    case continues
    /// The chain's last level (max_levels or the stop rule): later levels are not needed.
    case endsChain
    /// Training became non-finite; the reason names the step and the last finite loss.
    case diverged(String)
}

/// A task to enter into the store: one unit of work and the tasks it needs first.
package struct PlannedTask: Sendable, Equatable {
    package var id: String
    package var experiment: String
    package var seed: UInt64
    package var level: Int
    package var kind: String
    package var parameters: String
    package var dependsOn: [String]

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(
        id: String, experiment: String, seed: UInt64, level: Int, kind: String, parameters: String, dependsOn: [String]
    ) {
        self.id = id
        self.experiment = experiment
        self.seed = seed
        self.level = level
        self.kind = kind
        self.parameters = parameters
        self.dependsOn = dependsOn
    }
}

/// A task as the store holds it.
package struct TaskRecord: Sendable, Equatable, FetchableRecord {
    package var id: String
    package var experiment: String
    package var seed: UInt64
    package var level: Int
    package var kind: String
    package var parameters: String
    package var state: TaskState
    /// Leases handed out so far; the current lease's attempt number.
    package var attempts: Int
    package var worker: String?
    package var leaseExpires: Double?
    package var error: String?
    package var digest: String?
    /// What its result said of itself (for a level, the names of its files).
    package var summary: String?
    /// Attempts that failed on a host, and leases lost with their worker.
    package var hostFailures: Int
    package var lostLeases: Int
    /// The build of the worker whose result was recorded.
    package var build: String?
    /// The latest progress its worker reported while it is leased (JSON), and when (seconds since 1970).
    package var progress: String?
    package var progressAt: Double?

    package init(row: Row) throws {
        id = row["id"]
        experiment = row["experiment"]
        seed = UInt64(row["seed"] as Int64)
        level = row["level"]
        kind = row["kind"]
        parameters = row["parameters"]
        // The store checks every state when it opens; an unknown one can only come from a change since.
        let text: String = row["state"]
        guard let state = TaskState(rawValue: text) else { throw UnknownState(task: row["id"], state: text) }
        self.state = state
        attempts = row["attempts"]
        worker = row["worker"]
        leaseExpires = row["lease_expires"]
        error = row["error"]
        digest = row["digest"]
        summary = row["summary"]
        hostFailures = (row["host_failures"] as Int?) ?? 0
        lostLeases = (row["lost_leases"] as Int?) ?? 0
        build = row["build"]
        progress = row["progress"]
        progressAt = row["progress_at"]
    }
}

/// A worker's record of trouble: failures on its host and leases it let expire. Kept in the store by
/// worker name, so that a worker set aside stays set aside when the coordinator restarts.
package struct WorkerTrouble: Sendable, Equatable {
    package var failuresInARow = 0
    package var timesSetAside = 0
    /// Until when the worker gets no task (while another worker can take one).
    package var setAsideUntil: Date?
    package var lastError = ""

    package init(failuresInARow: Int = 0, timesSetAside: Int = 0, setAsideUntil: Date? = nil, lastError: String = "") {
        self.failuresInARow = failuresInARow
        self.timesSetAside = timesSetAside
        self.setAsideUntil = setAsideUntil
        self.lastError = lastError
    }
}

/// What became of a result handed to the store.
package enum CompletionOutcome: Equatable, Sendable {
    /// First valid result: stored, dependants released.
    case recorded
    /// The task was already done: acknowledge and ignore.
    case duplicate
    /// From the holder of the task's most recent lease, for a task that no longer waits for it: acknowledge and ignore.
    case stale
    /// Not from the holder of the lease it names (another worker, a wrong token or CURVE key): dropped.
    case wrongLease
    case unknownTask
}

/// The peer a lease was handed to, as a result or failure must prove it: the worker's name, the
/// lease's token and, under CURVE, the worker's public key.
package struct LeaseHolder: Sendable, Equatable {
    package var worker: String
    package var token: String
    package var key: String?

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(worker: String, token: String, key: String? = nil) {
        self.worker = worker
        self.token = token
        self.key = key
    }

    /// A fresh unguessable token: 128 bits from the system's generator, in hex.
    package static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.map {
            String(repeating: "0", count: 16 - $0.count) + $0
        }.joined()
    }
}

/// Where a store's tasks came from and which build ran them.
package struct Provenance: Sendable, Equatable {
    /// The sweep file, as given.
    package var sweepFile: String
    /// SHA-256 of its bytes.
    package var sweepDigest: String
    /// The build of the coordinator admitting it.
    package var build: String

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(sweepFile: String, sweepDigest: String, build: String) {
        self.sweepFile = sweepFile
        self.sweepDigest = sweepDigest
        self.build = build
    }
}

/// Tasks by how far they are, from their counts by state: finished (done or diverged), running (leased)
/// and waiting (queued or blocked). Failed, skipped and unneeded tasks are in none.
package struct TaskTally: Sendable, Equatable {
    package var finished: Int
    package var running: Int
    package var waiting: Int

    package init(_ counts: [TaskState: Int]) {
        func n(_ state: TaskState) -> Int { counts[state] ?? 0 }
        finished = n(.done) + n(.diverged)
        running = n(.leased)
        waiting = n(.queued) + n(.blocked)
    }
}

/// A task row whose state this build does not know: written by another program, or by a newer Sift, since
/// the store was opened (which checks every row). Refused rather than read as some other state.
package struct UnknownState: Error, CustomStringConvertible {
    package var task: String
    package var state: String
    package var description: String {
        "task \(task) has the state '\(state)', which this build of sift does not know; was the store changed by another program or a newer sift?"
    }
}
