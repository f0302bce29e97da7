@testable import SiftEngine
import SiftRandom
import Testing

/// The ablation's shortcut (start from the first layer's output, set silenced units' to what their bias
/// gives) predicts what zeroing those units' incoming weights and evaluating the whole network predicts,
/// and leaves the first layer's output as it found it for the next evaluation.
@Suite struct SilencedEvaluationTests {
    @Test(arguments: SparsePathTests.cases)
    func silencingFromPreActivationsMatchesZeroedWeights(_ c: SparsePathTests.Case) {
        let (dense, sparse) = SparsePathTests.pair(c)
        let (input, _) = SparsePathTests.batch(rows: c.rows, features: SparsePathTests.inputs, classes: 7, seed: 4)
        for network in [dense, sparse] {
            // A training pass first, so batch norm evaluates with running statistics.
            network.forward(input, training: true)
            let output = network.firstLayerOutput(input), pristine = Self.values(output)
            let scratch = Matrix(rows: c.rows, cols: network.layers[0].fanOut)
            let layer = network.layers[0], saved = layer.weights.values
            var changed = 0
            for silenced in [[], [3], [3, 17, 42, 99], Array(0..<60), Array(0..<layer.fanOut)] {
                for unit in silenced {
                    for i in 0..<layer.fanIn { layer.weights[i, unit] = 0 }
                }
                let expected = network.predict(input)
                layer.weights.copy(from: saved)
                let shortcut = network.predict(
                    rows: c.rows, firstLayerOutput: output, silencing: silenced, scratch: scratch)
                #expect(shortcut == expected, "silencing \(silenced.count) units, sparse path: \(layer.sparse != nil)")
                #expect(Self.values(output) == pristine, "the first layer's output is put back")
                if expected != network.predict(input) { changed += 1 }
            }
            #expect(changed > 0, "silencing never changed a prediction: the check would not see a wrong shortcut")
        }
    }

    private static func values(_ output: Activations) -> [UInt32] {
        switch output {
        case .rowMajor(let m), .featureMajor(let m): return m.buffer.map(\.bitPattern)
        }
    }
}
