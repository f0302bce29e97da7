import CEngineKernels
import Dispatch
import SiftMetrics

/// The surviving weights of one masked layer in compressed form, so that a training step
/// costs in proportion to the number of survivors rather than fanIn × fanOut.
///
/// Values are stored in the order of `byOutput`, which lists each output unit's inputs (CSC over
/// W[fanIn, fanOut], in blocks of inputs); `byInput` lists each input unit's outputs (CSR, in
/// blocks of outputs) and points into the same values. Both are built once per level, when the
/// mask is applied. The products work on feature-major activations (one row per unit, the batch
/// along the row, padded as `SparseWeights.Layout` says), so every inner loop is a contiguous run
/// over the batch.
///
/// The dense matrix stays the layer's public face: the compressed values are gathered from
/// it before a step when it may have been written, and scattered back to it before anyone
/// reads it after a step (`valuesForStep`, `denseForAccess`).
final class SparseWeights {
    let fanIn: Int
    let fanOut: Int
    /// Surviving entries.
    let count: Int
    /// For the forward product and the weight gradient: output units' inputs; its entries order `values`.
    let byOutput: BlockedIndex
    /// For the input gradient: input units' outputs, with the value of each entry.
    let byInput: BlockedIndex
    private let valueOfInputEntry: UnsafeMutablePointer<Int32>
    /// The surviving weights and their gradient, in `byOutput` order.
    let values: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    private let dense: Matrix
    /// Threads a product may split its targets over when fixed (a test's); otherwise `BLAS.threads` at each
    /// product, which `--threads auto` changes as other workers on the node start and finish levels.
    private let fixedThreads: Int?
    private var valuesStale = true
    private var denseStale = false

    /// Indexes the nonzero entries of `mask` (fanIn × fanOut, 0 or 1) and mirrors `dense`, the layer's weights.
    init(mask: Matrix, dense: Matrix, threads: Int? = nil) {
        precondition(mask.rows == dense.rows && mask.cols == dense.cols, "mask and weights differ in shape")
        let (fanIn, fanOut) = (mask.rows, mask.cols)
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.dense = dense
        fixedThreads = threads.map { max(1, $0) }
        let m = mask.pointer
        let total = (0..<mask.count).reduce(0) { $0 + (m[$1] != 0 ? 1 : 0) }
        count = total
        // Walks the survivors row by row, handing (i, j) to `body`.
        func survivors(_ body: (Int, Int) -> Void) {
            for i in 0..<fanIn {
                for j in 0..<fanOut where m[i * fanOut + j] != 0 { body(i, j) }
            }
        }
        byOutput = BlockedIndex(targets: fanOut, sources: fanIn, entries: total) { place in
            survivors { i, j in place(j, i) }
        }
        byInput = BlockedIndex(targets: fanIn, sources: fanOut, entries: total) { place in
            survivors { i, j in place(i, j) }
        }
        let n = max(total, 1)
        var valueOfPosition = [Int32](repeating: -1, count: mask.count)
        byOutput.forEachEntry { k, j, i in valueOfPosition[i * fanOut + j] = Int32(k) }
        valueOfInputEntry = .allocate(capacity: n)
        byInput.forEachEntry { [valueOfInputEntry] e, i, j in valueOfInputEntry[e] = valueOfPosition[i * fanOut + j] }
        values = .allocate(capacity: n)
        values.initialize(repeating: 0, count: n)
        gradient = .allocate(capacity: n)
        gradient.initialize(repeating: 0, count: n)
    }

    deinit {
        valueOfInputEntry.deallocate()
        values.deallocate()
        gradient.deallocate()
    }

    /// Where a batch sits in feature-major rows.
    struct Layout {
        /// The batch padded to a whole number of kernel panels, zeros in the padding.
        let width: Int
        /// Floats from one row to the next: one cache line more than `width`, so that rows
        /// 2ᵏ apart do not all fall into the same cache sets.
        let stride: Int

        init(rows: Int) {
            width = (rows + panelWidth - 1) / panelWidth * panelWidth
            stride = width + 16
        }
    }

    // MARK: Keeping the dense weights and the compressed values in step

