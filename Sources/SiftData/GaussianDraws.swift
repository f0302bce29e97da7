import CBLAS
import SiftRandom

/// Draws from a multivariate normal through its Cholesky factor, shared by the NLGP generator
/// and the Gaussian clone of image data.
enum GaussianDraws {
    /// The Float Cholesky factor of a covariance (jittered until positive definite).
    static func factor(_ covariance: [Double], dimension: Int) -> [Float] {
        Cholesky.factorWithJitter(covariance, n: dimension).map { Float($0) }
    }

    /// `count` zero-mean draws as rows of a [count, dimension] block: z·Lᵀ with z standard normal.
    static func sample(count: Int, factor: [Float], dimension d: Int, normals: inout RandomStream) -> [Float] {
        let z = (0..<(count * d)).map { _ in Float(normals.nextNormal()) }
        var x = [Float](repeating: 0, count: count * d)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(d), Int32(d),
            1, z, Int32(d), factor, Int32(d), 0, &x, Int32(d))
        return x
    }
}
