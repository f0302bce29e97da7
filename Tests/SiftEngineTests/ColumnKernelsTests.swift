import CEngineKernels
import SiftEngine
import SiftRandom
import Testing

/// The C column passes (bias gradient, batch norm) give bit for bit what the plain per-element loops
/// give, on a width that leaves a tail after the eight-column vectors: the files of every batch-norm
/// run depend on it. Their feature-major twins (unit_kernels.h) give the same bits on the transposed batch.
@Suite struct ColumnKernelsTests {
    let rows = 19, cols = 21

    private func values(_ purpose: String) -> [Float] {
        var stream = RandomStream(root: 11, seed: 0, purpose: purpose)
        return (0..<(rows * cols)).map { _ in Float(stream.nextNormal()) }
    }

    private func perColumn(_ purpose: String) -> [Float] { Array(values(purpose).prefix(cols)) }

    private func expectSameBits(_ a: [Float], _ b: [Float], _ what: String) {
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(what)")
    }

    @Test func sumsAndDeviationsMatchThePlainLoops() {
        let x = values("x"), mean = perColumn("mean")
        var sums = [Float](repeating: 0, count: cols), squares = [Float](repeating: 0, count: cols)
        for r in 0..<rows {
            for j in 0..<cols {
                sums[j] += x[r * cols + j]
                let d = x[r * cols + j] - mean[j]
                squares[j] += d * d
            }
        }
        var gotSums = [Float](repeating: .nan, count: cols), gotSquares = gotSums
        sift_column_sums(rows, cols, cols, x, &gotSums)
        sift_column_squared_deviations(rows, cols, cols, x, mean, &gotSquares)
        expectSameBits(gotSums, sums, "column sums")
        expectSameBits(gotSquares, squares, "squared deviations")
    }

    @Test func batchNormPassesMatchThePlainLoops() {
        let x = values("x"), dy = values("dy")
        let mean = perColumn("mean"), inv = perColumn("inv").map { abs($0) + 0.5 }
        let gamma = perColumn("gamma"), beta = perColumn("beta")
        var normalized = [Float](repeating: 0, count: rows * cols), y = normalized, dx = normalized
        var gradBeta = [Float](repeating: 0, count: cols), gradGamma = gradBeta
        let n = Float(rows)
        for r in 0..<rows {
            for j in 0..<cols {
                let i = r * cols + j
                let v = (x[i] - mean[j]) * inv[j]
                normalized[i] = v
                y[i] = gamma[j] * v + beta[j]
            }
        }
        for r in 0..<rows {
            for j in 0..<cols {
                gradBeta[j] += dy[r * cols + j]
                gradGamma[j] += dy[r * cols + j] * normalized[r * cols + j]
            }
        }
        for r in 0..<rows {
            for j in 0..<cols {
                let i = r * cols + j
                dx[i] = gamma[j] * inv[j] / n * (n * dy[i] - gradBeta[j] - normalized[i] * gradGamma[j])
            }
        }
        var gotNormalized = [Float](repeating: .nan, count: rows * cols), gotY = gotNormalized, gotDx = gotNormalized
        var gotBeta = [Float](repeating: .nan, count: cols), gotGamma = gotBeta
        sift_batch_norm_forward(rows, cols, cols, x, mean, inv, gamma, beta, &gotNormalized, &gotY)
        sift_batch_norm_parameter_gradients(rows, cols, cols, dy, normalized, &gotBeta, &gotGamma)
        sift_batch_norm_input_gradient(rows, cols, cols, dy, normalized, gamma, inv, gradBeta, gradGamma, &gotDx)
        expectSameBits(gotNormalized, normalized, "normalized")
        expectSameBits(gotY, y, "output")
        expectSameBits(gotBeta, gradBeta, "β's gradient")
        expectSameBits(gotGamma, gradGamma, "γ's gradient")
        expectSameBits(gotDx, dx, "input gradient")
    }

