import Dispatch
import SiftData
import SiftFiles
import SiftArtifacts
import SiftRandom

/// Everything SPEC 6 computes from masks: the scalars and the maps saved beside them.
public struct LocalityAnalysis: Sendable {
    public var metrics: LocalityMetrics
    public var maps: DisplacementMaps
    /// o_i of layer 1 as a C×H×W image.
    public var outDegrees: [Int]

    /// `masks` are all layers' masks, first layer first; `weights` the first layer's trained weights.
    /// The null draws run on at most `threads` threads.
    public init(masks: [ConnectivityMask], firstLayerWeights weights: [Float]?, shape: ImageShape,
                nullDraws: Int = 8, threads: Int = 1, stream: RandomStream) {
        let first = masks[0]
        maps = DisplacementMaps(mask: first, shape: shape)
        outDegrees = first.outDegrees
        let distance = maps.meanPairDistance
        let uniform = uniformMeanPairDistance(height: shape.height, width: shape.width)
        let gyration = UnitShape.meanGyrationRadius(first, shape: shape)

        // Each draw has its own stream and slot, so the draws run in `threads` lanes and the result
        // does not depend on how many lanes there are or which finishes first.
        var draws = [(distance: Double?, gyration: Double?)](repeating: (nil, nil), count: nullDraws)
        let lanes = max(1, min(threads, nullDraws))
        draws.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                for r in stride(from: lane, to: nullDraws, by: lanes) {
                    let null = DegreePreservingNull.draw(first, stream: stream.derived("degree-null-\(r)"))
                    slots.value[r] = (DisplacementMaps(mask: null, shape: shape).meanPairDistance,
                                      UnitShape.meanGyrationRadius(null, shape: shape))
                }
            }
        }
        let nullDistances = draws.compactMap(\.distance), nullGyrations = draws.compactMap(\.gyration)
        let nullMean = mean(nullDistances)
        var z: Double?
        if let distance, let nullMean, nullDistances.count >= 2 {
            let variance = nullDistances.reduce(0) { $0 + ($1 - nullMean) * ($1 - nullMean) } / Double(nullDistances.count - 1)
            z = variance > 0 ? (distance - nullMean) / variance.squareRoot() : nil
        }
        let ipr = weights.map { UnitShape.inverseParticipationRatios(weights: $0, mask: first).compactMap { $0 } }

        metrics = LocalityMetrics(
            meanPairDistance: distance,
            pairDistanceRatioUniform: distance.map { $0 / uniform },
            pairDistanceRatioDegree: ratio(distance, nullMean),
            pairDistanceZDegree: z,
            gyrationRadiusMean: gyration,
            gyrationRatioDegree: ratio(gyration, mean(nullGyrations)),
            iprMean: ipr.flatMap { mean($0) },
            participationRatioMean: ipr.flatMap { mean($0.map { 1 / $0 }) },
            connectedFraction: ConnectivityMask.effective(masks).map(\.connectedFraction),
            inDegreeHistogram: InDegreeHistogram(first),
            nullDraws: nullDraws)
    }
}

/// Hands a buffer to concurrent code whose lanes write disjoint slots of it: the one use of
/// `@unchecked Sendable` here, since no checked construct expresses "disjoint slots".
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

private func ratio(_ a: Double?, _ b: Double?) -> Double? {
    guard let a, let b, b > 0 else { return nil }
    return a / b
}
