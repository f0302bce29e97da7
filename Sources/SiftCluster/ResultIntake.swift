import Dispatch
import SiftStore
import SiftWire
import Synchronization

/// A result whose lease checked out when it arrived, with what recording it needs.
package struct ResultJob: Sendable {
    var identity: [UInt8]
    var peer: String
    var holder: LeaseHolder
    var build: String
    var task: TaskRecord
    var result: TaskResult
}

/// What checking a result and writing its files came to.
package enum ResultOutcome: Sendable {
    /// Its files are written; how it ends its chain.
    case stored(ChainEnding)
    /// Intact but not what its task should produce.
    case rejected(RejectedResult)
    /// The attachments do not match the digest: damaged on the way; dropped unacknowledged, so it is resent.
    case corrupt
    /// Writing failed (a full disk, say): the coordinator stops with this error.
    case failed(any Error)

    /// Writes a result's files through `store` once they match their digest.
    package typealias Store = @Sendable (TaskRecord, TaskResult, [[UInt8]]) throws -> ChainEnding

    /// Checks `attachments` against the result's digest and, if they match, writes them through `store`.
    package init(checking job: ResultJob, attachments: [[UInt8]], store: Store) {
        guard TaskDigest.of(attachments) == job.result.digest else {
            self = .corrupt
            return
        }
        do {
            self = .stored(try store(job.task, job.result, attachments))
        } catch let rejected as RejectedResult {
            self = .rejected(rejected)
        } catch {
            self = .failed(error)
        }
    }
}

/// Takes the heavy part of a result off the coordinator's message loop: checking its digest and writing
/// its files (a 784-1024-1024-1024-10 level carries 15 MB and more) run on one background queue, so that
/// heartbeats from a thousand workers are answered while a result is written. The loop records a checked
/// result in its next transaction and acknowledges it only then: nothing is acknowledged before its files
/// are written and its state is committed. One queue, so a chain's files are written in order.
///
/// When results arrive faster than they can be written, they wait here in memory, at most one per worker
/// (a worker sends its next result only after this one is acknowledged), while the loop goes on serving
/// heartbeats: a slow disk delays acknowledgements, never a lease. Which results are in flight is the
/// coordinator core's to track (`CoordinatorCore.resultsInFlight`).
final class ResultIntake: Sendable {
    private let store: ResultOutcome.Store
    private let queue = DispatchQueue(label: "sift.coordinator.result-intake")
    private let finished = Mutex<[(job: ResultJob, outcome: ResultOutcome)]>([])

    init(store: @escaping ResultOutcome.Store) {
        self.store = store
    }

    /// Starts checking and writing a result; `collect` returns it once done.
    func submit(_ job: ResultJob, attachments: [[UInt8]]) {
        queue.async { [self] in
            let outcome = ResultOutcome(checking: job, attachments: attachments, store: store)
            finished.withLock { $0.append((job, outcome)) }
        }
    }

    /// The jobs finished since the last call, in the order they were taken in.
    func collect() -> [(job: ResultJob, outcome: ResultOutcome)] {
        finished.withLock { finished in
            defer { finished = [] }
            return finished
        }
    }
}
