/// Lower-triangular Cholesky factor of a symmetric positive-definite matrix, in Double.
enum Cholesky {
    /// Returns L (row-major n×n) with A = L·Lᵀ, or nil when A is not positive definite.
    static func factor(_ a: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = a[j * n + j]
            for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
            guard diagonal > 0 else { return nil }
            let pivot = diagonal.squareRoot()
            l[j * n + j] = pivot
            for i in (j + 1)..<n {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = sum / pivot
            }
        }
        return l
    }

    /// Factors A, adding the smallest diagonal jitter (1e-10, ×10 …) that makes it positive definite.
    static func factorWithJitter(_ a: [Double], n: Int) -> [Double] {
        if let l = factor(a, n: n) { return l }
        var jitter = 1e-10
        while true {
            var shifted = a
            for i in 0..<n { shifted[i * n + i] += jitter }
            if let l = factor(shifted, n: n) { return l }
            jitter *= 10
        }
    }
}
