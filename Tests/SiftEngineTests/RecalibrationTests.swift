@testable import SiftEngine
import SiftData
import SiftFiles
import SiftRandom
import SiftTestKit
import Testing
import SiftSpec

/// Batch norm's statistics measured again under the trained weights (`Trainer.recalibrateBatchNorm`): the
/// running averages are replaced by the plain averages of K training batches' own statistics, taken in
/// training mode, which is what a brute-force pass over the same batches gives; an accuracy read with
/// statistics offset from the data then comes back.
@Suite struct RecalibrationTests {
    static let shape = ImageShape(channels: 1, height: 4, width: 4)
    static let batches = 6

    /// A batch-normalised 16-12-3 network after a few updates, on bands whose first pixel is constant.
    func trainedNetwork() -> Trainer {
        var data = SyntheticImages.split(shape: Self.shape, classes: 3, train: 240, test: 150)
        for n in 0..<data.train.count { data.train.features[n * 16] = 0.25 }
        for n in 0..<data.test.count { data.test.features[n * 16] = 0.25 }
        var model = ModelSpec(widths: [16, 12, 3])
        model.batchNorm = true
        model.batchNormEpsilon = 1e-5
        var train = TrainSpec()
        train.batchSize = 20
        train.steps = 30
        let trainer = Trainer(network: Network(spec: model), spec: train, data: data)
        trainer.network.initialize(stream: RandomStream(root: 3, seed: 0, purpose: "init"))
        _ = trainer.train(order: RandomStream(root: 3, seed: 0, purpose: "order"))
        return trainer
    }

    /// Each layer's batch-norm statistics over the same batches, by hand: every batch runs through the network
    /// with batch statistics, layer by layer, in Double; the results are the averages of the batch means and
    /// of the biased batch variances.
    func bruteForceStatistics(_ trainer: Trainer, order: RandomStream) -> [(mean: [Double], variance: [Double])] {
        var stream = order
        let permutation = stream.permutation(trainer.data.train.count)
        let network = trainer.network, rows = trainer.batchRows
        var sums = network.layers.map {
            (mean: [Double](repeating: 0, count: $0.fanIn), variance: [Double](repeating: 0, count: $0.fanIn))
        }
        for b in 0..<Self.batches {
            var x: [[Double]] = permutation[(b * rows)..<((b + 1) * rows)].map { i in
                (0..<16).map { Double(trainer.data.train.features[i * 16 + $0]) }
            }
            for (l, layer) in network.layers.enumerated() {
                guard let bn = layer.batchNorm else { continue }
                let n = Double(rows)
                let mean = (0..<layer.fanIn).map { j in x.reduce(0) { $0 + $1[j] } / n }
                let variance = (0..<layer.fanIn).map { j in
                    x.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n
                }
                for j in 0..<layer.fanIn { sums[l].mean[j] += mean[j]; sums[l].variance[j] += variance[j] }
                let y = x.map { row in
                    (0..<layer.fanIn).map { j in
                        Double(bn.gamma.pointer[j]) * (row[j] - mean[j])
                            / (variance[j] + Double(bn.epsilon)).squareRoot()
                            + Double(bn.beta.pointer[j])
                    }
                }
                let w = layer.weights
                x = y.map { row in
                    (0..<layer.fanOut).map { k in
                        let z = (0..<layer.fanIn).reduce(Double(layer.bias.pointer[k])) {
                            $0 + row[$1] * Double(w.pointer[$1 * layer.fanOut + k])
                        }
                        return l == network.layers.count - 1 ? z : max(z, 0)
                    }
                }
            }
        }
        return sums.map {
            (mean: $0.mean.map { $0 / Double(Self.batches) }, variance: $0.variance.map { $0 / Double(Self.batches) })
        }
    }

    @Test func recalibratedStatisticsAreTheBatchesAveragesAndRestoreTheAccuracy() throws {
        let trainer = trainedNetwork()
        let network = trainer.network
        #expect(network.nearConstantBatchNormInputs(below: 1e-6)?[0] == 1, "the constant first pixel")
        // Offset the running statistics from the data, as a running average that lags the weights does.
        for layer in network.layers {
            guard let bn = layer.batchNorm else { continue }
            for j in 0..<bn.features {
                bn.runningMean.pointer[j] += 3 * (bn.runningVariance.pointer[j] + 0.1).squareRoot()
            }
        }
        let offset = trainer.testAccuracy()
        let order = RandomStream(root: 3, seed: 0, purpose: "recalibration")
        let expected = bruteForceStatistics(trainer, order: order)
        trainer.recalibrateBatchNorm(batches: Self.batches, order: order)
        let recalibrated = trainer.testAccuracy()
        for (l, layer) in network.layers.enumerated() {
            let bn = try #require(layer.batchNorm)
            for j in 0..<bn.features {
                #expect(
                    abs(Double(bn.runningMean.pointer[j]) - expected[l].mean[j]) <= 1e-4
                        * (1 + abs(expected[l].mean[j])),
                    "layer \(l) input \(j): mean")
                #expect(
                    abs(Double(bn.runningVariance.pointer[j]) - expected[l].variance[j]) <= 1e-4
                        * (1 + expected[l].variance[j]),
                    "layer \(l) input \(j): variance")
            }
        }
        // The brute-force statistics, put in by hand, read the same accuracy.
        for (l, layer) in network.layers.enumerated() {
            let bn = try #require(layer.batchNorm)
            for j in 0..<bn.features {
                bn.runningMean.pointer[j] = Float(expected[l].mean[j])
                bn.runningVariance.pointer[j] = Float(expected[l].variance[j])
            }
        }
        #expect(trainer.testAccuracy() == recalibrated)
        #expect(recalibrated > offset + 0.2, "offset statistics read \(offset), recalibrated \(recalibrated)")
        #expect(recalibrated > 0.8)
    }

    /// Recalibration updates nothing but the statistics: weights, biases, γ and β keep their bits.
    @Test func recalibrationTouchesOnlyTheStatistics() {
        let trainer = trainedNetwork()
        let before = trainer.network.state
        trainer.recalibrateBatchNorm(
            batches: Self.batches, order: RandomStream(root: 3, seed: 0, purpose: "recalibration"))
        let after = trainer.network.state
        for (a, b) in zip(before.layers, after.layers) {
            #expect(a.weights == b.weights && a.bias == b.bias && a.gamma == b.gamma && a.beta == b.beta)
            #expect(a.runningMean != b.runningMean)
        }
    }
}
