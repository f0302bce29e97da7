import SiftArtifacts

/// The name of a column of summary.csv and summary.json, which is also what a chart or table of the report
/// reads: each spelled here once. The scalars read from metrics.json keep its keys (SiftArtifacts writes
/// them); the per-layer columns are derived from a layer's index.
package struct MetricColumn: Hashable, Sendable, CustomStringConvertible {
    package let name: String

    init(_ name: String) { self.name = name }

    package var description: String { name }

    package static let densityTotal = MetricColumn("density_total")
    package static let testAccuracy = MetricColumn("test_accuracy")
    package static let bestTestAccuracy = MetricColumn("best_test_accuracy")
    package static let testAccuracyRecalibrated = MetricColumn("test_accuracy_recalibrated")
    package static let trainLoss = MetricColumn("train_loss")
    package static let pairDistanceRatioUniform = MetricColumn("pair_distance_ratio_uniform")
    package static let pairDistanceRatioDegree = MetricColumn("pair_distance_ratio_degree")
    package static let pairDistanceZDegree = MetricColumn("pair_distance_z_degree")
    package static let meanPairDistance = MetricColumn("mean_pair_distance")
    package static let gyrationRadiusMean = MetricColumn("gyration_radius_mean")
    package static let gyrationRatioDegree = MetricColumn("gyration_ratio_degree")
    package static let iprMean = MetricColumn("ipr_mean")
    package static let participationRatioMean = MetricColumn("participation_ratio_mean")
    /// Layer 1's share of connected units (every layer's is `connectedFraction(layer:)`).
    package static let connectedFraction = MetricColumn("connected_fraction")

    /// The training figures of a level, in summary.csv's order.
    package static let training = [densityTotal, testAccuracy, bestTestAccuracy, testAccuracyRecalibrated, trainLoss]
    /// The locality scalars of a level, in summary.csv's order.
    package static let locality = [
        pairDistanceRatioUniform, pairDistanceRatioDegree, pairDistanceZDegree, meanPairDistance, gyrationRadiusMean,
        gyrationRatioDegree, iprMean, participationRatioMean,
    ]

    private static let densityPrefix = "density_layer_"
    private static let connectedFractionPrefix = "connected_fraction_layer_"
    private static let nearConstantInputsPrefix = "near_constant_inputs_layer_"

    /// The density of layer `layer` (0: the first).
    package static func density(layer: Int) -> MetricColumn { MetricColumn(densityPrefix + "\(layer)") }
    package static func connectedFraction(layer: Int) -> MetricColumn {
        MetricColumn(connectedFractionPrefix + "\(layer)")
    }
    /// With batch norm: how many of layer `layer`'s batch-norm inputs are nearly constant.
    package static func nearConstantInputs(layer: Int) -> MetricColumn {
        MetricColumn(nearConstantInputsPrefix + "\(layer)")
    }

    /// The share of pixels with a path to a deeper layer's units (a figure of effective masks only).
    package static let pixelsReachedFraction = MetricColumn("pixels_reached_fraction")

    /// `figure` measured on the effective masks of hidden layer `layer` (1: the second hidden layer).
    package static func effective(_ figure: MetricColumn, layer: Int) -> MetricColumn {
        MetricColumn(EffectiveLayerMetrics.column(figure.name, layer: layer))
    }

    /// The layer whose effective masks a column of `figure` measures, or nil for another column.
    package static func effectiveLayer(of name: String, figure: MetricColumn) -> Int? {
        let prefix = EffectiveLayerMetrics.column(figure.name, layer: 0).dropLast()
        return name.hasPrefix(prefix) ? Int(name.dropFirst(prefix.count)) : nil
    }

    /// The layer a near-constant-inputs column counts, or nil for another column.
    package static func nearConstantInputsLayer(of name: String) -> Int? {
        name.hasPrefix(nearConstantInputsPrefix) ? Int(name.dropFirst(nearConstantInputsPrefix.count)) : nil
    }
}
