import CSparseKernels

/// The surviving weights of one masked layer in compressed form, so that a training step
/// costs in proportion to the number of survivors rather than fanIn × fanOut.
///
/// Values are stored by output unit (CSC over W[fanIn, fanOut]), in segments: block b of
/// `inputsPerBlock` input units, then output unit j, then ascending input. A pass over one
/// block reads only that block's activation rows, which then stay in the L1 cache while every
/// output unit visits them. A second index by input unit (CSR) points into the same values.
/// Both are built once per level, when the mask is applied. The products work on feature-major
/// activations (one row per unit, the batch along the row, padded as `SparseWeights.Layout`
/// says), so every inner loop is a contiguous run over the batch.
///
/// The dense matrix stays the layer's public face: the compressed values are gathered from
/// it before a step when it may have been written, and scattered back to it before anyone
/// reads it after a step (`valuesForStep`, `denseForAccess`).
final class SparseWeights {
    let fanIn: Int
    let fanOut: Int
    /// Surviving entries.
    let count: Int
    /// Input units per block of the CSC segments.
    let inputsPerBlock: Int
    let blocks: Int
    /// Entries of block b and output unit j are segmentStart[b·fanOut + j]..<segmentStart[b·fanOut + j + 1];
    /// their values share that order.
    private let segmentStart: UnsafeMutablePointer<Int32>
    private let inputOfEntry: UnsafeMutablePointer<Int32>
    /// Entries of input unit i are rowStart[i]..<rowStart[i+1], each naming its output unit and value.
    private let rowStart: UnsafeMutablePointer<Int32>
    private let outputOfRowEntry: UnsafeMutablePointer<Int32>
    private let valueOfRowEntry: UnsafeMutablePointer<Int32>
    /// The surviving weights and their gradient, in CSC segment order.
    let values: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    private let dense: Matrix
    private var valuesStale = true
    private var denseStale = false

    /// Indexes the nonzero entries of `mask` (fanIn × fanOut, 0 or 1) and mirrors `dense`, the layer's weights.
    init(mask: Matrix, dense: Matrix) {
        precondition(mask.rows == dense.rows && mask.cols == dense.cols, "mask and weights differ in shape")
        precondition(mask.count < Int(Int32.max), "layer too large for 32-bit sparse indices")
        fanIn = mask.rows
        fanOut = mask.cols
        self.dense = dense
        let m = mask.pointer
        var perRow = [Int32](repeating: 0, count: fanIn + 1)
        var total = 0
        for i in 0..<fanIn {
            for j in 0..<fanOut where m[i * fanOut + j] != 0 {
                perRow[i + 1] += 1
                total += 1
            }
        }
        count = total
        inputsPerBlock = Self.inputsPerBlock(fanIn: fanIn, density: Double(total) / Double(max(mask.count, 1)))
        blocks = (fanIn + inputsPerBlock - 1) / inputsPerBlock
        var perSegment = [Int32](repeating: 0, count: blocks * fanOut + 1)
        for i in 0..<fanIn {
            let segmentBase = i / inputsPerBlock * fanOut
            for j in 0..<fanOut where m[i * fanOut + j] != 0 { perSegment[segmentBase + j + 1] += 1 }
        }
        segmentStart = .allocate(capacity: blocks * fanOut + 1)
        rowStart = .allocate(capacity: fanIn + 1)
        segmentStart[0] = 0
        for s in 0..<(blocks * fanOut) { segmentStart[s + 1] = segmentStart[s] + perSegment[s + 1] }
        rowStart[0] = 0
        for i in 0..<fanIn { rowStart[i + 1] = rowStart[i] + perRow[i + 1] }
        let n = max(total, 1), padded = total + Int(SIFT_INDEX_PADDING)
        inputOfEntry = .allocate(capacity: padded)
        inputOfEntry.initialize(repeating: 0, count: padded)
        outputOfRowEntry = .allocate(capacity: padded)
        outputOfRowEntry.initialize(repeating: 0, count: padded)
        valueOfRowEntry = .allocate(capacity: n)
        values = .allocate(capacity: n)
        values.initialize(repeating: 0, count: n)
        gradient = .allocate(capacity: n)
        gradient.initialize(repeating: 0, count: n)
        // Walking rows in order fills each segment's entries by ascending input, and each row's by ascending output.
        var nextInSegment = (0..<(blocks * fanOut)).map { Int(segmentStart[$0]) }
        var nextInRow = 0
        for i in 0..<fanIn {
            let segmentBase = i / inputsPerBlock * fanOut
            for j in 0..<fanOut where m[i * fanOut + j] != 0 {
                let k = nextInSegment[segmentBase + j]
                nextInSegment[segmentBase + j] += 1
                inputOfEntry[k] = Int32(i)
                outputOfRowEntry[nextInRow] = Int32(j)
                valueOfRowEntry[nextInRow] = Int32(k)
                nextInRow += 1
            }
        }
    }

