import CBLAS
import Dispatch
import SiftMetrics
import Synchronization

/// Products cut between threads by rows, only where that keeps one call's bits.
///
/// OpenBLAS's own threaded sgemm rounds differently from its single-threaded one for most of the engine's
/// shapes, so OpenBLAS always runs one thread here, and a product of enough rows is cut into ranges of whole
/// 64-row blocks, each a single-threaded call on a thread of its own. Whether such a cut computes every element
/// in the order of one call depends on the kernel OpenBLAS picks for the CPU and on the shape: on its Prescott
/// and SkylakeX kernels it did for most shapes, on its Haswell kernels (AVX2 machines) for far fewer. So each
/// shape's cut is tried once per process on random numbers, against one call, and used only if every bit
/// agrees: the sums' order is a function of the shape, so a cut that agrees there agrees on any data.
enum RowCutProducts {
    /// What fixes the kernel's arithmetic: the shape, the strides, the transpositions and the scalars.
    struct Shape: Hashable {
        var m, n, k, lda, ldb, ldc: Int
        var transposeA, transposeB: Bool
        var alpha, beta: UInt32
        var parts: Int
    }

    /// Rows of c per block.
    static let rowBlock = 64
    /// Products below this many multiply-adds run whole on one thread: cutting them costs more than it gains.
    static let minimumWork = 1 << 22

    /// Each shape's verdict, as found by `agrees`.
    private static let verdicts = Mutex<[Shape: Bool]>([:])

    /// The rows of each part, in order.
    static func ranges(rows m: Int, parts: Int) -> [Range<Int>] {
        (0..<parts).map { part in
            let start = m * part / parts / rowBlock * rowBlock
            let end = part == parts - 1 ? m : m * (part + 1) / parts / rowBlock * rowBlock
            return start..<end
        }
    }

    /// How many parts to cut this product into: 1 (whole) unless `threads` allow more, it is large enough,
    /// and this machine's kernel gives one call's bits for the cut.
    static func parts(_ shape: Shape, threads: Int) -> Int {
        var shape = shape
        shape.parts = min(threads, shape.m / rowBlock)
        guard shape.parts > 1, shape.m * shape.n * shape.k >= minimumWork else { return 1 }
        if let verdict = verdicts.withLock({ $0[shape] }) { return verdict ? shape.parts : 1 }
        let verdict = agrees(shape)
        verdicts.withLock { $0[shape] = verdict }
        return verdict ? shape.parts : 1
    }

    /// One single-threaded call over `rows` of c.
    static func call(
        _ s: Shape, rows: Range<Int>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>
    ) {
        let rowsOfA = s.transposeA ? a + rows.lowerBound : a + rows.lowerBound * s.lda
        cblas_sgemm(
            CblasRowMajor, s.transposeA ? CblasTrans : CblasNoTrans, s.transposeB ? CblasTrans : CblasNoTrans,
            Int32(rows.count), Int32(s.n), Int32(s.k), Float(bitPattern: s.alpha), rowsOfA, Int32(s.lda), b,
            Int32(s.ldb),
            Float(bitPattern: s.beta), c + rows.lowerBound * s.ldc, Int32(s.ldc))
    }

    /// Whether the cut of `shape` gives one call's bits, on random numbers of its shape.
    private static func agrees(_ s: Shape) -> Bool {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
            }
        }
        let a = random((s.transposeA ? s.k : s.m) * s.lda), b = random((s.transposeB ? s.n : s.k) * s.ldb)
        var whole = random(s.m * s.ldc), cut = whole
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                whole.withUnsafeMutableBufferPointer {
                    call(s, rows: 0..<s.m, a.baseAddress!, b.baseAddress!, $0.baseAddress!)
                }
                cut.withUnsafeMutableBufferPointer { c in
                    for rows in ranges(rows: s.m, parts: s.parts) {
                        call(s, rows: rows, a.baseAddress!, b.baseAddress!, c.baseAddress!)
                    }
                }
            }
        }
        return whole.elementsEqual(cut) { $0.bitPattern == $1.bitPattern }
    }
}
