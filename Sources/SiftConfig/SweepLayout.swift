import Foundation

/// Where a sweep keeps things on disk: DIR/experiments/<hash>/seed-<s>/level-<k>/.
package struct SweepLayout: Sendable {
    package var root: String

    package init(root: String) { self.root = root }

    package func experimentDirectory(_ experiment: ExperimentConfig) -> String {
        "\(root)/experiments/\(experiment.shortHash)"
    }

    package func chainDirectory(_ experiment: ExperimentConfig, seed: UInt64) -> String {
        "\(experimentDirectory(experiment))/seed-\(seed)"
    }

    /// A chain's rewind point (written by its level 0), which its later levels start from.
    package static func rewindDirectory(chain: String) -> String { "\(chain)/rewind" }
}
