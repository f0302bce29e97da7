/// science §6.11: measures 2–5 of a deeper hidden layer, on its effective mask M_1·…·M_l (a unit's effective
/// field is every pixel with a path to it), and the fraction of pixels that reach the layer at all.
/// `layer` counts from 0, as mask-<l>.npy does: 1 is the second hidden layer.
public struct EffectiveLayerMetrics: Codable, Sendable, Equatable {
    public var layer: Int
    public var meanPairDistance: Double?
    public var pairDistanceRatioUniform: Double?
    public var pairDistanceRatioDegree: Double?
    public var gyrationRadiusMean: Double?
    public var gyrationRatioDegree: Double?
    public var pixelsReachedFraction: Double

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(
        layer: Int, meanPairDistance: Double?, pairDistanceRatioUniform: Double?, pairDistanceRatioDegree: Double?,
        gyrationRadiusMean: Double?, gyrationRatioDegree: Double?, pixelsReachedFraction: Double
    ) {
        self.layer = layer
        self.meanPairDistance = meanPairDistance
        self.pairDistanceRatioUniform = pairDistanceRatioUniform
        self.pairDistanceRatioDegree = pairDistanceRatioDegree
        self.gyrationRadiusMean = gyrationRadiusMean
        self.gyrationRatioDegree = gyrationRatioDegree
        self.pixelsReachedFraction = pixelsReachedFraction
    }

    enum CodingKeys: String, CodingKey {
        case layer
        case meanPairDistance = "mean_pair_distance"
        case pairDistanceRatioUniform = "pair_distance_ratio_uniform"
        case pairDistanceRatioDegree = "pair_distance_ratio_degree"
        case gyrationRadiusMean = "gyration_radius_mean"
        case gyrationRatioDegree = "gyration_ratio_degree"
        case pixelsReachedFraction = "pixels_reached_fraction"
    }

    /// The defined figures, keyed `effective_<name>_layer_<l>` as summary columns.
    public var scalars: [String: Double] {
        let named: [(String, Double?)] = [
            ("mean_pair_distance", meanPairDistance), ("pair_distance_ratio_uniform", pairDistanceRatioUniform),
            ("pair_distance_ratio_degree", pairDistanceRatioDegree), ("gyration_radius_mean", gyrationRadiusMean),
            ("gyration_ratio_degree", gyrationRatioDegree), ("pixels_reached_fraction", pixelsReachedFraction),
        ]
        var out: [String: Double] = [:]
        for (name, value) in named { out[Self.column(name, layer: layer)] = value }
        return out
    }

    /// The summary column of one figure of layer `layer`.
    public static func column(_ name: String, layer: Int) -> String { "effective_\(name)_layer_\(layer)" }

    public static let figureNames = [
        "mean_pair_distance", "pair_distance_ratio_uniform", "pair_distance_ratio_degree",
        "gyration_radius_mean", "gyration_ratio_degree", "pixels_reached_fraction",
    ]
}
