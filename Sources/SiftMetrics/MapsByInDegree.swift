import SiftFiles

/// science §6.10, the paper's figure panels: S^sc and S^dc summed over the units whose in-degree k_n falls
/// in each bin [b·width, (b+1)·width − 1]. Only bins holding units are kept, lowest first; their maps
/// add up to the whole map, since every unit is in exactly one bin.
public struct MapsByInDegree: Sendable {
    public struct Bin: Sendable {
        public var lowestDegree: Int
        public var highestDegree: Int
        public var units: Int
        public var maps: DisplacementMaps
    }

    /// The paper's bins hold 10 connections each.
    public static let paperBinWidth = 10

    public let binWidth: Int
    public var bins: [Bin]

    public init(mask: ConnectivityMask, shape: ImageShape, binWidth: Int = paperBinWidth) {
        precondition(binWidth > 0, "bin width \(binWidth)")
        self.binWidth = binWidth
        let degrees = mask.inDegrees
        let unitsByBin = Dictionary(grouping: degrees.indices) { degrees[$0] / binWidth }
        bins = unitsByBin.keys.sorted().map { bin in
            let units = unitsByBin[bin] ?? []
            var values = [UInt8](repeating: 0, count: mask.fanIn * units.count)
            for i in 0..<mask.fanIn {
                for (column, n) in units.enumerated() {
                    values[i * units.count + column] = mask.values[i * mask.fanOut + n]
                }
            }
            let part = ConnectivityMask(fanIn: mask.fanIn, fanOut: units.count, values: values)
            return Bin(
                lowestDegree: bin * binWidth, highestDegree: (bin + 1) * binWidth - 1, units: units.count,
                maps: DisplacementMaps(mask: part, shape: shape))
        }
    }

    /// The whole maps: the bins' sum. Entries count pairs, whole numbers far below 2^53, so the sum is
    /// exact and equals the maps of the whole mask to the bit.
    public func total(shape: ImageShape) -> DisplacementMaps {
        var total = DisplacementMaps(empty: shape)
        for bin in bins {
            for k in total.sameChannel.indices {
                total.sameChannel[k] += bin.maps.sameChannel[k]
                total.crossChannel[k] += bin.maps.crossChannel[k]
            }
        }
        return total
    }
}
