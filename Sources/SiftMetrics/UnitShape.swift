import SiftFiles

/// Per-unit shape measures of science §6.5 and 6.6.
public enum UnitShape {
    /// Root mean square distance of each unit's surviving pixels (x, y) from their centroid;
    /// nil for units with fewer than two inputs.
    public static func gyrationRadii(_ mask: ConnectivityMask, shape: ImageShape) -> [Double?] {
        mask.receptiveFields.map { field in
            guard field.count >= 2 else { return nil }
            var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0
            for i in field {
                let (_, y, x) = shape.coordinates(i)
                sx += Double(x); sy += Double(y); sxx += Double(x * x); syy += Double(y * y)
            }
            let n = Double(field.count)
            return max(0, sxx / n - (sx / n) * (sx / n) + syy / n - (sy / n) * (sy / n)).squareRoot()
        }
    }

    public static func meanGyrationRadius(_ mask: ConnectivityMask, shape: ImageShape) -> Double? {
        mean(gyrationRadii(mask, shape: shape).compactMap { $0 })
    }

    /// Inverse participation ratio Σw⁴/(Σw²)² of each unit's masked weights; nil for an all-zero column.
    public static func inverseParticipationRatios(weights: [Float], mask: ConnectivityMask) -> [Double?] {
        precondition(weights.count == mask.values.count, "weights and mask differ in size")
        var s2 = [Double](repeating: 0, count: mask.fanOut), s4 = s2
        for i in 0..<mask.fanIn {
            for n in 0..<mask.fanOut where mask.values[i * mask.fanOut + n] != 0 {
                let w2 = Double(weights[i * mask.fanOut + n]) * Double(weights[i * mask.fanOut + n])
                s2[n] += w2
                s4[n] += w2 * w2
            }
        }
        return (0..<mask.fanOut).map { s2[$0] > 0 ? s4[$0] / (s2[$0] * s2[$0]) : nil }
    }
}

func mean(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
}
