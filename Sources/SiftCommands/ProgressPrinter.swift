import Foundation
import SiftCluster
import SiftEngine
import SiftWire
import Synchronization

/// Prints a chain's progress to stderr. On a terminal: one line redrawn twice a second from the
/// trainer's step counter, with a bar, the epoch and step, the loss and the ETAs. On a pipe: plain
/// lines, a level's start and end and at most one epoch line every 5 s.
///
/// `@unchecked` only for the timer, which Dispatch does not mark Sendable on Linux: it is set once in
/// `init` and afterwards only cancelled; every figure the line shows is under `state`'s lock.
final class ProgressPrinter: @unchecked Sendable {
    private struct State {
        var levelDensity = 1.0
        /// Seconds between one level's start and the next's, as measured so far, for the chain's ETA.
        var levelSeconds: [Double] = []
        var levelStart = Date()
        var lastEpochLine = Date.distantPast
    }

    private let interactive = isatty(STDERR_FILENO) != 0
    private let maxLevels: Int
    private let progress: TrainingProgress
    /// The figures the line shows; writes to stderr happen under it too, so lines never interleave.
    private let state = Mutex(State())
    /// Redraws the line on a terminal.
    private let timer: DispatchSourceTimer?

    init(maxLevels: Int, progress: TrainingProgress) {
        self.maxLevels = maxLevels
        self.progress = progress
        timer = interactive ? DispatchSource.makeTimerSource(queue: DispatchQueue(label: "sift.progress")) : nil
        timer?.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer?.setEventHandler { [weak self] in self?.redraw() }
        timer?.resume()
    }

    deinit { finish() }

    func note(_ text: String) {
        state.withLock { _ in write((interactive ? "\r\u{1B}[2K" : "") + text + "\n") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The live line: level, density, a bar, step and epoch, loss, the level's and the chain's ETA.
    private func redraw() {
        let snapshot = progress.snapshot
        guard snapshot.phase == .training, snapshot.steps > 0 else { return }
        let p = TaskProgress(snapshot, now: Date())
        let (density, measured) = state.withLock { ($0.levelDensity, $0.levelSeconds) }
        var line =
            "level \(snapshot.level)/\(maxLevels) · density \(percent(density)) · " + progressBar(p.fraction, width: 20)
            + String(format: " %.0f%%", p.fraction * 100)
            + " · step \(p.step)/\(p.steps) · epoch \(p.epoch)/\(p.epochs)"
        if let loss = p.loss { line += String(format: " · loss %.4f", loss) }
        if let rate = p.stepsPerSecond, let levelLeft = p.secondsLeft {
            line += " · level ETA \(clockText(levelLeft))"
            let perLevel = measured.isEmpty ? Double(p.steps) / rate : measured.reduce(0, +) / Double(measured.count)
            line += " · chain ETA ≤\(clockText(levelLeft + perLevel * Double(max(maxLevels - snapshot.level, 0))))"
        }
        state.withLock { _ in write("\r\u{1B}[2K" + line) }
    }

    func handle(_ event: ChainEvent) {
        switch event {
        case let .levelStarted(level, density, _, sparseLayers):
            state.withLock {
                // A level's cost to the chain runs from its start to the next level's: its measurement may
                // run beside the next level's training.
                if level > 0 { $0.levelSeconds.append(Date().timeIntervalSince($0.levelStart)) }
                $0.levelDensity = density
                $0.levelStart = Date()
            }
            let path =
                sparseLayers.isEmpty
                ? ""
                : " (sparse path: layer\(sparseLayers.count > 1 ? "s" : "") \(sparseLayers.map(String.init).joined(separator: ", ")))"
            if !interactive { note("level \(level): training at density \(percent(density))\(path)") }
        case let .epochFinished(level, p):
            let due = state.withLock { state in
                let due = Date().timeIntervalSince(state.lastEpochLine) >= 5 || p.epoch == p.epochs
                if due { state.lastEpochLine = Date() }
                return due
            }
            guard !interactive, due else { return }
            var line =
                "level \(level)/\(maxLevels) · epoch \(p.epoch)/\(p.epochs) · loss \(String(format: "%.4f", p.trainLoss))"
            if let accuracy = p.testAccuracy { line += " · test \(percent(accuracy))" }
            line += " · level ETA \(clockText(p.elapsedSeconds / Double(p.epoch) * Double(p.epochs - p.epoch)))"
            note(line)
        case .levelFinished(let metrics):
            let m = metrics.training
            let layers = m.densityLayers.map { String(format: "%.1f", $0 * 100) }.joined(separator: "/")
            note(
                "level \(m.level) done: density \(percent(m.densityTotal)) (layers \(layers) %), test \(percent(m.testAccuracy)) (best \(percent(m.bestTestAccuracy))\(m.testAccuracyRecalibrated.map { "; recalibrated \(percent($0))" } ?? "")), loss \(String(format: "%.4f", m.trainLoss)), \(clockText(m.seconds))"
                    + (m.lastLevel ? " · last level" : ""))
        }
    }

    /// Stops the live line and ends it, so that what follows starts on a line of its own.
    func finish() {
        timer?.cancel()
    }

    private func percent(_ x: Double) -> String {
        x >= 0.1 ? String(format: "%.2f%%", x * 100) : String(format: "%.3f%%", x * 100)
    }
}
