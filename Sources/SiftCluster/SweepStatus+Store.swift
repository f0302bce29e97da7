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
                Worker(name: $0.name, cores: $0.cores, task: $0.task, secondsSinceHeartbeat: now.timeIntervalSince($0.lastSeen), alive: $0.alive)
            },
            failures: try store.tasks(in: .failed).map { Failure(task: $0.id, attempts: $0.attempts, error: $0.error ?? "no reason recorded") })
    }

    /// What `sift status` prints.
    public var text: String {
        let total = counts.values.reduce(0, +)
        var lines = ["levels: " + TaskState.allCases.map { "\(counts[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: " · ") + " (of \(total))"]
        if finished { lines.append("the sweep is finished") }
        lines.append("workers: \(workers.filter(\.alive).count) alive")
        for w in workers {
            lines.append("  \(w.alive ? "alive" : "gone ") \(w.name) (\(w.cores) cores) · last heartbeat \(Int(w.secondsSinceHeartbeat)) s ago · "
                         + (w.task.map { "running \($0)" } ?? "idle"))
        }
        if !failures.isEmpty {
            lines.append("failures:")
            for f in failures { lines.append("  \(f.task) after \(f.attempts) attempt(s): \(f.error)") }
        }
        return lines.joined(separator: "\n")
    }
}