    /// Input units per block: enough that an output unit finds about `entriesPerSegment` survivors in
    /// each block, so loading and storing its running sums stays cheap next to the products; at
    /// mid densities that is a few dozen activation rows, which fit the L1 cache. Sparser layers get
    /// fewer, larger blocks, down to one.
    static func inputsPerBlock(fanIn: Int, density: Double) -> Int {
        let entriesPerSegment = 24.0
        guard density > 0 else { return max(fanIn, 1) }
        let wanted = Int((entriesPerSegment / density / Double(blockGranularity)).rounded(.up)) * blockGranularity
        return max(1, min(fanIn, max(blockGranularity, wanted)))
    }

    /// Blocks hold a multiple of this many input units.
    private static let blockGranularity = 32

    deinit {
        for p in [segmentStart, inputOfEntry, rowStart, outputOfRowEntry, valueOfRowEntry] { p.deallocate() }
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
        for segment in 0..<(blocks * fanOut) {
            let j = segment % fanOut
            for k in Int(segmentStart[segment])..<Int(segmentStart[segment + 1]) { body(k, Int(inputOfEntry[k]) * fanOut + j) }
        }
    }

    // MARK: Products on feature-major activations laid out as `Layout`

    /// zᵀ[j, ·] = bias[j] + Σᵢ W[i, j] · xᵀ[i, ·]: the forward product.
    func multiply(inputT: UnsafePointer<Float>, bias: UnsafePointer<Float>, into outputT: UnsafeMutablePointer<Float>, layout: Layout) {
        sift_accumulate_rows(blocks, fanOut, segmentStart, inputOfEntry, nil, valuesForStep(), bias, inputT, outputT,
                             layout.width, layout.stride)
    }

    /// dxᵀ[i, ·] = Σⱼ W[i, j] · dzᵀ[j, ·]: the input gradient.
    func multiplyTransposed(gradOutputT: UnsafePointer<Float>, into gradInputT: UnsafeMutablePointer<Float>, layout: Layout) {
        sift_accumulate_rows(1, fanIn, rowStart, outputOfRowEntry, valueOfRowEntry, valuesForStep(), nil, gradOutputT, gradInputT,
                             layout.width, layout.stride)
    }

    /// g[i, j] = xᵀ[i, ·] · dzᵀ[j, ·] at the surviving entries only (a sampled dense–dense product).
    /// With a learning rate, the weights descend along it at once instead of storing it.
    func weightGradient(inputT: UnsafePointer<Float>, gradOutputT: UnsafePointer<Float>, layout: Layout, descend learningRate: Float?) {
        sift_sampled_gradient(blocks, fanOut, segmentStart, inputOfEntry, inputT, gradOutputT, layout.width, layout.stride,
                              valuesForStep(), gradient, learningRate ?? 0, learningRate == nil ? 0 : 1)
        if learningRate != nil { valuesChanged() }
    }

    /// Batch columns one kernel pass holds in registers; feature-major rows are padded to a multiple of it.
    static let panelWidth = Int(SIFT_PANEL_WIDTH)
}
