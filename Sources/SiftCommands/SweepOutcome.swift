import Foundation
import ArgumentParser
import SiftCluster
import SiftStore
import SiftConfig
import SiftWire

/// How a settled sweep ended, as `sift run` and `sift coordinator` print it, and the exit status it
/// earns: 0 when every chain finished or diverged, 2 when some level failed (and its chain's later
/// levels were skipped). A stop on request exits 130, an error 1.
enum SweepOutcome {
    static let failedLevels: Int32 = 2
    static let stopped: Int32 = 130

    /// Prints the summary; returns the exit status.
    static func report(_ store: TaskStore, output root: String, retryHint: String) throws -> Int32 {
        let status = try SweepStatus(store: store)
        func n(_ state: TaskState) -> Int { status.counts[state.rawValue] ?? 0 }
        say(
            "settled: \(n(.done)) done · \(n(.diverged)) diverged · \(n(.failed)) failed · \(n(.skipped)) skipped after a failure"
                + " · \(n(.unneeded)) not needed (past their chain's end)")
        for task in status.diverged {
            say(
                "DIVERGED \(task.task): \(task.error); its chain ends there and the report leaves it out of the seed statistics"
            )
        }
        for task in status.failures {
            say("FAILED \(task.task)" + (task.worker.map { " (last on \($0))" } ?? "") + ": \(task.error)")
        }
        guard status.failures.isEmpty && n(.skipped) == 0 else {
            say(
                "\(status.failures.count) level(s) failed and \(n(.skipped)) later level(s) were skipped; worker logs are in \(root)/workers/."
                    + " Fix the cause, then \(retryHint)")
            return failedLevels
        }
        return 0
    }
}
