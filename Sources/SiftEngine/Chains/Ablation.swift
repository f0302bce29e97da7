import SiftArtifacts
import SiftData
import SiftMetrics
import SiftRandom

/// The ablation curves measured on a trained network.
extension AblationCurves {
    /// Zeroes the incoming weights of each chosen set in turn, evaluates, and restores the weights:
    /// at each fraction of the units, and at each count of `UnitCountCurves.defaultCounts`.
    init(trainer: Trainer, inDegrees: [Int], fractions: [Double] = defaultFractions, stream: RandomStream) {
        let units = inDegrees.count
        let byDegree = UnitOrder.mostConnectedFirst(inDegrees)
        var s = stream
        let orders = [byDegree, Array(byDegree.reversed()), s.permutation(units)]
        let byFraction = Self.accuracies(trainer, orders: orders,
                                         counts: fractions.map { Int(($0 * Double(units)).rounded()) })
        let counts = UnitCountCurves.defaultCounts(units: units)
        let byCount = Self.accuracies(trainer, orders: orders, counts: counts)
        self.init(fractions: fractions, most: byFraction[0], fewest: byFraction[1], random: byFraction[2],
                  byUnits: UnitCountCurves(units: counts, most: byCount[0], fewest: byCount[1], random: byCount[2]))
    }

    /// Per order, the test accuracy with the order's first `count` units silenced, for each count.
    private static func accuracies(_ trainer: Trainer, orders: [[Int]], counts: [Int]) -> [[Double]] {
        let layer = trainer.network.layers[0]
        let saved = layer.weights.values
        return orders.map { order in
            counts.map { count in
                for n in order.prefix(count) {
                    for i in 0..<layer.fanIn { layer.weights[i, n] = 0 }
                }
                let accuracy = trainer.accuracy(on: trainer.data.test)
                layer.weights.copy(from: saved)
                return accuracy
            }
        }
    }
}
