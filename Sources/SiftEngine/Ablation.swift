import SiftData
import SiftMetrics
import SiftRandom

/// SPEC 6.8: test accuracy after silencing first-layer units, chosen by in-degree.
public struct AblationCurves: Codable, Sendable, Equatable {
    /// Fractions of first-layer units silenced.
    public var fractions: [Double]
    /// Accuracy when the units with the most surviving inputs are silenced first.
    public var most: [Double]
    public var fewest: [Double]
    public var random: [Double]

    public static let defaultFractions = [0.1, 0.25, 0.5]

    /// Zeroes the incoming weights of each chosen set in turn, evaluates, and restores the weights.
    init(trainer: Trainer, inDegrees: [Int], fractions: [Double] = defaultFractions, stream: RandomStream) {
        let layer = trainer.network.layers[0]
        let units = inDegrees.count
        let byDegree = (0..<units).sorted { inDegrees[$0] != inDegrees[$1] ? inDegrees[$0] > inDegrees[$1] : $0 < $1 }
        var s = stream
        let orders = [byDegree, Array(byDegree.reversed()), s.permutation(units)]
        let saved = layer.weights.values
        var curves: [[Double]] = []
        for order in orders {
            curves.append(fractions.map { fraction in
                for n in order.prefix(Int((fraction * Double(units)).rounded())) {
                    for i in 0..<layer.fanIn { layer.weights[i, n] = 0 }
                }
                let accuracy = trainer.accuracy(on: trainer.data.test)
                layer.weights.copy(from: saved)
                return accuracy
            })
        }
        self.fractions = fractions
        (most, fewest, random) = (curves[0], curves[1], curves[2])
    }
}
