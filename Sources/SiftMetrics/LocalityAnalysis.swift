import SiftFiles
import SiftArtifacts
import SiftRandom

/// Everything science §6 computes from masks: the scalars and the maps saved beside them.
public struct LocalityAnalysis: Sendable {
    public var metrics: LocalityMetrics
    /// Layer 1's S^sc and S^dc.
    public var maps: DisplacementMaps
    /// The same, split by the units' in-degree (science §6.10).
    public var mapsByInDegree: MapsByInDegree
    /// o_i of layer 1 as a C×H×W image.
    public var outDegrees: [Int]

    /// Null draws for a deeper layer's effective mask. Only its ratios to the null are reported, and with
    /// hundreds of inputs a unit the null's D and R_g move by about 10⁻⁴ between draws (2 draws against 8
    /// on a 3×1024 chain at 0.97 %), while each draw of a mask that dense is most of the analysis's time.
    public static let effectiveNullDraws = 2

    /// `masks` are all layers' masks, first layer first (the last is the output layer); `weights` the first
    /// layer's trained weights. The null draws run on at most `threads` threads.
    public init(
        masks: [ConnectivityMask], firstLayerWeights weights: [Float]?, shape: ImageShape,
        nullDraws: Int = 8, threads: Int = 1, stream: RandomStream
    ) {
        let first = masks[0]
        mapsByInDegree = MapsByInDegree(mask: first, shape: shape)
        maps = mapsByInDegree.total(shape: shape)
        outDegrees = first.outDegrees
        let layer1 = FieldMeasures(
            mask: first, maps: maps, shape: shape, nullDraws: nullDraws, threads: threads, stream: stream)
        let ipr = weights.map { UnitShape.inverseParticipationRatios(weights: $0, mask: first).compactMap { $0 } }

        // science §6.11: the hidden layers after the first (the output layer is not one), on their effective masks.
        let effective = EffectiveMasks.of(masks)
        let deeper = effective.indices.dropFirst().dropLast().map { l in
            let field = effective[l]
            let measures = FieldMeasures(
                mask: field, shape: shape, nullDraws: min(nullDraws, Self.effectiveNullDraws),
                threads: threads, stream: stream.derived("layer-\(l)"))
            let reached = field.outDegrees.filter { $0 > 0 }.count
            return EffectiveLayerMetrics(
                layer: l, meanPairDistance: measures.meanPairDistance,
                pairDistanceRatioUniform: measures.pairDistanceRatioUniform,
                pairDistanceRatioDegree: measures.pairDistanceRatioDegree,
                gyrationRadiusMean: measures.gyrationRadiusMean, gyrationRatioDegree: measures.gyrationRatioDegree,
                pixelsReachedFraction: Double(reached) / Double(max(field.fanIn, 1)))
        }

        metrics = LocalityMetrics(
            meanPairDistance: layer1.meanPairDistance,
            pairDistanceRatioUniform: layer1.pairDistanceRatioUniform,
            pairDistanceRatioDegree: layer1.pairDistanceRatioDegree,
            pairDistanceZDegree: layer1.pairDistanceZDegree,
            gyrationRadiusMean: layer1.gyrationRadiusMean,
            gyrationRatioDegree: layer1.gyrationRatioDegree,
            iprMean: ipr.flatMap { mean($0) },
            participationRatioMean: ipr.flatMap { mean($0.map { 1 / $0 }) },
            connectedFraction: effective.map(\.connectedFraction),
            inDegreeHistogram: InDegreeHistogram(first),
            nullDraws: nullDraws,
            effectiveLayers: deeper.isEmpty ? nil : deeper)
    }
}
