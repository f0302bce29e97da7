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
        let evaluation = SilencedEvaluation(network: trainer.network, images: trainer.data.test)
        func accuracies(counts: [Int]) -> [[Double]] {
            orders.map { order in counts.map { evaluation.accuracy(silencing: order.prefix($0)) } }
        }
        let byFraction = accuracies(counts: fractions.map { Int(($0 * Double(units)).rounded()) })
        let counts = UnitCountCurves.defaultCounts(units: units)
        let byCount = accuracies(counts: counts)
        self.init(fractions: fractions, most: byFraction[0], fewest: byFraction[1], random: byFraction[2],
                  byUnits: UnitCountCurves(units: counts, most: byCount[0], fewest: byCount[1], random: byCount[2]))
    }
}

/// Test accuracy with first-layer units silenced, at the cost of the layers above the first: the first
/// layer's output on the test set is computed once (in the chunks `Trainer.accuracy` uses), and each
/// evaluation sets the silenced units' outputs in it, runs the layers above and puts them back. Its
/// predictions are those of zeroing the units' weights and evaluating.
private struct SilencedEvaluation {
    let network: Network
    let labels: [Int32]
    /// Each chunk's first-layer output, its first image's index and its number of images.
    let chunks: [(output: Activations, start: Int, rows: Int)]
    /// Where an evaluation keeps the outputs it overwrites: a chunk's rows × every first-layer unit.
    let scratch: Matrix

    init(network: Network, images: LabelledImages) {
        var chunks: [(Activations, Int, Int)] = []
        Trainer.forEachChunk(of: images) { input, start in
            chunks.append((network.firstLayerOutput(input), start, input.rows))
        }
        self.network = network
        self.chunks = chunks
        labels = images.labels
        scratch = Matrix(rows: chunks.map(\.2).max() ?? 0, cols: network.layers[0].fanOut)
    }

    func accuracy(silencing units: ArraySlice<Int>) -> Double {
        guard !labels.isEmpty else { return 0 }
        let correct = chunks.reduce(0) { sum, chunk in
            sum + Trainer.correctCount(network.predict(rows: chunk.rows, firstLayerOutput: chunk.output, silencing: units,
                                                       scratch: scratch),
                                       labels: labels, from: chunk.start)
        }
        return Double(correct) / Double(labels.count)
    }
}
