import Foundation
import SiftStore
import SiftConfig
import SiftWire

extension SweepStatus {
    /// The sweep's health as its store records it (workers as of the coordinator's last update).
    package init(store: TaskStore, now: Date = Date()) throws {
        let counts = try store.counts(), tally = TaskTally(counts)
        let pending = try store.pendingTasks()
        let leased = pending.filter { $0.state == .leased }
        var progress: [String: TaskProgress] = [:]
        for task in leased {
            progress[task.id] = task.progress.flatMap {
                try? JSONDecoder().decode(TaskProgress.self, from: Data($0.utf8))
            }
        }
        let workers = try store.workers()
        let estimate = SweepEstimate(
            measured: try store.measuredLevelSeconds(),
            running: leased.compactMap { task in progress[task.id].map { (task.level, $0) } })
        let left = estimate.secondsLeft(pending: pending, progress: progress, workers: workers.filter(\.alive).count)
        self.init(
            counts: Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
            finished: tally.running + tally.waiting == 0,
            workers: workers.map {
                Worker(
                    name: $0.name, cores: $0.cores, task: $0.task,
                    secondsSinceHeartbeat: now.timeIntervalSince($0.lastSeen),
                    alive: $0.alive, setAside: $0.alive ? $0.note : nil)
            },
            failures: try store.tasks(in: .failed).map {
                Failure(
                    task: $0.id, attempts: $0.attempts, error: $0.error ?? "no reason recorded",
                    worker: try store.failures(of: $0.id).last?.worker)
            },
            diverged: try store.tasks(in: .diverged).map {
                Failure(task: $0.id, attempts: $0.attempts, error: $0.error ?? "diverged")
            },
            running: leased.map { Running(task: $0.id, worker: $0.worker, progress: progress[$0.id]) },
            secondsLeft: left?.seconds, secondsLeftIsUpperBound: left?.upperBound,
            recomputed: try store.recoveries().map { Failure(task: $0.task, attempts: 0, error: $0.reason) },
            reused: try store.reusedCount())
    }

    /// A running level's progress in one line: how far, how fast, its loss and what is left.
    static func describe(_ p: TaskProgress) -> String {
        switch p.phase {
        case .training:
            var text =
                String(format: "%.0f%%", p.fraction * 100)
                + " (step \(p.step) of \(p.steps), epoch \(p.epoch) of \(p.epochs))"
            if let rate = p.stepsPerSecond { text += String(format: " · %.1f steps/s", rate) }
            if let loss = p.loss { text += String(format: " · loss %.4g", loss) }
            if let left = p.secondsLeft { text += " · level ETA \(clockText(left))" }
            if p.secondsSinceChange >= 60 { text += " · no step for \(clockText(p.secondsSinceChange))" }
            return text
        case .measuring: return "trained; measuring masks, maps and ablation"
        case .preparing: return "loading data and building the network"
        }
    }

    /// What `sift status` prints.
    package var text: String {
        let total = counts.values.reduce(0, +)
        func label(_ state: TaskState) -> String {
            switch state {
            case .skipped: return "skipped after a failure"
            case .unneeded: return "not needed (past their chain's end)"
            default: return state.rawValue
            }
        }
        var lines = [
            "levels: " + TaskState.allCases.map { "\(counts[$0.rawValue] ?? 0) \(label($0))" }.joined(separator: " · ")
                + " (of \(total))"
        ]
        if finished {
            lines.append("the sweep is finished")
        } else if let secondsLeft {
            lines.append(
                secondsLeftIsUpperBound == true
                    ? "sweep ETA at most ~\(clockText(secondsLeft)) (deeper levels, which train faster, are costed as the deepest measured)"
                    : "sweep ETA ~\(clockText(secondsLeft)) (from measured level times)")
        }
        if let reused, reused > 0 {
            lines.append(
                "\(reused) control level(s) 0 reused from their IMP experiment's level 0 (same data, seed and streams), not trained again"
            )
        }
        if !running.isEmpty { lines.append("running:") }
        for level in running {
            lines.append(
                "  \(level.task)" + (level.worker.map { " on \($0)" } ?? "") + " · "
                    + (level.progress.map(Self.describe) ?? "no progress reported yet"))
        }
        let setAside = workers.filter { $0.setAside != nil }.count
        lines.append(
            "workers: \(workers.filter(\.alive).count) alive" + (setAside > 0 ? ", \(setAside) set aside" : ""))
        for w in workers {
            lines.append(
                "  \(w.alive ? "alive" : "gone ") \(w.name) (\(w.cores) cores) · last heartbeat \(Int(w.secondsSinceHeartbeat)) s ago · "
                    + (w.task.map { "running \($0)" } ?? "idle") + (w.setAside.map { " · \($0)" } ?? ""))
        }
        if !diverged.isEmpty {
            lines.append("diverged chains (files written; later levels not needed):")
            for d in diverged { lines.append("  \(d.task): \(d.error)") }
        }
        if let recomputed, !recomputed.isEmpty {
            lines.append("levels whose files went missing, computed again with the levels after them (latest first):")
            for r in recomputed { lines.append("  \(r.task): \(r.error)") }
        }
        if !failures.isEmpty {
            lines.append("failures (once the cause is fixed, rerun with --retry-failed):")
            for f in failures {
                lines.append(
                    "  \(f.task) after \(f.attempts) attempt(s)" + (f.worker.map { ", last on \($0)" } ?? "")
                        + ": \(f.error)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
