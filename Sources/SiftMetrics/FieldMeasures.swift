import Dispatch
import SiftFiles
import SiftRandom

/// Measures 2–5 of science §6 for one mask over the image's pixels (layer 1's, or a deeper layer's
/// effective mask): the mean pair distance D, its ratios to the uniform and degree-preserving nulls,
/// and the mean radius of gyration with its ratio to the same null.
struct FieldMeasures {
    var meanPairDistance: Double?
    var pairDistanceRatioUniform: Double?
    var pairDistanceRatioDegree: Double?
    var pairDistanceZDegree: Double?
    var gyrationRadiusMean: Double?
    var gyrationRatioDegree: Double?

    /// `maps` are the mask's own displacement maps, when the caller has them already. Null draw r uses
    /// `stream.derived("degree-null-<r>")`; the draws run on at most `threads` threads.
    init(
        mask: ConnectivityMask, maps: DisplacementMaps? = nil, shape: ImageShape, nullDraws: Int, threads: Int,
        stream: RandomStream
    ) {
        let distance = (maps ?? DisplacementMaps(mask: mask, shape: shape)).meanPairDistance
        let gyration = UnitShape.meanGyrationRadius(mask, shape: shape)

        // Each draw has its own stream and slot, so the draws run in `threads` lanes and the result
        // does not depend on how many lanes there are or which finishes first.
        var draws = [(distance: Double?, gyration: Double?)](repeating: (nil, nil), count: nullDraws)
        let lanes = max(1, min(threads, nullDraws))
        draws.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                for r in stride(from: lane, to: nullDraws, by: lanes) {
                    let null = DegreePreservingNull.draw(mask, stream: stream.derived("degree-null-\(r)"))
                    slots.value[r] = (
                        DisplacementMaps(mask: null, shape: shape).meanPairDistance,
                        UnitShape.meanGyrationRadius(null, shape: shape)
                    )
                }
            }
        }
        let nullDistances = draws.compactMap(\.distance), nullGyrations = draws.compactMap(\.gyration)
        let nullMean = mean(nullDistances)
        if let distance, let nullMean, nullDistances.count >= 2 {
            let variance =
                nullDistances.reduce(0) { $0 + ($1 - nullMean) * ($1 - nullMean) } / Double(nullDistances.count - 1)
            pairDistanceZDegree = variance > 0 ? (distance - nullMean) / variance.squareRoot() : nil
        }
        meanPairDistance = distance
        pairDistanceRatioUniform = distance.map {
            $0 / uniformMeanPairDistance(height: shape.height, width: shape.width)
        }
        pairDistanceRatioDegree = ratio(distance, nullMean)
        gyrationRadiusMean = gyration
        gyrationRatioDegree = ratio(gyration, mean(nullGyrations))
    }
}

private func ratio(_ a: Double?, _ b: Double?) -> Double? {
    guard let a, let b, b > 0 else { return nil }
    return a / b
}
