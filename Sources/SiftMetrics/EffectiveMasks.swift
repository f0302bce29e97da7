/// The effective masks of science §6: M_1, M_1·M_2, …, where entry (i, n) says whether a path of surviving
/// weights joins input i to unit n of that layer.
///
/// Each unit's effective field is held as a bitset over the inputs, and a layer's fields are the unions
/// of its inputs' fields: a boolean product costing one word-wide OR per 64 inputs and surviving weight,
/// instead of a dense float product over every pair of units (3×1024 layers stay a few milliseconds).
public enum EffectiveMasks {
    public static func of(_ layers: [ConnectivityMask]) -> [ConnectivityMask] {
        guard let first = layers.first else { return [] }
        let inputs = first.fanIn, words = (inputs + 63) / 64
        // fields[n * words ..< (n + 1) * words]: the inputs that reach unit n of the current layer.
        var fields = [UInt64](repeating: 0, count: first.fanOut * words)
        for i in 0..<inputs {
            let row = i * first.fanOut, bit = UInt64(1) << UInt64(i % 64), word = i / 64
            for n in 0..<first.fanOut where first.values[row + n] != 0 { fields[n * words + word] |= bit }
        }
        var out = [first]
        var units = first.fanOut
        for next in layers.dropFirst() {
            precondition(
                next.fanIn == units, "layer shapes do not chain: \(units) units feed a layer of fan-in \(next.fanIn)")
            var reached = [UInt64](repeating: 0, count: next.fanOut * words)
            fields.withUnsafeBufferPointer { source in
                reached.withUnsafeMutableBufferPointer { target in
                    next.values.withUnsafeBufferPointer { mask in
                        for n in 0..<units {
                            let row = n * next.fanOut, from = n * words
                            for m in 0..<next.fanOut where mask[row + m] != 0 {
                                let to = m * words
                                for w in 0..<words { target[to + w] |= source[from + w] }
                            }
                        }
                    }
                }
            }
            fields = reached
            units = next.fanOut
            out.append(mask(fields: fields, inputs: inputs, units: units))
        }
        return out
    }

    /// The [inputs, units] 0/1 mask of per-unit bitsets.
    private static func mask(fields: [UInt64], inputs: Int, units: Int) -> ConnectivityMask {
        let words = (inputs + 63) / 64
        var values = [UInt8](repeating: 0, count: inputs * units)
        for n in 0..<units {
            for i in 0..<inputs where fields[n * words + i / 64] >> UInt64(i % 64) & 1 != 0 {
                values[i * units + n] = 1
            }
        }
        return ConnectivityMask(fanIn: inputs, fanOut: units, values: values)
    }
}
