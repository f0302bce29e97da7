/// How inputs are centred and scaled, from training-set statistics only.
public enum Normalization: String, Sendable, Codable, CaseIterable {
    case none
    /// Subtract the training mean and divide by the training standard deviation (one scalar each).
    case standardise
    /// Subtract the per-pixel mean training image.
    case meanImage = "mean_image"
}

/// How labels are regrouped into fewer classes.
public enum Reclass: Sendable, Equatable {
    case modulo(Int)
    /// A text file with one line per original class holding its new label.
    case mapping(path: String)
}

/// The data transforms of science §5, applied in a fixed order:
/// subset, label shuffle, reclass, Gaussian clone, scramble, normalisation.
public struct DataTransforms: Sendable, Equatable {
    public var normalization: Normalization = .standardise
    public var scramble = false
    public var shuffleLabels = false
    public var subsetFraction = 1.0
    public var reclass: Reclass?
    /// Replace every image by a draw from its class's Gaussian (training mean and covariance):
    /// the same second-order statistics, nothing more.
    public var gaussianClone = false

    public init() {}
}
