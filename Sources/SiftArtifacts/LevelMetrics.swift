/// How one level trained: the training half of its metrics.json.
public struct LevelTraining: Codable, Sendable, Equatable {
    public var experiment: String
    public var seed: UInt64
    public var level: Int
    public var control: String
    public var architecture: String
    public var densityLayers: [Double]
    public var densityTotal: Double
    public var aliveWeights: [Int]
    /// Fraction of units with a direct incoming weight, per layer (the stop rule's quantity).
    public var connectedFractionLayers: [Double]
    public var testAccuracy: Double
    public var bestTestAccuracy: Double
    public var trainLoss: Double
    public var steps: Int
    public var seconds: Double
    /// Whether the chain ended at this level.
    public var lastLevel: Bool
    /// Present (true) only when training became non-finite: the chain ends here, and the report leaves
    /// the chain out of its seed statistics. `steps` is then the update after which it diverged.
    public var diverged: Bool?
    /// The last finite batch loss before the divergence, if there was one.
    public var lastFiniteLoss: Double?
    /// With batch norm: test accuracy with each batch norm's statistics measured again over training batches
    /// under the level's final weights (`train.recalibration_batches`), beside `testAccuracy`, which reads the
    /// protocol's running averages. Absent without batch norm, or with recalibration off.
    public var testAccuracyRecalibrated: Double?
    /// With batch norm: per layer, how many of its batch norm's inputs have a running variance (the
    /// protocol's) below `nearConstantVariance`: nearly constant inputs, whose lagging running mean a small
    /// epsilon turns into huge normalised values. Absent without batch norm.
    public var nearConstantInputs: [Int]?

    /// The running variance below which `nearConstantInputs` counts an input.
    public static let nearConstantVariance = 1e-6

    // Public memberwise: Swift synthesizes only an internal one, and the engine fills this in.
    public init(
        experiment: String, seed: UInt64, level: Int, control: String, architecture: String, densityLayers: [Double],
        densityTotal: Double, aliveWeights: [Int], connectedFractionLayers: [Double], testAccuracy: Double,
        bestTestAccuracy: Double, trainLoss: Double, steps: Int, seconds: Double, lastLevel: Bool, diverged: Bool?,
        lastFiniteLoss: Double?, testAccuracyRecalibrated: Double? = nil, nearConstantInputs: [Int]? = nil
    ) {
        self.experiment = experiment
        self.seed = seed
        self.level = level
        self.control = control
        self.architecture = architecture
        self.densityLayers = densityLayers
        self.densityTotal = densityTotal
        self.aliveWeights = aliveWeights
        self.connectedFractionLayers = connectedFractionLayers
        self.testAccuracy = testAccuracy
        self.bestTestAccuracy = bestTestAccuracy
        self.trainLoss = trainLoss
        self.steps = steps
        self.seconds = seconds
        self.lastLevel = lastLevel
        self.diverged = diverged
        self.lastFiniteLoss = lastFiniteLoss
        self.testAccuracyRecalibrated = testAccuracyRecalibrated
        self.nearConstantInputs = nearConstantInputs
    }

    enum CodingKeys: String, CodingKey {
        case experiment, seed, level, control, architecture, steps, seconds, diverged
        case densityLayers = "density_layers"
        case densityTotal = "density_total"
        case aliveWeights = "alive_weights"
        case connectedFractionLayers = "connected_fraction_layers"
        case testAccuracy = "test_accuracy"
        case bestTestAccuracy = "best_test_accuracy"
        case trainLoss = "train_loss"
        case lastLevel = "last_level"
        case lastFiniteLoss = "last_finite_loss"
        case testAccuracyRecalibrated = "test_accuracy_recalibrated"
        case nearConstantInputs = "near_constant_inputs"
    }
}

/// One level's metrics.json: the training figures, the locality scalars of science §6 and the
/// ablation curves, all as keys of one flat JSON object.
public struct LevelMetrics: Codable, Sendable, Equatable {
    public var training: LevelTraining
    public var locality: LocalityMetrics?
    public var ablation: AblationCurves?
    /// Where the level's time went (absent from levels written before it was kept).
    public var timings: LevelTimings?

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(
        training: LevelTraining, locality: LocalityMetrics?, ablation: AblationCurves?, timings: LevelTimings? = nil
    ) {
        self.training = training
        self.locality = locality
        self.ablation = ablation
        self.timings = timings
    }

    enum CodingKeys: String, CodingKey { case ablation, timings }

    public init(from decoder: Decoder) throws {
        training = try LevelTraining(from: decoder)
        locality = try? LocalityMetrics(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ablation = try container.decodeIfPresent(AblationCurves.self, forKey: .ablation)
        timings = try container.decodeIfPresent(LevelTimings.self, forKey: .timings)
    }

    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        try locality?.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(ablation, forKey: .ablation)
        try container.encodeIfPresent(timings, forKey: .timings)
    }
}
