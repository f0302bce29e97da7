import Foundation
import SiftRandom
import SiftSpec

/// Times training steps on random data, and, for an unmasked network, cblas_sgemm alone on the
/// same shapes, so the engine's efficiency is a ratio measured in one run.
public struct TrainBenchmark {
    public struct Result: Codable, Sendable {
        public var architecture: String
        public var batch: Int
        /// Fraction of each layer's weights kept by a random mask, or of all weights by a written level's masks;
        /// 1 when unmasked.
        public var density: Double
        /// Layers that took the sparse path (`model.sparseBelow`).
        public var sparseLayers: Int
        public var threads: Int
        public var steps: Int
        /// The fastest stretch of consecutive steps that lasts at least `stretchSeconds`: on a shared machine,
        /// the step's own speed, taken the way the 2048³ limit is (its best single product).
        public var msPerStep: Double
        /// Every timed step's mean, noise included.
        public var msPerStepMean: Double
        /// How long a stretch lasts: one 2048³ product, or a tenth of a second when the limit is not measured.
        public var stretchSeconds: Double
        /// The dense products' rate against cblas_sgemm's own at the same shapes; left out under a
        /// mask, where the step does less than those products.
        public var gflops: Double?
        public var sgemmPeakGflops: Double?
        public var fractionOfPeak: Double?
        /// cblas_sgemm on 2048×2048×2048, the machine's limit for one product; and the step's matrix-product
        /// rate against it.
        public var sgemmLimitGflops: Double?
        public var fractionOfSgemmLimit: Double?
        public var batchNorm: Bool
        public var blasCore: String

        enum CodingKeys: String, CodingKey {
            case architecture = "arch", batch, density, threads, steps
            case sparseLayers = "sparse_layers"
            case msPerStep = "ms_per_step", gflops
            case msPerStepMean = "ms_per_step_mean"
            case stretchSeconds = "stretch_seconds"
            case sgemmPeakGflops = "sgemm_peak_gflops"
            case fractionOfPeak = "fraction_of_peak"
            case sgemmLimitGflops = "sgemm_limit_gflops"
            case fractionOfSgemmLimit = "fraction_of_sgemm_limit"
            case batchNorm = "batch_norm"
            case blasCore = "blas_core"
        }
    }

    public var model: ModelSpec
    public var train: TrainSpec
    public var steps: Int
    public var warmup: Int
    public var density: Double
    /// A written level's masks, used instead of a random mask: IMP's masks come from trained weights, so the
    /// sparse path's speed on them is what a chain sees, whatever structure they have.
    public var masks: MaskSet?

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(model: ModelSpec, train: TrainSpec, steps: Int, warmup: Int, density: Double = 1, masks: MaskSet? = nil)
    {
        self.model = model
        self.train = train
        self.steps = steps
        self.warmup = warmup
        self.density = density
        self.masks = masks
    }

    /// Floating-point operations of one step's matrix products: forward, weight gradient, and input
    /// gradient for every layer that needs one: all but the first, and the first too under batch norm,
    /// whose γ and β on the data need the gradient of their output.
    public var flopsPerStep: Double {
        let b = Double(train.batchSize)
        return (0..<model.layerCount).reduce(0.0) { total, l in
            let product = 2 * b * Double(model.widths[l]) * Double(model.widths[l + 1])
            return total + product * (needsInputGradient(l) ? 3 : 2)
        }
    }

    private func needsInputGradient(_ layer: Int) -> Bool { layer > 0 || model.batchNorm }

