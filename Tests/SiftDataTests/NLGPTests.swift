import SiftData
import SiftEngine
import SiftRandom
import Testing

@Suite struct NLGPTests {
    /// Empirical covariance E[x xᵀ] of the rows (the NLGP and its clone have zero mean).
    func covariance(_ images: LabelledImages) -> [Float] {
        let d = images.shape.size
        let x = Matrix(rows: images.count, cols: d, values: images.features)
        let c = Matrix(rows: d, cols: d)
        BLAS.gemm(x, transposeA: true, x, into: c, alpha: 1 / Float(images.count))
        return c.values
    }

    func frobenius(_ a: [Float]) -> Double { a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

    let generator = NLGPGenerator(side: 8, correlationLengths: [3], gain: 3)

    @Test func marginalVarianceIsOne() {
        let samples = generator.generate(count: 20_000, stream: RandomStream(root: 1, seed: 0, purpose: "nlgp"))
        let variance = samples.features.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.features.count)
        #expect(abs(variance - 1) < 0.02, "NLGP variance \(variance)")
        #expect(samples.features.allSatisfy { abs($0) <= Float(1 / generator.gamma.squareRoot()) + 1e-5 })
    }

    @Test func cloneMatchesTheNLGPCovariance() {
        var clone = generator
        clone.gaussianClone = true
        let nlgp = covariance(
            generator.generate(count: 50_000, stream: RandomStream(root: 1, seed: 0, purpose: "nlgp")))
        let gaussian = covariance(
            clone.generate(count: 50_000, stream: RandomStream(root: 1, seed: 1, purpose: "clone")))
        let error = frobenius(zip(nlgp, gaussian).map { $0 - $1 }) / frobenius(nlgp)
        #expect(error < 2e-2, "relative Frobenius error \(error)")

        // Both also match the analytic covariance.
        let analytic = generator.sampleCovariance(xi: 3).map { Float($0) }
        #expect(frobenius(zip(nlgp, analytic).map { $0 - $1 }) / frobenius(analytic) < 2e-2)
    }

    @Test func nlgpHasHeavierStructureThanItsClone() {
        // Same covariance, different fourth moment: erf saturates, so the NLGP's kurtosis is below 3.
        var clone = generator
        clone.gaussianClone = true
        func kurtosis(_ g: NLGPGenerator) -> Double {
            let x = g.generate(count: 20_000, stream: RandomStream(root: 2, seed: 0, purpose: "k")).features
            let m2 = x.reduce(0.0) { $0 + Double($1 * $1) } / Double(x.count)
            let m4 = x.reduce(0.0) { $0 + pow4(Double($1)) } / Double(x.count)
            return m4 / (m2 * m2)
        }
        #expect(abs(kurtosis(clone) - 3) < 0.15)
        #expect(kurtosis(generator) < 2.5)
    }

    @Test func aClassCanBeDrawnFromTheClone() {
        let mixed = NLGPGenerator(side: 8, correlationLengths: [3, 3], gain: 3, cloneClasses: [1])
        let samples = mixed.generate(count: 8000, stream: RandomStream(root: 5, seed: 0, purpose: "mixed"))
        func kurtosis(_ label: Int32) -> Double {
            let d = samples.shape.size
            let x = samples.labels.indices.filter { samples.labels[$0] == label }.flatMap {
                samples.features[($0 * d)..<(($0 + 1) * d)]
            }
            let m2 = x.reduce(0.0) { $0 + Double($1 * $1) } / Double(x.count)
            let m4 = x.reduce(0.0) { $0 + pow4(Double($1)) } / Double(x.count)
            return m4 / (m2 * m2)
        }
        #expect(kurtosis(0) < 2.5, "class 0 is the NLGP")
        #expect(abs(kurtosis(1) - 3) < 0.2, "class 1 is its Gaussian clone")
    }

    @Test func classesAreLabelledUniformly() {
        let g = NLGPGenerator(side: 6, correlationLengths: [1, 3, 5], gain: 2)
        let samples = g.generate(count: 6000, stream: RandomStream(root: 3, seed: 0, purpose: "labels"))
        for c in 0..<3 {
            let n = samples.labels.filter { $0 == Int32(c) }.count
            #expect(abs(n - 2000) < 200)
        }
    }
}

private func pow4(_ x: Double) -> Double { x * x * x * x }
