import Foundation
import SiftEngine

/// Where a sweep keeps things on disk: DIR/experiments/<hash>/seed-<s>/level-<k>/.
public struct SweepLayout: Sendable {
    public var root: String

    public init(root: String) { self.root = root }

    public func experimentDirectory(_ experiment: ExperimentConfig) -> String {
        "\(root)/experiments/\(experiment.shortHash)"
    }

    public func chainDirectory(_ experiment: ExperimentConfig, seed: UInt64) -> String {
        "\(experimentDirectory(experiment))/seed-\(seed)"
    }

    /// A chain is complete when a level marked last has been written; a rerun skips it.
    public func isComplete(_ experiment: ExperimentConfig, seed: UInt64) -> Bool {
        let chain = chainDirectory(experiment, seed: seed)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: chain) else { return false }
        return entries.filter { $0.hasPrefix("level-") }.contains { level in
            guard let data = FileManager.default.contents(atPath: "\(chain)/\(level)/metrics.json"),
                  let metrics = try? JSONDecoder().decode(LevelMetrics.self, from: data) else { return false }
            return metrics.training.lastLevel
        }
    }
}
