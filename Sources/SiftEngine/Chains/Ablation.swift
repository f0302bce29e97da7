import SiftArtifacts
import SiftData
import SiftMetrics
import SiftRandom

/// The ablation curves measured on a trained network.
extension AblationCurves {
    /// Zeroes the incoming weights of each chosen set in turn, evaluates, and restores the weights.
    init(trainer: Trainer, inDegrees: [Int], fractions: [Double] = defaultFractions, stream: RandomStream) {
        let layer = trainer.network.layers[0]
        let units = inDegrees.count
        let byDegree = UnitOrder.mostConnectedFirst(inDegrees)
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
        self.init(fractions: fractions, most: curves[0], fewest: curves[1], random: curves[2])
    }
}