    /// The batch-norm passes over feature-major rows (`cols` units of `rows` examples, rows `stride` apart)
    /// give the column passes' bits, over more than eight units and a tail, and leave the padding as it was.
    @Test func featureMajorBatchNormMatchesTheColumnPasses() {
        let stride = rows + 5
        let x = values("x"), dy = values("dy")
        let gamma = perColumn("gamma"), beta = perColumn("beta")
        func byUnit(_ rowMajor: [Float]) -> [Float] {
            var t = [Float](repeating: .infinity, count: cols * stride)
            for r in 0..<rows { for j in 0..<cols { t[j * stride + r] = rowMajor[r * cols + j] } }
            return t
        }
        func batchOnly(_ t: [Float]) -> [Float] { (0..<rows * cols).map { t[($0 % cols) * stride + $0 / cols] } }
        func padding(_ t: [Float]) -> [Float] { (0..<cols).flatMap { t[($0 * stride + rows)..<(($0 + 1) * stride)] } }

        var sums = [Float](repeating: 0, count: cols), squares = sums
        sift_column_sums(rows, cols, cols, x, &sums)
        let mean = sums.map { $0 / Float(rows) }
        sift_column_squared_deviations(rows, cols, cols, x, mean, &squares)
        let inv = squares.map { 1 / ($0 / Float(rows) + 1e-5).squareRoot() }
        var normalized = [Float](repeating: 0, count: rows * cols), y = normalized, dx = normalized
        var gradBeta = [Float](repeating: 0, count: cols), gradGamma = gradBeta
        sift_batch_norm_forward(rows, cols, cols, x, mean, inv, gamma, beta, &normalized, &y)
        sift_batch_norm_parameter_gradients(rows, cols, cols, dy, normalized, &gradBeta, &gradGamma)
        sift_batch_norm_input_gradient(rows, cols, cols, dy, normalized, gamma, inv, gradBeta, gradGamma, &dx)

        let xT = byUnit(x), dyT = byUnit(dy)
        var gotSums = [Float](repeating: .nan, count: cols), gotSquares = gotSums, gotBeta = gotSums, gotGamma = gotSums
        var gotNormalized = byUnit([Float](repeating: .nan, count: rows * cols)), gotY = gotNormalized,
            gotDx = gotNormalized
        sift_row_sums(cols, xT, rows, stride, &gotSums)
        sift_unit_squared_deviations(cols, rows, stride, xT, mean, &gotSquares)
        sift_batch_norm_forward_by_unit(cols, rows, stride, xT, mean, inv, gamma, beta, &gotNormalized, &gotY)
        sift_batch_norm_parameter_gradients_by_unit(cols, rows, stride, dyT, byUnit(normalized), &gotBeta, &gotGamma)
        sift_batch_norm_input_gradient_by_unit(
            cols, rows, stride, dyT, byUnit(normalized), gamma, inv, gradBeta, gradGamma,
            &gotDx)
        expectSameBits(gotSums, sums, "sums")
        expectSameBits(gotSquares, squares, "squared deviations")
        expectSameBits(batchOnly(gotNormalized), normalized, "normalized")
        expectSameBits(batchOnly(gotY), y, "output")
        expectSameBits(gotBeta, gradBeta, "β's gradient")
        expectSameBits(gotGamma, gradGamma, "γ's gradient")
        expectSameBits(batchOnly(gotDx), dx, "input gradient")
        for (name, written) in [("normalized", gotNormalized), ("output", gotY), ("input gradient", gotDx)] {
            #expect(padding(written).allSatisfy { $0 == .infinity }, "\(name): padding written")
        }
    }

    /// A band of columns, handed over as its first column with the batch's row length as `ld`, gets the bits
    /// of the same columns of a whole call: how `ThreadRanges` cuts the row-major passes between threads.
    @Test func aBandOfColumnsHasTheWholeCallsBits() {
        func matrix(_ values: [Float]) -> Matrix { Matrix(rows: 1, cols: values.count, values: values) }
        let x = matrix(values("x")), dy = matrix(values("dy")), mean = matrix(perColumn("mean"))
        let inv = matrix(perColumn("inv").map { abs($0) + 0.5 }), gamma = matrix(perColumn("gamma"))
        let beta = matrix(perColumn("beta"))
        func passes(bands: [Range<Int>]) -> [[UInt32]] {
            let sums = Matrix(rows: 1, cols: cols), squares = Matrix(rows: 1, cols: cols)
            let gradBeta = Matrix(rows: 1, cols: cols), gradGamma = Matrix(rows: 1, cols: cols)
            let normalized = Matrix(rows: rows, cols: cols), y = Matrix(rows: rows, cols: cols),
                dx = Matrix(rows: rows, cols: cols)
            for band in bands {
                let (j, n) = (band.lowerBound, band.count)
                sift_column_sums(rows, n, cols, x.pointer + j, sums.pointer + j)
                sift_column_squared_deviations(rows, n, cols, x.pointer + j, mean.pointer + j, squares.pointer + j)
                sift_batch_norm_forward(
                    rows, n, cols, x.pointer + j, mean.pointer + j, inv.pointer + j, gamma.pointer + j,
                    beta.pointer + j, normalized.pointer + j, y.pointer + j)
                sift_batch_norm_parameter_gradients(
                    rows, n, cols, dy.pointer + j, normalized.pointer + j, gradBeta.pointer + j,
                    gradGamma.pointer + j)
                sift_batch_norm_input_gradient(
                    rows, n, cols, dy.pointer + j, normalized.pointer + j, gamma.pointer + j,
                    inv.pointer + j, gradBeta.pointer + j, gradGamma.pointer + j, dx.pointer + j)
            }
            return [sums, squares, normalized, y, gradBeta, gradGamma, dx].map { $0.values.map(\.bitPattern) }
        }
        #expect(passes(bands: [0..<8, 8..<16, 16..<cols]) == passes(bands: [0..<cols]))
    }
}
