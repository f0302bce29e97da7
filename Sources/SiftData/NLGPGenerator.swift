import Foundation
import SiftFiles
import SiftRandom

/// The non-linear Gaussian process of Ingrosso & Goldt (PNAS 2022) and its Gaussian clone (science §5).
///
/// Class c draws x ~ N(0, C_c) with C_c(p,q) = exp(-|p-q|²/xi_c²) + 1e-3·δ(p,q) on an L×L grid.
/// The NLGP sample is erf(g·x/√2)/√γ; the clone is N(0, Σ) with the same covariance and nothing more.
/// Classes drawn from the clone are chosen one by one, so that a task can pit an NLGP class against
/// its own clone: then only the non-Gaussian statistics tell the classes apart.
public struct NLGPGenerator: Sendable {
    public var side: Int
    public var correlationLengths: [Double]
    public var gain: Double
    public var periodic: Bool
    /// Classes whose samples come from the Gaussian clone.
    public var cloneClasses: Set<Int>

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(
        side: Int, correlationLengths: [Double], gain: Double, periodic: Bool = false, cloneClasses: Set<Int> = []
    ) {
        self.side = side
        self.correlationLengths = correlationLengths
        self.gain = gain
        self.periodic = periodic
        self.cloneClasses = cloneClasses
    }

    /// Every class from the clone: the Gaussian-clone dataset.
    public var gaussianClone: Bool {
        get { cloneClasses.isSuperset(of: correlationLengths.indices) }
        set { cloneClasses = newValue ? Set(correlationLengths.indices) : [] }
    }

    /// γ = (2/π)·arcsin(g²/(1+g²)): the variance of erf(g·x/√2) for x ~ N(0,1).
    public var gamma: Double { 2 / Double.pi * asin(gain * gain / (1 + gain * gain)) }

    public var shape: ImageShape { ImageShape(channels: 1, height: side, width: side) }

    /// The covariance of the underlying Gaussian field for one correlation length.
    public func fieldCovariance(xi: Double) -> [Double] {
        let n = side * side
        var c = [Double](repeating: 0, count: n * n)
        for p in 0..<n {
            for q in 0..<n {
                var dy = Double(abs(p / side - q / side)), dx = Double(abs(p % side - q % side))
                if periodic {
                    dy = min(dy, Double(side) - dy)
                    dx = min(dx, Double(side) - dx)
                }
                c[p * n + q] = exp(-(dx * dx + dy * dy) / (xi * xi)) + (p == q ? 1e-3 : 0)
            }
        }
        return c
    }

    /// The covariance of the NLGP samples, which is also the clone's: (2/(πγ))·arcsin(g²/(1+g²)·C).
    public func sampleCovariance(xi: Double) -> [Double] {
        let a = gain * gain / (1 + gain * gain)
        let scale = 2 / (Double.pi * gamma)
        return fieldCovariance(xi: xi).map { scale * asin(min(1, a * $0)) }
    }

    public func generate(count: Int, stream: RandomStream) -> LabelledImages {
        var labelStream = stream.derived("labels")
        let classes = correlationLengths.count
        let labels = (0..<count).map { _ in Int32(labelStream.nextInt(below: classes)) }
        let d = side * side
        var features = [Float](repeating: 0, count: count * d)
        for (c, xi) in correlationLengths.enumerated() {
            let members = labels.indices.filter { labels[$0] == Int32(c) }
            guard !members.isEmpty else { continue }
            let clone = cloneClasses.contains(c)
            let covariance = clone ? sampleCovariance(xi: xi) : fieldCovariance(xi: xi)
            var normals = stream.derived("class-\(c)")
            let x = GaussianDraws.sample(
                count: members.count, factor: GaussianDraws.factor(covariance, dimension: d),
                dimension: d, normals: &normals)
            let scale = Float(1 / gamma.squareRoot()), g = Float(gain / 2.0.squareRoot())
            for (r, n) in members.enumerated() {
                for j in 0..<d {
                    let value = x[r * d + j]
                    features[n * d + j] = clone ? value : erff(g * value) * scale
                }
            }
        }
        return LabelledImages(shape: shape, features: features, labels: labels)
    }
}
