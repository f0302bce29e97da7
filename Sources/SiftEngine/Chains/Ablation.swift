import SiftArtifacts
import SiftData
import SiftMetrics
import SiftRandom

/// The ablation curves measured on a trained network.
extension AblationCurves {
    /// Silences the units of each chosen set in turn (zero incoming weights) and evaluates: at each fraction
    /// of the units, and at each count of `UnitCountCurves.defaultCounts`. The network is left as it was.
    init(trainer: Trainer, inDegrees: [Int], fractions: [Double] = defaultFractions, stream: RandomStream) {
        let units = inDegrees.count
        let byDegree = UnitOrder.mostConnectedFirst(inDegrees)
        var s = stream
        let orders = [byDegree, Array(byDegree.reversed()), s.permutation(units)]
        let evaluation = SilencedEvaluation(network: trainer.network, test: trainer.testChunks)
        func accuracies(counts: [Int]) -> [[Double]] {
            orders.map { order in counts.map { evaluation.accuracy(silencing: order.prefix($0)) } }
        }
        let byFraction = accuracies(counts: fractions.map { Int(($0 * Double(units)).rounded()) })
        let counts = UnitCountCurves.defaultCounts(units: units)
        let byCount = accuracies(counts: counts)
        self.init(
            fractions: fractions, most: byFraction[0], fewest: byFraction[1], random: byFraction[2],
            byUnits: UnitCountCurves(units: counts, most: byCount[0], fewest: byCount[1], random: byCount[2]))
    }
}

/// Test accuracy with first-layer units silenced, at the cost of the layers above the first: the first
/// layer's output on each test chunk is computed once, and each evaluation sets the silenced units' outputs
/// in it, runs the layers above and puts them back. Its predictions are those of zeroing the units' weights
/// and evaluating.
private struct SilencedEvaluation {
    let network: Network
    let test: EvaluationChunks
    /// Each chunk's first-layer output.
    let outputs: [Activations]
    /// Where an evaluation keeps the outputs it overwrites: a chunk's rows × every first-layer unit.
    let scratch: Matrix

    init(network: Network, test: EvaluationChunks) {
        self.network = network
        self.test = test
        outputs = test.chunks.map { network.firstLayerOutput($0) }
        scratch = Matrix(rows: test.chunks.map(\.rows).max() ?? 0, cols: network.layers[0].fanOut)
    }

    func accuracy(silencing units: ArraySlice<Int>) -> Double {
        test.accuracy { index, chunk in
            network.predict(rows: chunk.rows, firstLayerOutput: outputs[index], silencing: units, scratch: scratch)
        }
    }
}
