import CSparseKernels

/// The surviving weights of one masked layer in compressed form, so that a training step
/// costs in proportion to the number of survivors rather than fanIn × fanOut.
///
/// Values are stored by output unit (CSC over W[fanIn, fanOut]); a second index by input
/// unit (CSR) points into the same values. Both are built once per level, when the mask is
/// applied. The products work on feature-major activations (one row per unit, the batch
/// along the row, padded as `SparseWeights.Layout` says), so every inner loop is a
/// contiguous run over the batch.
///
/// The dense matrix stays the layer's public face: the compressed values are gathered from
/// it before a step when it may have been written, and scattered back to it before anyone
/// reads it after a step (`valuesForStep`, `denseForAccess`).
final class SparseWeights {
    let fanIn: Int
    let fanOut: Int
    /// Surviving entries.
    let count: Int
    /// Entries of output unit j are columnStart[j]..<columnStart[j+1]; their values share that order.
    private let columnStart: UnsafeMutablePointer<Int32>
    private let inputOfEntry: UnsafeMutablePointer<Int32>
    /// Entries of input unit i are rowStart[i]..<rowStart[i+1], each naming its output unit and value.
    private let rowStart: UnsafeMutablePointer<Int32>
    private let outputOfRowEntry: UnsafeMutablePointer<Int32>
    private let valueOfRowEntry: UnsafeMutablePointer<Int32>
    /// The surviving weights and their gradient, in CSC order.
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
        var perColumn = [Int32](repeating: 0, count: fanOut + 1)
        var perRow = [Int32](repeating: 0, count: fanIn + 1)
        var total = 0
        for i in 0..<fanIn {
            for j in 0..<fanOut where m[i * fanOut + j] != 0 {
                perColumn[j + 1] += 1
                perRow[i + 1] += 1
                total += 1
            }
        }
        count = total
        columnStart = .allocate(capacity: fanOut + 1)
        rowStart = .allocate(capacity: fanIn + 1)
        columnStart[0] = 0
        for j in 0..<fanOut { columnStart[j + 1] = columnStart[j] + perColumn[j + 1] }
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
        // Walking rows in order fills each column's entries by ascending input, and each row's by ascending output.
        var nextInColumn = (0..<fanOut).map { Int(columnStart[$0]) }
        var nextInRow = 0
        for i in 0..<fanIn {
            for j in 0..<fanOut where m[i * fanOut + j] != 0 {
                let k = nextInColumn[j]
                nextInColumn[j] += 1
                inputOfEntry[k] = Int32(i)
                outputOfRowEntry[nextInRow] = Int32(j)
                valueOfRowEntry[nextInRow] = Int32(k)
                nextInRow += 1
            }
        }
    }

    deinit {
        for p in [columnStart, inputOfEntry, rowStart, outputOfRowEntry, valueOfRowEntry] { p.deallocate() }
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
        for j in 0..<fanOut {
            for k in Int(columnStart[j])..<Int(columnStart[j + 1]) { body(k, Int(inputOfEntry[k]) * fanOut + j) }
        }
    }

    // MARK: Products on feature-major activations laid out as `Layout`

    /// zᵀ[j, ·] = bias[j] + Σᵢ W[i, j] · xᵀ[i, ·]: the forward product.
    func multiply(inputT: UnsafePointer<Float>, bias: UnsafePointer<Float>, into outputT: UnsafeMutablePointer<Float>, layout: Layout) {
        sift_accumulate_rows(fanOut, columnStart, inputOfEntry, nil, valuesForStep(), bias, inputT, outputT,
                             layout.width, layout.stride)
    }

    /// dxᵀ[i, ·] = Σⱼ W[i, j] · dzᵀ[j, ·]: the input gradient.
    func multiplyTransposed(gradOutputT: UnsafePointer<Float>, into gradInputT: UnsafeMutablePointer<Float>, layout: Layout) {
        sift_accumulate_rows(fanIn, rowStart, outputOfRowEntry, valueOfRowEntry, valuesForStep(), nil, gradOutputT, gradInputT,
                             layout.width, layout.stride)
    }

    /// g[i, j] = xᵀ[i, ·] · dzᵀ[j, ·] at the surviving entries only (a sampled dense–dense product).
    /// With a learning rate, the weights descend along it at once instead of storing it.
    func weightGradient(inputT: UnsafePointer<Float>, gradOutputT: UnsafePointer<Float>, layout: Layout, descend learningRate: Float?) {
        sift_sampled_gradient(fanOut, columnStart, inputOfEntry, inputT, gradOutputT, layout.width, layout.stride,
                              valuesForStep(), gradient, learningRate ?? 0, learningRate == nil ? 0 : 1)
        if learningRate != nil { valuesChanged() }
    }

    /// Batch columns one kernel pass holds in registers; feature-major rows are padded to a multiple of it.
    static let panelWidth = Int(SIFT_PANEL_WIDTH)
}
