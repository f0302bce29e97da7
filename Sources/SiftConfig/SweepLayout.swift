import Foundation

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

    /// A chain's rewind point (written by its level 0), which its later levels start from.
    public static func rewindDirectory(chain: String) -> String { "\(chain)/rewind" }
}
