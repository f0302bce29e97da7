import Foundation
import SiftStore

/// One change per transaction, for tests that step a store by hand: the coordinator makes every change of
/// a turn in one `TaskStore.transaction`, so these live with the tests, not in the store.
extension TaskStore {
    @discardableResult
    package func leaseNext(to holder: LeaseHolder, leaseSeconds: Double, now: Date = Date()) throws -> TaskRecord? {
        try transaction { try $0.leaseNext(to: holder, leaseSeconds: leaseSeconds, now: now) }
    }

    package func renew(task: String, attempt: Int, leaseSeconds: Double, now: Date = Date()) throws {
        try transaction { try $0.renew(task: task, attempt: attempt, leaseSeconds: leaseSeconds, now: now) }
    }

    package func complete(
        task: String, attempt: Int, from holder: LeaseHolder, build: String? = nil, digest: String, summary: String,
        ending: ChainEnding = .continues, now: Date = Date()
    ) throws -> CompletionOutcome {
        try transaction {
            try $0.complete(
                task: task, attempt: attempt, from: holder, build: build, digest: digest, summary: summary,
                ending: ending, now: now)
        }
    }

    @discardableResult
    package func fail(
        task: String, attempt: Int, cause: FailureCause, error: String, limits: RetryLimits = RetryLimits(),
        awaitingAnotherHost: Bool = false, now: Date = Date()
    ) throws -> TaskState? {
        try transaction {
            try $0.fail(
                task: task, attempt: attempt, cause: cause, error: error, limits: limits,
                awaitingAnotherHost: awaitingAnotherHost, now: now)
        }
    }
}
