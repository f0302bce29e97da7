import Foundation
import SiftSweep
import SiftWire

extension SweepStatus {
    /// The sweep's health as its store records it (workers as of the coordinator's last update).
    public init(store: TaskStore, now: Date = Date()) throws {
        let counts = try store.counts()
        self.init(
            counts: Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
            finished: try store.isFinished(),
            workers: try store.workers().map {
                Worker(name: $0.name, cores: $0.cores, task: $0.task, secondsSinceHeartbeat: now.timeIntervalSince($0.lastSeen),
                       alive: $0.alive, setAside: $0.alive ? $0.note : nil)
            },
            failures: try store.tasks(in: .failed).map {
                Failure(task: $0.id, attempts: $0.attempts, error: $0.error ?? "no reason recorded",
                        worker: try store.failures(of: $0.id).last?.worker)
            },
            diverged: try store.tasks(in: .diverged).map { Failure(task: $0.id, attempts: $0.attempts, error: $0.error ?? "diverged") })
    }

    /// What `sift status` prints.
    public var text: String {
        let total = counts.values.reduce(0, +)
        func label(_ state: TaskState) -> String {
            switch state {
            case .skipped: return "skipped after a failure"
            case .unneeded: return "not needed (past their chain's end)"
            default: return state.rawValue
            }
        }
        var lines = ["levels: " + TaskState.allCases.map { "\(counts[$0.rawValue] ?? 0) \(label($0))" }.joined(separator: " · ") + " (of \(total))"]
        if finished { lines.append("the sweep is finished") }
        let setAside = workers.filter { $0.setAside != nil }.count
        lines.append("workers: \(workers.filter(\.alive).count) alive" + (setAside > 0 ? ", \(setAside) set aside" : ""))
        for w in workers {
            lines.append("  \(w.alive ? "alive" : "gone ") \(w.name) (\(w.cores) cores) · last heartbeat \(Int(w.secondsSinceHeartbeat)) s ago · "
                         + (w.task.map { "running \($0)" } ?? "idle") + (w.setAside.map { " · \($0)" } ?? ""))
        }
        if !diverged.isEmpty {
            lines.append("diverged chains (files written; later levels not needed):")
            for d in diverged { lines.append("  \(d.task): \(d.error)") }
        }
        if !failures.isEmpty {
            lines.append("failures (once the cause is fixed, rerun with --retry-failed):")
            for f in failures { lines.append("  \(f.task) after \(f.attempts) attempt(s)" + (f.worker.map { ", last on \($0)" } ?? "") + ": \(f.error)") }
        }
        return lines.joined(separator: "\n")
    }
}