    /// The compressed values, gathered from the dense weights first if those may have changed.
    func valuesForStep() -> UnsafeMutablePointer<Float> {
        if valuesStale {
            forEachEntry { k, position in values[k] = dense.pointer[position] }
            valuesStale = false
        }
        return values
    }

    /// Records that a step changed the compressed values.
    func valuesChanged() { denseStale = true }

    /// The dense weights, brought up to date; whoever receives them may write them.
    func denseForAccess() -> Matrix {
        if denseStale {
            forEachEntry { k, position in dense.pointer[position] = values[k] }
            denseStale = false
        }
        valuesStale = true
        return dense
    }

    /// The gradient of the last step at every position of the dense matrix (0 where pruned).
    func denseGradient(into matrix: Matrix) {
        matrix.fill(0)
        forEachEntry { k, position in matrix.pointer[position] = gradient[k] }
    }

    /// Calls `body(valueIndex, i·fanOut + j)` for every entry.
    private func forEachEntry(_ body: (Int, Int) -> Void) {
        byOutput.forEachEntry { k, j, i in body(k, i * fanOut + j) }
    }

    // MARK: Products on feature-major activations laid out as `Layout`

    /// zᵀ[j, ·] = bias[j] + Σᵢ W[i, j] · xᵀ[i, ·]: the forward product.
    func multiply(
        inputT: UnsafePointer<Float>, bias: UnsafePointer<Float>, into outputT: UnsafeMutablePointer<Float>,
        layout: Layout
    ) {
        let values = valuesForStep()
        inRanges(of: fanOut, layout: layout) { first, end in
            sift_accumulate_rows(
                byOutput.blocks, fanOut, first, end, byOutput.segmentStart, byOutput.sourceOfEntry, nil,
                values, bias, inputT, outputT, layout.width, layout.stride)
        }
    }

    /// dxᵀ[i, ·] = Σⱼ W[i, j] · dzᵀ[j, ·]: the input gradient.
    func multiplyTransposed(
        gradOutputT: UnsafePointer<Float>, into gradInputT: UnsafeMutablePointer<Float>, layout: Layout
    ) {
        let values = valuesForStep()
        inRanges(of: fanIn, layout: layout) { first, end in
            sift_accumulate_rows(
                byInput.blocks, fanIn, first, end, byInput.segmentStart, byInput.sourceOfEntry, valueOfInputEntry,
                values, nil, gradOutputT, gradInputT, layout.width, layout.stride)
        }
    }

    /// g[i, j] = xᵀ[i, ·] · dzᵀ[j, ·] at the surviving entries only (a sampled dense–dense product).
    /// With a learning rate, the weights descend along it at once instead of storing it.
    func weightGradient(
        inputT: UnsafePointer<Float>, gradOutputT: UnsafePointer<Float>, layout: Layout, descend learningRate: Float?
    ) {
        let values = valuesForStep()
        inRanges(of: fanOut, layout: layout) { first, end in
            sift_sampled_gradient(
                byOutput.blocks, fanOut, first, end, byOutput.segmentStart, byOutput.sourceOfEntry, inputT,
                gradOutputT, layout.width, layout.stride, values, gradient, learningRate ?? 0,
                learningRate == nil ? 0 : 1)
        }
        if learningRate != nil { valuesChanged() }
    }

    /// Runs `product(first, end)` over the targets `0..<targets` cut into contiguous ranges, one per
    /// thread, when each range gets at least `multiplyAddsPerThread` to repay the hand-off. A target's
    /// arithmetic is the same whichever range holds it, so results do not depend on the thread count.
    private func inRanges(of targets: Int, layout: Layout, _ product: (Int, Int) -> Void) {
        ThreadRanges.run(
            items: targets, work: count * layout.width, threads: fixedThreads ?? BLAS.threads, alignment: 1,
            minimumWork: Self.multiplyAddsPerThread
        ) { product($0.lowerBound, $0.upperBound) }
    }

    /// About 50 µs of one product's work on one core: below it, waking a second thread costs more than it saves.
    static let multiplyAddsPerThread = 1 << 20

    /// Batch columns one kernel pass holds in registers; feature-major rows are padded to a multiple of it.
    static let panelWidth = Int(SIFT_PANEL_WIDTH)
}
