import SiftEngine
import Testing

/// A product on several threads (cut by rows where the kernel keeps one call's bits: `RowCutProducts`) gives
/// the bits of one call, for the engine's shapes: layers of 784 to 1,024 units at batches of 128 to 1,000,
/// forward, input gradient (b transposed) and weight gradient (a transposed), with and without accumulation.
@Suite(.serialized) struct SplitProductTests {
    func product(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, beta: Float, threads: Int) -> [Float] {
        let a = transposeA ? Matrix(rows: k, cols: m) : Matrix(rows: m, cols: k)
        let b = transposeB ? Matrix(rows: n, cols: k) : Matrix(rows: k, cols: n)
        let c = Matrix(rows: m, cols: n)
        for i in 0..<a.count { a.pointer[i] = Float((i * 7919) % 1013) / 1013 - 0.5 }
        for i in 0..<b.count { b.pointer[i] = Float((i * 104_729) % 997) / 997 - 0.5 }
        for i in 0..<c.count { c.pointer[i] = Float(i % 11) / 8 }
        let saved = BLAS.threads
        BLAS.threads = threads
        defer { BLAS.threads = saved }
        BLAS.gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, beta: beta)
        return Array(UnsafeBufferPointer(start: c.pointer, count: c.count))
    }

    @Test(arguments: [
        (128, 512, 784), (500, 256, 784), (1000, 1024, 1024), (1000, 10, 1024), (784, 512, 128), (300, 1000, 300),
    ])
    func aCutProductHasTheBitsOfOneCall(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for (transposeA, transposeB) in [(false, false), (true, false), (false, true)] {
            for beta: Float in [0, 1] {
                let one = product(
                    m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, beta: beta, threads: 1)
                for threads in [2, 3] {
                    let cut = product(
                        m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, beta: beta, threads: threads)
                    #expect(
                        cut.elementsEqual(one) { $0.bitPattern == $1.bitPattern },
                        "\(m)x\(n)x\(k) transposeA \(transposeA) transposeB \(transposeB) beta \(beta) on \(threads) threads"
                    )
                }
            }
        }
    }
}
