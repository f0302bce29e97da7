import Foundation

/// A counter-based random stream (Philox4x32-10, Salmon et al. 2011).
///
/// Each stream is a pure function of its 64-bit key and a 64-bit counter, so
/// the numbers drawn for (experiment, seed, purpose) are the same on every
/// machine and in every process, whatever else that process drew before.
public struct RandomStream: Sendable {
    public let key: UInt64
    /// Index of the next 128-bit block.
    private var blockIndex: UInt64 = 0
    private var buffer: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var used = 4
    private var spareNormal: Double?

    public init(key: UInt64) {
        self.key = key
    }

    /// A stream keyed by a 64-bit root (an experiment's hash prefix), a seed and a purpose label.
    public init(root: UInt64, seed: UInt64, purpose: String) {
        var h = StreamKey.mix(root ^ 0x9E37_79B9_7F4A_7C15)
        h = StreamKey.mix(h ^ seed)
        for byte in purpose.utf8 { h = StreamKey.mix(h ^ UInt64(byte)) }
        self.key = h
    }

    /// A child stream for a sub-purpose, independent of this one.
    public func derived(_ purpose: String) -> RandomStream {
        RandomStream(root: key, seed: 0, purpose: purpose)
    }

    public mutating func nextUInt32() -> UInt32 {
        if used == 4 {
            buffer = Philox.block(counter: blockIndex, key: key)
            blockIndex &+= 1
            used = 0
        }
        defer { used += 1 }
        switch used {
        case 0: return buffer.0
        case 1: return buffer.1
        case 2: return buffer.2
        default: return buffer.3
        }
    }

    public mutating func nextUInt64() -> UInt64 {
        UInt64(nextUInt32()) << 32 | UInt64(nextUInt32())
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func nextDouble() -> Double {
        Double(nextUInt64() >> 11) * 0x1p-53
    }

    /// Uniform integer in 0..<bound, without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = nextUInt64().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold {
                product = nextUInt64().multipliedFullWidth(by: b)
            }
        }
        return Int(product.high)
    }

    /// Standard normal by the Box-Muller transform (both values used).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u1 = nextDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextDouble() }
        let u2 = nextDouble()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = radius * sin(angle)
        return radius * cos(angle)
    }

    /// Fisher-Yates shuffle written out, so the order never depends on the standard library's algorithm.
    /// Inlinable so callers in other modules get it specialised for their element type.
    @inlinable
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A uniformly random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}

/// SplitMix64 finaliser: turns structured inputs into well-spread keys.
enum StreamKey {
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The Philox4x32 round function with 10 rounds.
enum Philox {
    static let m0: UInt32 = 0xD251_1F53
    static let m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9
    static let w1: UInt32 = 0xBB67_AE85

    static func block(counter: UInt64, key: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter)
        var c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2: UInt32 = 0
        var c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: key)
        var k1 = UInt32(truncatingIfNeeded: key >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(m0) * UInt64(c0)
            let p1 = UInt64(m1) * UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
            k0 &+= w0
            k1 &+= w1
        }
        return (c0, c1, c2, c3)
    }
}
