import Foundation
import SiftSpec

extension LossKind {
    /// Mean loss over the first `rows` rows of `output`, writing d(loss)/d(output) into `gradient`.
    func evaluate(output: Matrix, labels: UnsafePointer<Int32>, rows: Int, gradient: Matrix) -> Float {
        let k = output.cols
        let scale = 1 / Float(rows)
        var total: Double = 0
        for r in 0..<rows {
            let o = output.pointer + r * k
            let g = gradient.pointer + r * k
            let label = Int(labels[r])
            switch self {
            case .crossEntropy:
                var peak = o[0]
                for c in 1..<k { peak = max(peak, o[c]) }
                var sum: Float = 0
                for c in 0..<k {
                    g[c] = expf(o[c] - peak)
                    sum += g[c]
                }
                total += Double(logf(sum) + peak - o[label])
                let inverse = 1 / sum
                for c in 0..<k { g[c] = g[c] * inverse * scale }
                g[label] -= scale
            case .mse:
                for c in 0..<k {
                    let diff = o[c] - (c == label ? 1 : 0)
                    total += Double(0.5 * diff * diff)
                    g[c] = diff * scale
                }
            }
        }
        return Float(total / Double(rows))
    }
}
