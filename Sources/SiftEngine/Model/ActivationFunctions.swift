import CEngineKernels
import Foundation
import SiftSpec

extension Activation {
    /// a = f(z), elementwise over `count` entries, on the engine's threads.
    func apply(_ z: UnsafePointer<Float>, into a: UnsafeMutablePointer<Float>, count: Int) {
        ThreadRanges.elementwise(count) { first, count in
            let z = z + first, a = a + first
            switch self {
            case .relu: sift_relu(count, z, a)
            case .tanh: for i in 0..<count { a[i] = Foundation.tanh(z[i]) }
            case .erf: for i in 0..<count { a[i] = erff(z[i]) }
            }
        }
    }

    /// dz = da · f'(z), where f' is read from z or from a = f(z), whichever is cheaper; on the engine's threads.
    func backward(
        _ da: UnsafePointer<Float>, z: UnsafePointer<Float>, a: UnsafePointer<Float>,
        into dz: UnsafeMutablePointer<Float>, count: Int
    ) {
        ThreadRanges.elementwise(count) { first, count in
            let (da, z, a, dz) = (da + first, z + first, a + first, dz + first)
            switch self {
            case .relu: sift_relu_backward(count, da, a, dz)
            case .tanh:
                for i in 0..<count { dz[i] = da[i] * (1 - a[i] * a[i]) }
            case .erf:
                let c = Float(2 / Double.pi.squareRoot())
                for i in 0..<count { dz[i] = da[i] * c * expf(-z[i] * z[i]) }
            }
        }
    }

    /// `backward` on feature-major rows (`units` rows of `stride` floats) with each row's sum over its first
    /// `width` columns (the batch), added up in order of the column: the bias gradient. The ReLU does both
    /// in one pass over the rows; the other activations take the two passes it matches bit for bit.
    func backward(
        _ da: UnsafePointer<Float>, z: UnsafePointer<Float>, a: UnsafePointer<Float>,
        into dz: UnsafeMutablePointer<Float>, units: Int, width: Int, stride: Int,
        rowSums: UnsafeMutablePointer<Float>
    ) {
        if self != .relu { backward(da, z: z, a: a, into: dz, count: units * stride) }
        ThreadRanges.run(items: units, work: units * stride) { range in
            let offset = range.lowerBound * stride, sums = rowSums + range.lowerBound
            if self == .relu {
                sift_relu_backward_row_sums(range.count, da + offset, a + offset, dz + offset, width, stride, sums)
            } else {
                sift_row_sums(range.count, dz + offset, width, stride, sums)
            }
        }
    }
}
