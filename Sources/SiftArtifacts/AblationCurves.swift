/// SPEC 6.8: test accuracy after silencing first-layer units, chosen by in-degree.
public struct AblationCurves: Codable, Sendable, Equatable {
    /// Fractions of first-layer units silenced.
    public var fractions: [Double]
    /// Accuracy when the units with the most surviving inputs are silenced first.
    public var most: [Double]
    public var fewest: [Double]
    public var random: [Double]

    public static let defaultFractions = [0.1, 0.25, 0.5]

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(fractions: [Double], most: [Double], fewest: [Double], random: [Double]) {
        self.fractions = fractions
        self.most = most
        self.fewest = fewest
        self.random = random
    }
}
