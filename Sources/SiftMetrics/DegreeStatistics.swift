import Foundation
import SiftArtifacts

/// The in-degree histogram of a layer, against the binomial null of its density.
extension InDegreeHistogram {
    public init(_ mask: ConnectivityMask) {
        let degrees = mask.inDegrees
        let u = mask.density
        let expected = (0...mask.fanIn).map { Double(mask.fanOut) * binomialPMF(k: $0, n: mask.fanIn, p: u) }
        // Trim the long tail of negligible expectation beyond what was observed.
        let lastExpected = expected.lastIndex { $0 >= 1e-3 } ?? 0
        let length = max(degrees.max() ?? 0, lastExpected) + 1
        var counts = [Int](repeating: 0, count: length)
        for k in degrees { counts[k] += 1 }
        self.init(counts: counts, binomialExpected: Array(expected.prefix(length)))
    }
}

/// P(X = k) for X ~ Binomial(n, p), through log-gamma so large n stays finite.
public func binomialPMF(k: Int, n: Int, p: Double) -> Double {
    if p <= 0 { return k == 0 ? 1 : 0 }
    if p >= 1 { return k == n ? 1 : 0 }
    let logChoose = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    return exp(logChoose + Double(k) * log(p) + Double(n - k) * log1p(-p))
}
