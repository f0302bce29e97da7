import CBLAS
import SiftMetrics
import Dispatch
import Synchronization

/// A row-major Float32 matrix that owns its memory.
///
/// A class, not a copy-on-write value: the training loop hands the same
/// buffers to BLAS every step and must never trigger a hidden copy.
public final class Matrix {
    public let rows: Int
    public let cols: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Storage starts on a cache line, and so does every padded feature-major row (`SparseWeights.Layout`).
    /// The allocator guarantees only 16 bytes, and where a buffer landed varied from run to run: at an
    /// offset of 16 bytes every other 32-byte load of the sparse kernels straddles two lines, and they ran
    /// 30 % slower (784×512 at 34 % density, batch 128).
    static let alignment = 64

    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "negative matrix dimension")
        self.rows = rows
        self.cols = cols
        let count = max(rows * cols, 1)
        pointer = UnsafeMutableRawPointer.allocate(
            byteCount: count * MemoryLayout<Float>.stride, alignment: Self.alignment
        )
        .bindMemory(to: Float.self, capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    public convenience init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "\(values.count) values for a \(rows)x\(cols) matrix")
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }  // allocated raw, with its alignment

    public var count: Int { rows * cols }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var values: [Float] { Array(buffer) }

    public subscript(row: Int, col: Int) -> Float {
        get { pointer[row * cols + col] }
        set { pointer[row * cols + col] = newValue }
    }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    public func copy(from other: Matrix) {
        precondition(other.count == count, "copy between matrices of different sizes")
        pointer.update(from: other.pointer, count: count)
    }

    public func copy(from values: [Float]) {
        precondition(values.count == count, "copy of \(values.count) values into \(rows)x\(cols)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    public func clone() -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        m.copy(from: self)
        return m
    }
}

/// Thin wrappers over the CBLAS calls the engine uses.
public enum BLAS {
    /// c = alpha · op(a) · op(b) + beta · c, on the first `rows` rows of a and c when given.
    @inline(__always)
    public static func gemm(
        _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
        into c: Matrix, alpha: Float = 1, beta: Float = 0
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let n = transposeB ? b.rows : b.cols
        precondition(
            k == (transposeB ? b.cols : b.rows) && c.rows == m && c.cols == n,
            "gemm shapes: \(a.rows)x\(a.cols)\(transposeA ? "ᵀ" : "") · \(b.rows)x\(b.cols)\(transposeB ? "ᵀ" : "") → \(c.rows)x\(c.cols)"
        )
        gemm(
            m: m, n: n, k: k, a.pointer, lda: a.cols, transposeA: transposeA, b.pointer, ldb: b.cols,
            transposeB: transposeB,
            into: c.pointer, ldc: c.cols, alpha: alpha, beta: beta)
    }

    /// c = alpha · op(a) · op(b) + beta · c for an m × n result over k, on row-major storage whose rows are
    /// `lda`, `ldb` and `ldc` floats apart: for feature-major activations, whose rows are padded. With `threads`
    /// above 1, cut by rows between threads where that keeps one call's bits (`RowCutProducts`).
    public static func gemm(
        m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        into c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0
    ) {
        _ = singleThreadedOpenBLAS
        let shape = RowCutProducts.Shape(
            m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, transposeA: transposeA,
            transposeB: transposeB, alpha: alpha.bitPattern, beta: beta.bitPattern, parts: 1)
        let threads = self.threads
        let parts = threads > 1 ? RowCutProducts.parts(shape, threads: threads) : 1
        guard parts > 1 else { return RowCutProducts.call(shape, rows: 0..<m, a, b, c) }
        // The ranges write disjoint rows of c.
        let pointers = UncheckedSendable((a, b, c))
        let ranges = RowCutProducts.ranges(rows: m, parts: parts)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let (a, b, c) = pointers.value
            RowCutProducts.call(shape, rows: ranges[part], a, b, c)
        }
    }

    /// OpenBLAS runs one thread, always: the engine's own threads cut the products (see `gemm`).
    private static let singleThreadedOpenBLAS: Void = openblas_set_num_threads(1)

    /// b[c, r] = a[r, c] over the leading `rows` × `cols` block of a (all of it by default);
    /// b may be wider than the block, and its other columns are left as they are.
    public static func transpose(_ a: Matrix, rows: Int? = nil, cols: Int? = nil, into b: Matrix) {
        let m = rows ?? a.rows, n = cols ?? a.cols
        precondition(
            m <= a.rows && n <= a.cols && n <= b.rows && m <= b.cols,
            "transpose of \(m)x\(n) from \(a.rows)x\(a.cols) into \(b.rows)x\(b.cols)")
        cblas_somatcopy(
            CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1, a.pointer, Int32(a.cols), b.pointer, Int32(b.cols))
    }

    /// y += alpha · x
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The threads a worker's products, sparse kernels, null draws and analyses use (`--threads`); the bytes
    /// of a level are the same at any count.
    public static var threads: Int {
        get { threadCount.load(ordering: .relaxed) }
        set {
            _ = singleThreadedOpenBLAS
            threadCount.store(max(1, newValue), ordering: .relaxed)
        }
    }
    private static let threadCount = Atomic(1)

    /// cblas_sgemm on `threads` threads of OpenBLAS's own: the machine's reference rate for benchmarks, not
    /// used by the engine (its rounding depends on the thread count).
    public static func openBLASGemm(_ a: Matrix, _ b: Matrix, into c: Matrix, threads: Int) {
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(c.rows), Int32(c.cols), Int32(a.cols), 1, a.pointer,
            Int32(a.cols), b.pointer, Int32(b.cols), 0, c.pointer, Int32(c.cols))
    }

    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The BLAS library and its version ("OpenBLAS 0.3.21"): another version may round differently.
    /// The kernel it picks for this CPU (`coreName`) is left out, so one build spans a mixed cluster.
    public static var libraryVersion: String {
        String(cString: openblas_get_config()).split(separator: " ").prefix(2).joined(separator: " ")
    }
}
