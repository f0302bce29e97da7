/// The surviving weights of one masked layer in compressed form, so that a training step
/// costs in proportion to the number of survivors rather than fanIn × fanOut.
///
/// Values are stored by output unit (CSC over W[fanIn, fanOut]); a second index by input
/// unit (CSR) points into the same values. Both are built once per level, when the mask is
/// applied. The products work on feature-major activations (one row per unit, the batch
/// along the row, padded to `SparseWeights.batchStride`), so every inner loop is a
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
        let n = max(total, 1)
        inputOfEntry = .allocate(capacity: n)
        outputOfRowEntry = .allocate(capacity: n)
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

    /// Surviving fraction of the layer.
    var density: Double { Double(count) / Double(max(fanIn * fanOut, 1)) }

    /// Feature-major rows hold the batch padded to a whole number of panels, zeros in the padding,
    /// so every kernel runs on whole panels.
    static func batchStride(_ rows: Int) -> Int { (rows + panelWidth - 1) / panelWidth * panelWidth }

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

    // MARK: Products on feature-major activations (row stride `stride`, a multiple of `panelWidth`)

    /// zᵀ[j, ·] = bias[j] + Σᵢ W[i, j] · xᵀ[i, ·]: the forward product.
    func multiply(inputT: UnsafePointer<Float>, bias: UnsafePointer<Float>, into outputT: UnsafeMutablePointer<Float>, stride: Int) {
        Self.accumulateRows(count: fanOut, starts: columnStart, sources: inputOfEntry, valueIndex: nil,
                            values: valuesForStep(), initial: bias, source: inputT, into: outputT, stride: stride)
    }

    /// dxᵀ[i, ·] = Σⱼ W[i, j] · dzᵀ[j, ·]: the input gradient.
    func multiplyTransposed(gradOutputT: UnsafePointer<Float>, into gradInputT: UnsafeMutablePointer<Float>, stride: Int) {
        Self.accumulateRows(count: fanIn, starts: rowStart, sources: outputOfRowEntry, valueIndex: valueOfRowEntry,
                            values: valuesForStep(), initial: nil, source: gradOutputT, into: gradInputT, stride: stride)
    }

    /// g[i, j] = xᵀ[i, ·] · dzᵀ[j, ·] at the surviving entries only (a sampled dense–dense product).
    /// With a learning rate, the weights descend along it at once instead of storing it.
    func weightGradient(inputT: UnsafePointer<Float>, gradOutputT: UnsafePointer<Float>, stride: Int, descend learningRate: Float?) {
        let w = valuesForStep()
        for j in 0..<fanOut {
            let g = gradOutputT + j * stride
            for k in Int(columnStart[j])..<Int(columnStart[j + 1]) {
                let dot = Self.dot(inputT + Int(inputOfEntry[k]) * stride, g, count: stride)
                if let learningRate { w[k] -= learningRate * dot } else { gradient[k] = dot }
            }
        }
        if learningRate != nil { valuesChanged() }
    }

    /// out[r, ·] = initial[r] + Σ over entries e of row r: value(e) · source[sources[e], ·],
    /// where value(e) is values[e], or values[valueIndex[e]] when the entries are indexed the other way.
    /// The batch is walked in panels of 32 columns held in eight 4-wide registers across a row's entries.
    @inline(__always)
    private static func accumulateRows(count: Int, starts: UnsafePointer<Int32>, sources: UnsafePointer<Int32>,
                                       valueIndex: UnsafePointer<Int32>?, values: UnsafePointer<Float>,
                                       initial: UnsafePointer<Float>?, source: UnsafePointer<Float>,
                                       into out: UnsafeMutablePointer<Float>, stride: Int) {
        let rowBytes = stride * MemoryLayout<Float>.stride
        for column in Swift.stride(from: 0, to: stride, by: panelWidth) {
            let base = UnsafeRawPointer(source + column)
            for r in 0..<count {
                var s0 = Vector(repeating: initial?[r] ?? 0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0
                for e in Int(starts[r])..<Int(starts[r + 1]) {
                    let w = Vector(repeating: values[valueIndex.map { Int($0[e]) } ?? e])
                    let x = base + Int(sources[e]) * rowBytes
                    s0 += w * x.loadUnaligned(fromByteOffset: 0, as: Vector.self)
                    s1 += w * x.loadUnaligned(fromByteOffset: 16, as: Vector.self)
                    s2 += w * x.loadUnaligned(fromByteOffset: 32, as: Vector.self)
                    s3 += w * x.loadUnaligned(fromByteOffset: 48, as: Vector.self)
                    s4 += w * x.loadUnaligned(fromByteOffset: 64, as: Vector.self)
                    s5 += w * x.loadUnaligned(fromByteOffset: 80, as: Vector.self)
                    s6 += w * x.loadUnaligned(fromByteOffset: 96, as: Vector.self)
                    s7 += w * x.loadUnaligned(fromByteOffset: 112, as: Vector.self)
                }
                let o = UnsafeMutableRawPointer(out + r * stride + column)
                for (i, v) in [s0, s1, s2, s3, s4, s5, s6, s7].enumerated() {
                    o.storeBytes(of: v, toByteOffset: 16 * i, as: Vector.self)
                }
            }
        }
    }

    /// Σ a[b]·b[b] over `count` floats, a multiple of the panel width, in eight independent 4-wide sums.
    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var s0 = Vector(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0
        for offset in Swift.stride(from: 0, to: count * 4, by: panelWidth * 4) {
            s0 += ra.loadUnaligned(fromByteOffset: offset, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            s1 += ra.loadUnaligned(fromByteOffset: offset + 16, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 16, as: Vector.self)
            s2 += ra.loadUnaligned(fromByteOffset: offset + 32, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 32, as: Vector.self)
            s3 += ra.loadUnaligned(fromByteOffset: offset + 48, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 48, as: Vector.self)
            s4 += ra.loadUnaligned(fromByteOffset: offset + 64, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 64, as: Vector.self)
            s5 += ra.loadUnaligned(fromByteOffset: offset + 80, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 80, as: Vector.self)
            s6 += ra.loadUnaligned(fromByteOffset: offset + 96, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 96, as: Vector.self)
            s7 += ra.loadUnaligned(fromByteOffset: offset + 112, as: Vector.self) * rb.loadUnaligned(fromByteOffset: offset + 112, as: Vector.self)
        }
        return (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))).sum()
    }

    /// The kernels' register width: 4 floats, what every x86-64 and arm64 target has.
    private typealias Vector = SIMD4<Float>
    /// Batch columns one kernel pass holds in registers; feature-major rows are padded to a multiple of it.
    static let panelWidth = 32
}
