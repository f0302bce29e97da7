import SiftArtifacts

/// A layer's surviving connections, stored [fan_in, fan_out] row-major (science §2):
/// column n is unit n's receptive field.
public struct ConnectivityMask: Sendable, Equatable {
    public let fanIn: Int
    public let fanOut: Int
    public var values: [UInt8]

    public init(fanIn: Int, fanOut: Int, values: [UInt8]) {
        precondition(values.count == fanIn * fanOut, "\(values.count) mask entries for [\(fanIn), \(fanOut)]")
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.values = values
    }

    public subscript(input: Int, unit: Int) -> Bool { values[input * fanOut + unit] != 0 }

    public var density: Double { Double(values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }) / Double(max(values.count, 1)) }

    /// k_n: surviving inputs of each unit.
    public var inDegrees: [Int] {
        var k = [Int](repeating: 0, count: fanOut)
        for i in 0..<fanIn {
            let row = i * fanOut
            for n in 0..<fanOut where values[row + n] != 0 { k[n] += 1 }
        }
        return k
    }

    /// o_i: units each input feeds.
    public var outDegrees: [Int] {
        (0..<fanIn).map { i in values[(i * fanOut)..<((i + 1) * fanOut)].reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
    }

    /// Each unit's surviving inputs, in increasing order.
    public var receptiveFields: [[Int]] {
        var fields = [[Int]](repeating: [], count: fanOut)
        for i in 0..<fanIn {
            let row = i * fanOut
            for n in 0..<fanOut where values[row + n] != 0 { fields[n].append(i) }
        }
        return fields
    }

    public init(fanIn: Int, receptiveFields: [[Int]]) {
        var values = [UInt8](repeating: 0, count: fanIn * receptiveFields.count)
        for (n, field) in receptiveFields.enumerated() { for i in field { values[i * receptiveFields.count + n] = 1 } }
        self.init(fanIn: fanIn, fanOut: receptiveFields.count, values: values)
    }

    /// A mask file as a level writes it (uint8 [fan_in, fan_out]); a file of another shape or type is an error naming it.
    public init(contentsOf path: String) throws {
        let (values, fanIn, fanOut) = try LevelArtifacts.readMask(path)
        self.init(fanIn: fanIn, fanOut: fanOut, values: values)
    }

    /// Every connection absent, every absent one present.
    public var complement: ConnectivityMask {
        ConnectivityMask(fanIn: fanIn, fanOut: fanOut, values: values.map { $0 != 0 ? 0 : 1 })
    }

    /// Fraction of units with at least one surviving input.
    public var connectedFraction: Double {
        Double(inDegrees.filter { $0 > 0 }.count) / Double(max(fanOut, 1))
    }
}
