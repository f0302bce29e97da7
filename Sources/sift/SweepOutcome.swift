import ArgumentParser
import Foundation
import SiftSweep

/// How a settled sweep ended, as `sift run` and `sift coordinator` print it, and the exit status it
/// earns: 0 when every chain finished or diverged, 2 when some level failed (and its chain's later
/// levels were skipped). A stop on request exits 130, an error 1.
enum SweepOutcome {
    static let failedLevels: Int32 = 2
    static let stopped: Int32 = 130

    /// Prints the summary; returns the exit status.
    static func report(_ store: TaskStore, output root: String, retryHint: String) throws -> Int32 {
        let counts = try store.counts()
        func n(_ state: TaskState) -> Int { counts[state] ?? 0 }
        say("settled: \(n(.done)) done · \(n(.diverged)) diverged · \(n(.failed)) failed · \(n(.skipped)) skipped after a failure"
            + " · \(n(.unneeded)) not needed (past their chain's end)")
        for task in try store.tasks(in: .diverged) {
            say("DIVERGED \(task.id): \(task.error ?? "non-finite training"); its chain ends there and the report leaves it out of the seed statistics")
        }
        let failed = try store.tasks(in: .failed)
        for task in failed {
            let worker = try store.failures(of: task.id).last?.worker
            say("FAILED \(task.id)" + (worker.map { " (last on \($0))" } ?? "") + ": \(task.error ?? "no reason recorded")")
        }
        guard failed.isEmpty && n(.skipped) == 0 else {
            say("\(failed.count) level(s) failed and \(n(.skipped)) later level(s) were skipped; worker logs are in \(root)/workers/."
                + " Fix the cause, then \(retryHint)")
            return failedLevels
        }
        return 0
    }
}
