import Foundation
import SiftCluster
import SiftEngine

/// Prints chain progress to stderr: one updating line on a terminal, plain lines otherwise.
final class ProgressPrinter {
    private let interactive = isatty(STDERR_FILENO) != 0
    private let maxLevels: Int
    private let chainStart = Date()
    private var levelDensity = 1.0

    init(maxLevels: Int) { self.maxLevels = maxLevels }

    func note(_ text: String) { write(text + "\n") }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    func handle(_ event: ChainEvent) {
        switch event {
        case let .levelStarted(level, density, _, sparseLayers):
            levelDensity = density
            let path = sparseLayers.isEmpty ? ""
                : " (sparse path: layer\(sparseLayers.count > 1 ? "s" : "") \(sparseLayers.map(String.init).joined(separator: ", ")))"
            if !interactive { note("level \(level): training at density \(percent(density))\(path)") }
        case let .epochFinished(level, p):
            let perEpoch = p.elapsedSeconds / Double(p.epoch)
            let levelLeft = perEpoch * Double(p.epochs - p.epoch)
            let chainElapsed = Date().timeIntervalSince(chainStart)
            let perLevel = (chainElapsed - p.elapsedSeconds + perEpoch * Double(p.epochs)) / Double(level + 1)
            let chainLeft = levelLeft + perLevel * Double(max(maxLevels - level, 0))
            var line = "level \(level)/\(maxLevels) · density \(percent(levelDensity)) · epoch \(p.epoch)/\(p.epochs)"
            line += " · loss \(String(format: "%.4f", p.trainLoss))"
            if let accuracy = p.testAccuracy { line += " · test \(percent(accuracy))" }
            line += " · level ETA \(clockText(levelLeft)) · chain ETA ≤\(clockText(chainLeft))"
            write(interactive ? "\r\u{1B}[2K" + line : line + "\n")
        case .levelFinished(let metrics):
            let m = metrics.training
            let layers = m.densityLayers.map { String(format: "%.1f", $0 * 100) }.joined(separator: "/")
            let summary = "level \(m.level) done: density \(percent(m.densityTotal)) (layers \(layers) %), test \(percent(m.testAccuracy)) (best \(percent(m.bestTestAccuracy))), loss \(String(format: "%.4f", m.trainLoss)), \(clockText(m.seconds))" + (m.lastLevel ? " · last level" : "")
            write(interactive ? "\r\u{1B}[2K" + summary + "\n" : summary + "\n")
        }
    }

    private func percent(_ x: Double) -> String {
        x >= 0.1 ? String(format: "%.2f%%", x * 100) : String(format: "%.3f%%", x * 100)
    }
}
