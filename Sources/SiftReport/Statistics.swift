import Foundation

/// Mean, standard deviation, n and a Student-t 95 % interval over seeds (science §7).
package struct SampleSummary: Codable, Sendable, Equatable {
    package var n: Int
    package var mean: Double
    /// Sample standard deviation (n − 1); 0 when n = 1.
    package var sd: Double
    /// Half-width of the 95 % interval; nil when n < 2.
    package var ci95: Double?

    package init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        n = values.count
        mean = values.reduce(0, +) / Double(n)
        let m = mean
        sd = n > 1 ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot() : 0
        ci95 = n > 1 ? StudentT.quantile(0.975, degreesOfFreedom: Double(n - 1)) * sd / Double(n).squareRoot() : nil
    }

    package var low: Double { mean - (ci95 ?? 0) }
    package var high: Double { mean + (ci95 ?? 0) }
}

/// Difference of two means with its 95 % interval and Welch's two-sided p-value (science §7).
package struct WelchComparison: Codable, Sendable, Equatable {
    package var difference: Double
    package var ci95: Double
    package var degreesOfFreedom: Double
    package var p: Double

    /// Nil when either side has fewer than two values or neither varies.
    package init?(_ a: SampleSummary, _ b: SampleSummary) {
        guard a.n >= 2, b.n >= 2 else { return nil }
        let va = a.sd * a.sd / Double(a.n), vb = b.sd * b.sd / Double(b.n)
        let se = (va + vb).squareRoot()
        guard se > 0 else { return nil }
        difference = a.mean - b.mean
        degreesOfFreedom = (va + vb) * (va + vb) / (va * va / Double(a.n - 1) + vb * vb / Double(b.n - 1))
        let t = difference / se
        p = min(1, 2 * (1 - StudentT.cdf(abs(t), degreesOfFreedom: degreesOfFreedom)))
        ci95 = StudentT.quantile(0.975, degreesOfFreedom: degreesOfFreedom) * se
    }
}

/// The Student t distribution through the regularised incomplete beta function.
package enum StudentT {
    package static func cdf(_ t: Double, degreesOfFreedom v: Double) -> Double {
        let tail = 0.5 * regularizedIncompleteBeta(v / (v + t * t), a: v / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The p-quantile, by bisection on the CDF.
    package static func quantile(_ p: Double, degreesOfFreedom v: Double) -> Double {
        var low = -1e4, high = 1e4
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if cdf(mid, degreesOfFreedom: v) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the symmetry for fast convergence.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        // In steps: as one expression this took the type checker seconds.
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let exponent: Double = logGammas + a * log(x) + b * log1p(-x)
        let front: Double = exp(exponent) / a
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var f = d
        for m in 1...300 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d; d = 1 / (abs(d) < tiny ? tiny : d)
            c = 1 + even / c; if abs(c) < tiny { c = tiny }
            f *= c * d
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d; d = 1 / (abs(d) < tiny ? tiny : d)
            c = 1 + odd / c; if abs(c) < tiny { c = tiny }
            let delta = c * d
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return front * f
    }
}
