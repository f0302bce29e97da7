/// The locality scalars of science §6 for one network's masks, as they appear in metrics.json.
/// Scalars describe layer 1; `connectedFraction` has one entry per layer (effective masks), and
/// `effectiveLayers` one per deeper hidden layer (absent with a single hidden layer).
/// A scalar is absent where it is undefined (no unit with two inputs, no weights given).
public struct LocalityMetrics: Codable, Sendable, Equatable {
    public var meanPairDistance: Double?
    public var pairDistanceRatioUniform: Double?
    public var pairDistanceRatioDegree: Double?
    public var pairDistanceZDegree: Double?
    public var gyrationRadiusMean: Double?
    public var gyrationRatioDegree: Double?
    public var iprMean: Double?
    public var participationRatioMean: Double?
    public var connectedFraction: [Double]
    public var inDegreeHistogram: InDegreeHistogram
    public var nullDraws: Int
    public var effectiveLayers: [EffectiveLayerMetrics]?

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(
        meanPairDistance: Double?, pairDistanceRatioUniform: Double?, pairDistanceRatioDegree: Double?,
        pairDistanceZDegree: Double?, gyrationRadiusMean: Double?, gyrationRatioDegree: Double?, iprMean: Double?,
        participationRatioMean: Double?, connectedFraction: [Double], inDegreeHistogram: InDegreeHistogram,
        nullDraws: Int,
        effectiveLayers: [EffectiveLayerMetrics]?
    ) {
        self.meanPairDistance = meanPairDistance
        self.pairDistanceRatioUniform = pairDistanceRatioUniform
        self.pairDistanceRatioDegree = pairDistanceRatioDegree
        self.pairDistanceZDegree = pairDistanceZDegree
        self.gyrationRadiusMean = gyrationRadiusMean
        self.gyrationRatioDegree = gyrationRatioDegree
        self.iprMean = iprMean
        self.participationRatioMean = participationRatioMean
        self.connectedFraction = connectedFraction
        self.inDegreeHistogram = inDegreeHistogram
        self.nullDraws = nullDraws
        self.effectiveLayers = effectiveLayers
    }

    enum CodingKeys: String, CodingKey {
        case meanPairDistance = "mean_pair_distance"
        case pairDistanceRatioUniform = "pair_distance_ratio_uniform"
        case pairDistanceRatioDegree = "pair_distance_ratio_degree"
        case pairDistanceZDegree = "pair_distance_z_degree"
        case gyrationRadiusMean = "gyration_radius_mean"
        case gyrationRatioDegree = "gyration_ratio_degree"
        case iprMean = "ipr_mean"
        case participationRatioMean = "participation_ratio_mean"
        case connectedFraction = "connected_fraction"
        case inDegreeHistogram = "in_degree_histogram"
        case nullDraws = "null_draws"
        case effectiveLayers = "effective_layers"
    }

    /// The metrics.json keys of the scalars a summary table reports, in order.
    public static let scalarKeys = [
        CodingKeys.pairDistanceRatioUniform, .pairDistanceRatioDegree, .pairDistanceZDegree, .meanPairDistance,
        .gyrationRadiusMean, .gyrationRatioDegree, .iprMean, .participationRatioMean,
    ].map(\.rawValue)

    /// The defined scalars by metrics.json key, with layer 1's connected fraction as `connected_fraction`
    /// every layer's as `connected_fraction_layer_<l>`, and the deeper layers' effective-mask figures.
    public var scalars: [String: Double] {
        let values: [Double?] = [
            pairDistanceRatioUniform, pairDistanceRatioDegree, pairDistanceZDegree, meanPairDistance,
            gyrationRadiusMean, gyrationRatioDegree, iprMean, participationRatioMean,
        ]
        var out: [String: Double] = [:]
        for (key, value) in zip(Self.scalarKeys, values) { out[key] = value }
        let connected = CodingKeys.connectedFraction.rawValue
        out[connected] = connectedFraction.first
        for (l, fraction) in connectedFraction.enumerated() { out["\(connected)_layer_\(l)"] = fraction }
        for layer in effectiveLayers ?? [] { out.merge(layer.scalars) { $1 } }
        return out
    }
}
