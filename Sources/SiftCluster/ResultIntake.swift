import Dispatch
import SiftStore
import SiftWire
import Synchronization

/// Takes the heavy part of a result off the coordinator's message loop: checking its digest and writing
/// its files (a 784-1024-1024-1024-10 level carries 15 MB and more) run on one background queue, so that
/// heartbeats from a thousand workers are answered while a result is written. The loop records a checked
/// result in its next transaction and acknowledges it only then: nothing is acknowledged before its files
/// are written and its state is committed. One queue, so a chain's files are written in order.
///
/// When results arrive faster than they can be written, they wait here in memory, at most one per worker
/// (a worker sends its next result only after this one is acknowledged), while the loop goes on serving
/// heartbeats: a slow disk delays acknowledgements, never a lease.
final class ResultIntake: Sendable {
    /// A result whose lease checked out when it arrived, with what recording it needs.
    struct Job: Sendable {
        var identity: [UInt8]
        var peer: String
        var holder: LeaseHolder
        var build: String
        var task: TaskRecord
        var result: TaskResult
    }

    /// What the background queue made of a job.
    enum Outcome: Sendable {
        /// Its files are written; how it ends its chain.
        case stored(ChainEnding)
        /// Intact but not what its task should produce.
        case rejected(RejectedResult)
        /// The attachments do not match the digest: damaged on the way; dropped unacknowledged, so it is resent.
        case corrupt
        /// Writing failed (a full disk, say): the coordinator stops with this error.
        case failed(any Error)
    }

    typealias Store = @Sendable (TaskRecord, TaskResult, [[UInt8]]) throws -> ChainEnding

    private let store: Store
    private let queue = DispatchQueue(label: "sift.coordinator.result-intake")
    private struct State {
        var finished: [(job: Job, outcome: Outcome)] = []
        /// Tasks taken in and not yet collected: a second copy of one (resent after a reconnect) is not taken twice.
        var inFlight: Set<String> = []
    }
    private let state = Mutex(State())

    init(store: @escaping Store) {
        self.store = store
    }

    /// Takes a result in unless a copy of it is already in; returns whether it was taken.
    func submit(_ job: Job, attachments: [[UInt8]]) -> Bool {
        guard state.withLock({ $0.inFlight.insert(job.task.id).inserted }) else { return false }
        queue.async { [self] in
            let outcome: Outcome
            if TaskDigest.of(attachments) != job.result.digest {
                outcome = .corrupt
            } else {
                do {
                    outcome = .stored(try store(job.task, job.result, attachments))
                } catch let rejected as RejectedResult {
                    outcome = .rejected(rejected)
                } catch {
                    outcome = .failed(error)
                }
            }
            state.withLock { $0.finished.append((job, outcome)) }
        }
        return true
    }

    /// The jobs finished since the last call, in the order they were taken in.
    func collect() -> [(job: Job, outcome: Outcome)] {
        state.withLock { state in
            let finished = state.finished
            state.finished = []
            for (job, _) in finished { state.inFlight.remove(job.task.id) }
            return finished
        }
    }

    /// Results taken in and not yet collected.
    var inFlight: Int { state.withLock { $0.inFlight.count } }

    /// Whether a result for `task` is being checked or written: its lease must not lapse meanwhile.
    func isTaking(_ task: String) -> Bool { state.withLock { $0.inFlight.contains(task) } }
}
