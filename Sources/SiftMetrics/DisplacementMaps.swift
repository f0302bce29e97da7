import CBLAS
import SiftFiles

/// The displacement maps S^sc (same channel) and S^dc (different channels) of science §6.1,
/// each (2H−1)×(2W−1), index [dy+H−1][dx+W−1], counting every unordered pair of a unit's inputs at d and −d.
public struct DisplacementMaps: Sendable {
    public let shape: ImageShape
    public var sameChannel: [Double]
    public var crossChannel: [Double]

    public var height: Int { 2 * shape.height - 1 }
    public var width: Int { 2 * shape.width - 1 }

    /// Summed over units through the input Gram matrix G = M·Mᵀ: G[i][j] counts the units holding both i and j,
    /// which is the units' autocorrelation gathered by input pair, so all pairs are counted with no cutoff.
    public init(mask: ConnectivityMask, shape: ImageShape) {
        precondition(mask.fanIn == shape.size, "mask has \(mask.fanIn) inputs, image \(shape) has \(shape.size)")
        self.shape = shape
        let h = shape.height, w = shape.width, mapWidth = 2 * w - 1
        var same = [Double](repeating: 0, count: (2 * h - 1) * mapWidth)
        var cross = same
        // Looked up per pair rather than divided out: a map visits up to fanIn²/2 pairs.
        let coordinates = (0..<shape.size).map { shape.coordinates($0) }
        InputGram.forEachPair(mask) { i, j, count in
            let (ci, yi, xi) = coordinates[i], (cj, yj, xj) = coordinates[j]
            let dy = yi - yj, dx = xi - xj
            let plus = (dy + h - 1) * mapWidth + (dx + w - 1)
            let minus = (-dy + h - 1) * mapWidth + (-dx + w - 1)
            if ci == cj {
                same[plus] += count
                same[minus] += count
            } else {
                cross[plus] += count
                cross[minus] += count
            }
        }
        sameChannel = same
        crossChannel = cross
    }

    /// Maps with no pairs counted yet.
    public init(empty shape: ImageShape) {
        self.shape = shape
        sameChannel = [Double](repeating: 0, count: (2 * shape.height - 1) * (2 * shape.width - 1))
        crossChannel = sameChannel
    }

    /// D of science §6.2: mean Euclidean length of same-channel pair displacements; nil without pairs.
    public var meanPairDistance: Double? {
        var weighted = 0.0, total = 0.0
        let h = shape.height, w = shape.width
        for dy in -(h - 1)...(h - 1) {
            for dx in -(w - 1)...(w - 1) {
                let s = sameChannel[(dy + h - 1) * width + (dx + w - 1)]
                weighted += s * Double(dx * dx + dy * dy).squareRoot()
                total += s
            }
        }
        return total > 0 ? weighted / total : nil
    }
}

extension ImageShape {
    /// (channel, y, x) of flattened input i = c·H·W + y·W + x.
    @inline(__always)
    public func coordinates(_ i: Int) -> (Int, Int, Int) {
        let plane = height * width
        return (i / plane, (i % plane) / width, i % width)
    }
}

/// Pairs of inputs that share units, from the Gram matrix of the mask.
enum InputGram {
    /// Calls `body(i, j, units holding both)` for every i < j with a shared unit.
    static func forEachPair(_ mask: ConnectivityMask, _ body: (Int, Int, Double) -> Void) {
        let n = mask.fanIn
        let m = mask.values.map { Float($0 != 0 ? 1 : 0) }
        var gram = [Float](repeating: 0, count: n * n)
        // Upper triangle of M·Mᵀ; counts stay exact in Float up to 2^24 units.
        cblas_ssyrk(
            CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(mask.fanOut), 1, m, Int32(mask.fanOut), 0, &gram,
            Int32(n))
        for i in 0..<n {
            let row = i * n
            for j in (i + 1)..<n where gram[row + j] != 0 { body(i, j, Double(gram[row + j])) }
        }
    }
}

/// D_uni of science §6.3: the mean distance over all ordered pairs of distinct pixels of one H×W channel.
public func uniformMeanPairDistance(height: Int, width: Int) -> Double {
    var weighted = 0.0, total = 0.0
    for dy in -(height - 1)...(height - 1) {
        for dx in -(width - 1)...(width - 1) where dx != 0 || dy != 0 {
            let pairs = Double((height - abs(dy)) * (width - abs(dx)))
            weighted += pairs * Double(dx * dx + dy * dy).squareRoot()
            total += pairs
        }
    }
    return total > 0 ? weighted / total : 0
}
