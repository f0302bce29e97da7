import CEngineKernels
import SiftRandom
import Testing

/// The C column passes (bias gradient, batch norm) give bit for bit what the plain per-element loops
/// give, on a width that leaves a tail after the eight-column vectors: the files of every batch-norm
/// run depend on it.
@Suite struct ColumnKernelsTests {
    let rows = 7, cols = 21

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
        sift_column_sums(rows, cols, x, &gotSums)
        sift_column_squared_deviations(rows, cols, x, mean, &gotSquares)
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
        sift_batch_norm_forward(rows, cols, x, mean, inv, gamma, beta, &gotNormalized, &gotY)
        sift_batch_norm_parameter_gradients(rows, cols, dy, normalized, &gotBeta, &gotGamma)
        sift_batch_norm_input_gradient(rows, cols, dy, normalized, gamma, inv, gradBeta, gradGamma, &gotDx)
        expectSameBits(gotNormalized, normalized, "normalized")
        expectSameBits(gotY, y, "output")
        expectSameBits(gotBeta, gradBeta, "β's gradient")
        expectSameBits(gotGamma, gradGamma, "γ's gradient")
        expectSameBits(gotDx, dx, "input gradient")
    }
}
