/// The figures of one IMP level, written as its metrics.json.
public struct LevelMetrics: Codable, Sendable, Equatable {
    public var experiment: String
    public var seed: UInt64
    public var level: Int
    public var control: String
    public var architecture: String
    public var densityLayers: [Double]
    public var densityTotal: Double
    public var aliveWeights: [Int]
    public var connectedFractionLayers: [Double]
    public var testAccuracy: Double
    public var bestTestAccuracy: Double
    public var trainLoss: Double
    public var steps: Int
    public var seconds: Double
    /// Whether the stop rule ended the chain at this level.
    public var lastLevel: Bool

    enum CodingKeys: String, CodingKey {
        case experiment, seed, level, control, architecture, steps, seconds
        case densityLayers = "density_layers"
        case densityTotal = "density_total"
        case aliveWeights = "alive_weights"
        case connectedFractionLayers = "connected_fraction_layers"
        case testAccuracy = "test_accuracy"
        case bestTestAccuracy = "best_test_accuracy"
        case trainLoss = "train_loss"
        case lastLevel = "last_level"
    }
}
