import Dispatch
import Synchronization

/// A second thread for the work of a chain that the next updates do not wait for: a trained level's
/// measurement and files, and the test evaluations made during training, each on a copy of what it reads.
/// Work runs one piece at a time in the order given; the first failure is kept and rethrown to the chain,
/// which then trains nothing more.
final class MeasurementLane: Sendable {
    private let queue = DispatchQueue(label: "sift.measurement")
    private let pending = DispatchGroup()
    /// Evaluations waiting or running: each holds a copy of the weights, so the training thread waits
    /// rather than queue more than this many.
    private let evaluationSlots = DispatchSemaphore(value: 2)
    private let failure = Mutex<(any Error)?>(nil)

    /// Waits for everything handed over before (so the lane holds one level at most, and its failure
    /// surfaces before another level is handed over), rethrows a failure, then starts `work`.
    func handOn(_ work: @escaping @Sendable () throws -> Void) throws {
        try finish()
        start(work)
    }

    /// Queues a test evaluation behind what the lane has, waiting first if two are waiting already.
    func evaluate(_ work: @escaping @Sendable () -> Void) {
        evaluationSlots.wait()
        start {
            defer { self.evaluationSlots.signal() }
            work()
        }
    }

    private func start(_ work: @escaping @Sendable () throws -> Void) {
        pending.enter()
        queue.async {
            defer { self.pending.leave() }
            do { try work() } catch { self.failure.withLock { $0 = $0 ?? error } }
        }
    }

    /// Rethrows a failure of work already done, without waiting for the work in progress.
    func check() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Waits for all the work handed over and rethrows any failure.
    func finish() throws {
        pending.wait()
        try check()
    }

    /// Waits for all the work handed over, whatever became of it (the chain is ending on an error of its own).
    func drain() {
        pending.wait()
    }
}
