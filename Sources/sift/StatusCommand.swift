import ArgumentParser
import Foundation
import SiftSweep

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a sweep's health from its store: levels by state, workers, failures.",
        discussion: "Reads DIR/sweep.sqlite, so it works while the coordinator runs and after it stopped.")

    @Argument(help: "The sweep's output folder (holding sweep.sqlite).") var directory: String

    func run() throws {
        let path = "\(directory)/sweep.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no sweep store at \(path); pass the folder given to `sift run --out` or `sift coordinator --out`")
        }
        let store = try TaskStore(path: path)
        let counts = try store.counts()
        let total = counts.values.reduce(0, +)
        print("levels: " + TaskState.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: " · ") + " (of \(total))")
        if try store.isFinished() { print("the sweep is finished") }

        let now = Date()
        let workers = try store.workers()
        print("workers: \(workers.filter(\.alive).count) alive at the coordinator's last update")
        for w in workers {
            let seen = Int(now.timeIntervalSince(w.lastSeen))
            print("  \(w.alive ? "alive" : "gone ") \(w.name) (\(w.cores) cores) · last heartbeat \(seen) s ago · "
                  + (w.task.map { "running \($0)" } ?? "idle"))
        }
        for task in try store.tasks(in: .leased) {
            print("  leased \(task.id) (attempt \(task.attempts)) to \(task.worker ?? "?")")
        }
        let failed = try store.tasks(in: .failed)
        if !failed.isEmpty {
            print("failures:")
            for task in failed { print("  \(task.id) after \(task.attempts) attempt(s): \(task.error ?? "no reason recorded")") }
        }
    }
}
