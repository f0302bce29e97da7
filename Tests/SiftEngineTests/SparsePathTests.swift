@testable import SiftEngine
import SiftRandom
import Testing
import SiftSpec

/// The sparse path computes what the dense path computes, to float tolerance, on random masks.
@Suite struct SparsePathTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var density: Double
        var batchNorm: Bool
        /// Batch rows: not a multiple of the kernel panel, and more than one panel or sweep, among the cases.
        var rows: Int
        /// A layer left on the dense path among sparse ones (kept at 60 %), so activations cross between layouts.
        var denseLayer: Int?
        var testDescription: String {
            "density \(density), \(rows) rows\(batchNorm ? " +bn" : "")\(denseLayer.map { ", layer \($0 + 1) dense" } ?? "")"
        }
    }

    static let cases = [
        Case(density: 0.02, batchNorm: false, rows: 37),
        // One block per index, wider than a 128-column sweep: the forward kernel takes whole rows.
        Case(density: 0.02, batchNorm: false, rows: 300),
        Case(density: 0.1, batchNorm: false, rows: 100),
        Case(density: 0.1, batchNorm: true, rows: 64),
        Case(density: 0.4, batchNorm: false, rows: 5),
        // Wider than one 128-column sweep of the forward kernel, ending in a 32-column panel.
        Case(density: 0.4, batchNorm: false, rows: 150),
        // Feature-major activations into a dense layer and back out of it, and into a dense output layer.
        Case(density: 0.1, batchNorm: false, rows: 100, denseLayer: 1),
        Case(density: 0.1, batchNorm: false, rows: 37, denseLayer: 2),
        Case(density: 0.1, batchNorm: true, rows: 64, denseLayer: 2),
    ]

    /// Input units: enough that the first layer's survivors split into several blocks of inputs at 40 %
    /// density, and that its output units hold both groups of eight survivors and shorter remainders.
    /// The second layer's 100 outputs split its input-gradient product into blocks too.
    static let inputs = 200

    /// One network twice, same weights and masks: every layer dense, and every layer sparse.
    static func pair(_ c: Case) -> (dense: Network, sparse: Network) {
        var model = ModelSpec(widths: [Self.inputs, 100, 100, 7])
        model.batchNorm = c.batchNorm
        model.batchNormEpsilon = 1e-5
        var masks = MaskSet.random(model, density: c.density, stream: RandomStream(root: 9, seed: 1, purpose: "mask"))
        if let k = c.denseLayer {
            masks.layers[k] =
                MaskSet.random(model, density: 0.6, stream: RandomStream(root: 9, seed: 1, purpose: "dense")).layers[k]
        }
        let networks = [0.0, c.denseLayer == nil ? 2.0 : 0.5].map { threshold -> Network in
            var spec = model
            spec.sparseBelow = threshold
            let network = Network(spec: spec)
            network.initialize(stream: RandomStream(root: 9, seed: 1, purpose: "init"))
            network.apply(masks)
            return network
        }
        #expect(networks[0].layers.allSatisfy { $0.sparse == nil })
        #expect(
            networks[1].layers.indices.allSatisfy { (networks[1].layers[$0].sparse == nil) == ($0 == c.denseLayer) })
        // Every sparse hidden layer hands its activations up feature-major, through the next one's batch norm if it has one.
        let layers = networks[1].layers
        #expect(layers.indices.dropLast().allSatisfy { layers[$0].emitsFeatureMajor == (layers[$0].sparse != nil) })
        if c.density <= 0.02 {
            #expect(networks[1].layers[0].sparse!.byOutput.blocks == 1)
        }
        if c.density >= 0.4 {
            #expect(networks[1].layers[0].sparse!.byOutput.blocks > 1)
            #expect(networks[1].layers[1].sparse!.byInput.blocks > 1)
        }
        return (networks[0], networks[1])
    }

    static func batch(rows: Int, features: Int, classes: Int, seed: UInt64) -> (Matrix, [Int32]) {
        var s = RandomStream(root: 9, seed: seed, purpose: "batch")
        let input = Matrix(rows: rows, cols: features)
        for i in 0..<input.count { input.pointer[i] = Float(s.nextNormal()) }
        return (input, (0..<rows).map { _ in Int32(s.nextInt(below: classes)) })
    }

    /// Largest |a − b| relative to the largest |a|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        let scale = max(a.map { Double(abs($0)) }.max() ?? 0, 1e-6)
        return zip(a, b).map { Double(abs($0 - $1)) }.max().map { $0 / scale } ?? 0
    }

    @Test(arguments: cases)
    func forwardPassesAgree(_ c: Case) {
        let (dense, sparse) = Self.pair(c)
        let (input, _) = Self.batch(rows: c.rows, features: Self.inputs, classes: 7, seed: 2)
        for training in [false, true] {
            let expected = dense.forward(input, training: training).values
            let actual = sparse.forward(input, training: training).values
            #expect(Self.relativeError(expected, actual) < 1e-5, "training: \(training)")
        }
    }

    @Test(arguments: cases)
    func gradientsAgreeAtSurvivingEntries(_ c: Case) {
        let (dense, sparse) = Self.pair(c)
        let (input, labels) = Self.batch(rows: c.rows, features: Self.inputs, classes: 7, seed: 3)
        let lossDense = labels.withUnsafeBufferPointer { dense.computeGradients(input, labels: $0.baseAddress!) }
        let lossSparse = labels.withUnsafeBufferPointer { sparse.computeGradients(input, labels: $0.baseAddress!) }
        #expect(abs(lossDense - lossSparse) <= 1e-5 * max(abs(lossDense), 1))
        for (l, (d, s)) in zip(dense.layers, sparse.layers).enumerated() {
            let mask = d.weightMask.values
            let expected = zip(d.denseWeightGradient.values, mask).map { $0 * $1 }
            // A layer left on the dense path keeps its gradient unmasked (the update masks it), as the reference does.
            let stored = s.denseWeightGradient.values
            let actual = s.sparse == nil ? zip(stored, mask).map { $0 * $1 } : stored
            #expect(zip(actual, mask).allSatisfy { $1 != 0 || $0 == 0 }, "layer \(l): gradient at a pruned entry")
            #expect(Self.relativeError(expected, actual) < 1e-4, "layer \(l) weights")
            #expect(Self.relativeError(d.gradBias.values, s.gradBias.values) < 1e-4, "layer \(l) bias")
            if let bn = d.batchNorm, let sbn = s.batchNorm {
                #expect(Self.relativeError(bn.gradGamma.values, sbn.gradGamma.values) < 1e-4, "layer \(l) gamma")
                #expect(Self.relativeError(bn.gradBeta.values, sbn.gradBeta.values) < 1e-4, "layer \(l) beta")
            }
        }
    }

    static let optimizers: [(OptimizerKind, Double)] = [(.sgd, 0), (.sgd, 0.9), (.adam, 0)]

    @Test(arguments: cases)
    func trainingStepsAgreeAndKeepPrunedWeightsAtZero(_ c: Case) {
        for (kind, momentum) in Self.optimizers {
            let (dense, sparse) = Self.pair(c)
            var train = TrainSpec()
            train.optimizer = kind
            train.momentum = momentum
            train.learningRate = kind == .adam ? 1e-3 : 0.05
            let optimizers = [dense, sparse].map { Optimizer(spec: train, network: $0) }
            #expect(dense.inputLayoutWanted(rows: c.rows) == nil)
            #expect(sparse.inputLayoutWanted(rows: c.rows) != nil)
            for step in 0..<5 {
                let (input, labels) = Self.batch(
                    rows: c.rows, features: Self.inputs, classes: 7, seed: 10 + UInt64(step))
                for (network, optimizer) in zip([dense, sparse], optimizers) {
                    // Every other step hands a sparse first layer its input already transposed, as the batch prefetcher does.
                    let inputT =
                        step % 2 == 0
                        ? network.inputLayoutWanted(rows: c.rows).map { layout -> Matrix in
                            let t = Matrix(rows: Self.inputs, cols: layout.stride)
                            BLAS.transpose(input, into: t)
                            return t
                        } : nil
                    _ = labels.withUnsafeBufferPointer {
                        network.trainStep(input, inputT: inputT, labels: $0.baseAddress!, optimizer: optimizer)
                    }
                }
            }
            for (l, (d, s)) in zip(dense.layers, sparse.layers).enumerated() {
                let actual = s.weights.values
                #expect(Self.relativeError(d.weights.values, actual) < 1e-4, "\(kind) momentum \(momentum), layer \(l)")
                #expect(
                    zip(actual, d.weightMask.values).allSatisfy { $1 != 0 || $0 == 0 },
                    "pruned weight moved, layer \(l)")
                #expect(Self.relativeError(d.bias.values, s.bias.values) < 1e-4)
            }
        }
    }

    /// Batch norm on the sparse path gives the same bits whether the first layer's input arrives row-major (and
    /// is transposed after normalising) or feature-major (normalised in that layout), as the batch prefetcher hands it.
    @Test(arguments: cases.filter(\.batchNorm))
    func batchNormGivesTheSameBitsInEitherLayout(_ c: Case) {
        let networks = [Self.pair(c).sparse, Self.pair(c).sparse]
        var train = TrainSpec()
        train.learningRate = 0.05
        let optimizers = networks.map { Optimizer(spec: train, network: $0) }
        for step in 0..<4 {
            let (input, labels) = Self.batch(rows: c.rows, features: Self.inputs, classes: 7, seed: 20 + UInt64(step))
            guard let layout = networks[1].inputLayoutWanted(rows: c.rows) else {
                Issue.record("a sparse first layer under batch norm should read its input feature-major")
                return
            }
            let inputT = Matrix(rows: Self.inputs, cols: layout.stride)
            BLAS.transpose(input, into: inputT)
            for (k, (network, optimizer)) in zip(networks, optimizers).enumerated() {
                _ = labels.withUnsafeBufferPointer {
                    network.trainStep(
                        input, inputT: k == 1 ? inputT : nil, labels: $0.baseAddress!, optimizer: optimizer)
                }
            }
        }
        let (input, _) = Self.batch(rows: c.rows, features: Self.inputs, classes: 7, seed: 30)
        let bits = networks.map { network in
            network.layers.flatMap { layer in
                [layer.weights.values, layer.bias.values]
                    + (layer.batchNorm.map {
                        [$0.gamma.values, $0.beta.values, $0.runningMean.values, $0.runningVariance.values]
                    } ?? [])
            }.joined().map(\.bitPattern) + network.forward(input, training: false).values.map(\.bitPattern)
        }
        let identical = bits[0] == bits[1]  // a Bool, so a failure does not print every float
        #expect(identical, "batch norm's layouts disagree after 4 steps")
    }

    /// Writes through `weights` (as the ablation curves do) reach the sparse pass, and undoing them restores it.
    @Test func writesToTheDenseWeightsReachTheSparsePass() {
        let c = Case(density: 0.1, batchNorm: false, rows: 16)
        let (dense, sparse) = Self.pair(c)
        let (input, _) = Self.batch(rows: c.rows, features: Self.inputs, classes: 7, seed: 4)
        let before = sparse.forward(input, training: false).values
        for network in [dense, sparse] {
            for i in 0..<Self.inputs { network.layers[0].weights[i, 3] = 0 }
        }
        let silenced = sparse.forward(input, training: false).values
        #expect(silenced != before)
        #expect(Self.relativeError(dense.forward(input, training: false).values, silenced) < 1e-5)
    }

    /// Split over threads (`--threads`), each product computes every output as on one thread, bit for bit.
    @Test func productsSplitOverThreadsMatchOneThreadBitForBit() {
        let (fanIn, fanOut, rows) = (300, 400, 100)
        var s = RandomStream(root: 9, seed: 3, purpose: "threads")
        func randomMatrix(_ rows: Int, _ cols: Int) -> Matrix {
            let m = Matrix(rows: rows, cols: cols)
            for k in 0..<m.count { m.pointer[k] = Float(s.nextNormal()) }
            return m
        }
        let mask = Matrix(rows: fanIn, cols: fanOut)
        for k in 0..<mask.count { mask.pointer[k] = s.nextInt(below: 10) < 3 ? 1 : 0 }
        let layout = SparseWeights.Layout(rows: rows)
        let (weights, bias) = (randomMatrix(fanIn, fanOut), randomMatrix(1, fanOut))
        let (inputT, gradOutputT) = (randomMatrix(fanIn, layout.stride), randomMatrix(fanOut, layout.stride))

        func products(threads: Int) -> [[UInt32]] {
            let sparse = SparseWeights(mask: mask, dense: weights.clone(), threads: threads)
            // Enough work that four threads each get a range.
            #expect(sparse.count * layout.width >= 4 * SparseWeights.multiplyAddsPerThread)
            let (outputT, gradInputT) = (
                Matrix(rows: fanOut, cols: layout.stride), Matrix(rows: fanIn, cols: layout.stride)
            )
            sparse.multiply(inputT: inputT.pointer, bias: bias.pointer, into: outputT.pointer, layout: layout)
            sparse.multiplyTransposed(gradOutputT: gradOutputT.pointer, into: gradInputT.pointer, layout: layout)
            sparse.weightGradient(
                inputT: inputT.pointer, gradOutputT: gradOutputT.pointer, layout: layout, descend: nil)
            let gradient = Array(UnsafeBufferPointer(start: sparse.gradient, count: sparse.count))
            sparse.weightGradient(
                inputT: inputT.pointer, gradOutputT: gradOutputT.pointer, layout: layout, descend: 0.1)
            let descended = sparse.denseForAccess().values
            return [outputT.values, gradInputT.values, gradient, descended].map { $0.map(\.bitPattern) }
        }
        let one = products(threads: 1)
        #expect(one[0].contains { $0 != 0 } && one[2].contains { $0 != 0 })
        for threads in [3, 4] {
            let identical = products(threads: threads) == one  // a Bool, so a failure does not print every float
            #expect(identical, "the products on \(threads) threads differ from those on one")
        }
    }

    /// A layer is sparse exactly when its surviving fraction is below the threshold, so a config fixes its path.
    @Test func thresholdChoosesThePathPerLayer() {
        var model = ModelSpec(widths: [30, 20, 10])
        model.sparseBelow = 0.2
        let network = Network(spec: model)
        network.initialize(stream: RandomStream(root: 1, seed: 0, purpose: "init"))
        var masks = MaskSet.random(model, density: 0.1, stream: RandomStream(root: 1, seed: 0, purpose: "a"))
        masks.layers[1] =
            MaskSet.random(model, density: 0.5, stream: RandomStream(root: 1, seed: 0, purpose: "b")).layers[1]
        network.apply(masks)
        #expect(network.layers[0].sparse != nil)
        #expect(network.layers[1].sparse == nil)
        network.apply(.dense(model))
        #expect(network.layers.allSatisfy { $0.sparse == nil })
    }
}