    public func run() -> Result {
        let stream = RandomStream(root: 0x5EED, seed: 0, purpose: "benchmark")
        let network = Network(spec: model)
        network.initialize(stream: stream.derived("init"))
        if let masks {
            network.apply(masks)
        } else if density < 1 {
            network.apply(.random(model, density: density, stream: stream.derived("mask")))
        }
        let density = masks.map { $0.totalWeightDensity } ?? density
        var s = stream.derived("data")
        let input = Matrix(rows: train.batchSize, cols: model.widths[0])
        for i in 0..<input.count { input.pointer[i] = Float(s.nextNormal()) }
        let classes = model.widths[model.widths.count - 1]
        let labels = (0..<train.batchSize).map { _ in Int32(s.nextInt(below: classes)) }
        let optimizer = Optimizer(spec: train, network: network)
        // A sparse first layer gets the batch feature-major too, as the trainer's batch prefetcher hands it over
        // from its own thread: that transpose is not part of a step.
        let inputT = network.inputLayoutWanted(rows: input.rows).map { layout -> Matrix in
            let transposed = Matrix(rows: input.cols, cols: layout.stride)
            BLAS.transpose(input, into: transposed)
            return transposed
        }
        // Measured first, so that its product's length sets the stretch that every figure is the best of.
        let limit = density == 1 && masks == nil ? Self.sgemmLimit() : nil
        let stretch = limit?.seconds ?? 0.1
        let stepTimings = Timings(warmup: warmup, repeats: steps) {
            labels.withUnsafeBufferPointer {
                _ = network.trainStep(input, inputT: inputT, labels: $0.baseAddress!, optimizer: optimizer)
            }
        }
        let stepSeconds = stepTimings.fastestStretch(lasting: stretch)
        var result = Result(
            architecture: model.architecture, batch: train.batchSize, density: density,
            sparseLayers: network.sparseLayerIndices.count, threads: BLAS.threads,
            steps: steps, msPerStep: stepSeconds * 1000, msPerStepMean: stepTimings.mean * 1000,
            stretchSeconds: stretch, batchNorm: model.batchNorm, blasCore: BLAS.coreName)
        if let limit {
            let gemmSeconds = sgemmOnlySeconds(stretch: stretch), flops = flopsPerStep
            let gflops = flops / stepSeconds / 1e9
            result.gflops = gflops
            result.sgemmPeakGflops = flops / gemmSeconds / 1e9
            result.fractionOfPeak = gemmSeconds / stepSeconds
            result.sgemmLimitGflops = limit.gflops
            result.fractionOfSgemmLimit = gflops / limit.gflops
        }
        return result
    }

    /// cblas_sgemm's rate on one 2048³ product (the best of 3 after a warm-up) on OpenBLAS's own threads,
    /// as many as the engine's: the machine's own limit, and how long that best product took.
    public static func sgemmLimit() -> (gflops: Double, seconds: Double) {
        let n = 2048
        let a = Matrix(rows: n, cols: n), b = Matrix(rows: n, cols: n), c = Matrix(rows: n, cols: n)
        a.fill(0.5); b.fill(0.01)
        let threads = BLAS.threads
        let best = Timings(warmup: 1, repeats: 3) { BLAS.openBLASGemm(a, b, into: c, threads: threads) }.fastest
        return (2 * Double(n * n * n) / best / 1e9, best)
    }

    /// Seconds per step spent in cblas_sgemm alone, on preallocated matrices of the step's shapes.
    private func sgemmOnlySeconds(stretch: Double) -> Double {
        let b = train.batchSize
        let products: [() -> Void] = (0..<model.layerCount).flatMap { l -> [() -> Void] in
            let fanIn = model.widths[l], fanOut = model.widths[l + 1]
            let x = Matrix(rows: b, cols: fanIn), w = Matrix(rows: fanIn, cols: fanOut)
            let z = Matrix(rows: b, cols: fanOut), dw = Matrix(rows: fanIn, cols: fanOut),
                dx = Matrix(rows: b, cols: fanIn)
            x.fill(0.5); w.fill(0.01); z.fill(0.1)
            var list: [() -> Void] = [
                { BLAS.gemm(x, w, into: z, beta: 1) },
                { BLAS.gemm(x, transposeA: true, z, into: dw) },
            ]
            if needsInputGradient(l) { list.append { BLAS.gemm(z, w, transposeB: true, into: dx) } }
            return list
        }
        return Timings(warmup: warmup, repeats: steps) { for product in products { product() } }.fastestStretch(
            lasting: stretch)
    }
}
