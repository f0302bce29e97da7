import Foundation
import Logging
import SiftReport
import SiftStore
import SiftConfig
import Synchronization

/// Writing DIR/report/ for `sift report` and for a running sweep, with the sweep's state when DIR holds one.
enum SweepReport {
    /// Writes the report of `root`; with a store, a sweep still running gets a page marked partial.
    @discardableResult
    static func write(
        root: String, store: TaskStore?, mosaicLevels: [Int]? = nil,
        to destination: String? = nil
    ) throws -> (folder: String, index: RunIndex, completeness: Completeness?) {
        let completeness = try store.map { store -> Completeness in
            let tally = TaskTally(try store.counts())
            return Completeness(
                asOf: Date(), done: tally.finished, running: tally.running, waiting: tally.waiting,
                reusedLevels: try store.reusedCount())
        }
        let index = try RunIndex(root: root)
        let folder = try ReportWriter(index: index, mosaicLevels: mosaicLevels, completeness: completeness).write(
            to: destination)
        return (folder, index, completeness)
    }
}

/// Rewrites OUT/report/ every `interval` seconds while a sweep runs, on a queue of its own so that the
/// coordinator's loop never waits for it, and once more when the run ends. Someone who syncs OUT to a
/// laptop watches the figures fill in.
final class ReportRefresher: Sendable {
    let root: String
    let store: TaskStore
    let interval: Double
    let log: Logger
    private let queue = DispatchQueue(label: "sift.report")
    /// Whether a rewrite is under way, and when the last one started.
    private let state = Mutex((writing: false, lastStarted: Date()))

    init(root: String, store: TaskStore, interval: Double, log: Logger) {
        self.root = root
        self.store = store
        self.interval = interval
        self.log = log
    }

    /// Starts a rewrite in the background if one is due and none is under way.
    func tick(now: Date = Date()) {
        guard interval > 0 else { return }
        let due = state.withLock { state in
            let due = !state.writing && now.timeIntervalSince(state.lastStarted) >= interval
            if due { state = (true, now) }
            return due
        }
        guard due else { return }
        queue.async {
            self.rewrite()
            self.state.withLock { $0.writing = false }
        }
    }

    /// Waits for a rewrite under way, then writes the report once more.
    func finish() {
        queue.sync { rewrite() }
    }

    private func rewrite() {
        do {
            let (folder, index, completeness) = try SweepReport.write(root: root, store: store)
            log.info(
                "report rewritten: \(folder)/index.html, \(index.levels.count) level(s)\(completeness?.isPartial == true ? ", partial" : "")"
            )
        } catch ReportError.empty(_, _) {
            // No level has finished yet: nothing to show.
        } catch {
            log.warning("report not rewritten: \(error)")
        }
    }
}
