@testable import SiftEngine
import SiftRandom
import Testing

/// The ablation's shortcut (start from the first layer's pre-activations, set silenced units to their
/// bias) predicts what zeroing those units' incoming weights and evaluating the whole network predicts.
@Suite struct SilencedEvaluationTests {
    @Test(arguments: SparsePathTests.cases)
    func silencingFromPreActivationsMatchesZeroedWeights(_ c: SparsePathTests.Case) {
        let (dense, sparse) = SparsePathTests.pair(c)
        let (input, _) = SparsePathTests.batch(rows: c.rows, features: SparsePathTests.inputs, classes: 7, seed: 4)
        for network in [dense, sparse] {
            // A training pass first, so batch norm evaluates with running statistics.
            network.forward(input, training: true)
            let preActivations = network.firstLayerPreActivations(input)
            let layer = network.layers[0], saved = layer.weights.values
            var changed = 0
            for silenced in [[], [3], [3, 17, 42, 99], Array(0..<60), Array(0..<layer.fanOut)] {
                for unit in silenced {
                    for i in 0..<layer.fanIn { layer.weights[i, unit] = 0 }
                }
                let expected = network.predict(input)
                layer.weights.copy(from: saved)
                let shortcut = network.predict(rows: c.rows, firstLayerPreActivations: preActivations, silencing: silenced)
                #expect(shortcut == expected, "silencing \(silenced.count) units, sparse path: \(layer.sparse != nil)")
                if expected != network.predict(input) { changed += 1 }
            }
            #expect(changed > 0, "silencing never changed a prediction: the check would not see a wrong shortcut")
        }
    }
}
