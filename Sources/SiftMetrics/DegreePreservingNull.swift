import SiftRandom

/// Random masks with exactly the real mask's in-degrees k_n and out-degrees o_i (SPEC 6.4),
/// drawn by the Curveball algorithm (Strona et al. 2014; Carstens 2015).
public enum DegreePreservingNull {
    /// Trades per draw: enough for the chain to mix on masks of this project's sizes.
    public static func defaultTrades(units: Int) -> Int { max(1000, 20 * units) }

    /// One draw. Each trade picks two units, pools the inputs only one of them has, shuffles the pool
    /// and deals it back in the same sizes: both units keep their degree, and every input its out-degree.
    public static func draw(_ mask: ConnectivityMask, stream: RandomStream, trades: Int? = nil) -> ConnectivityMask {
        var fields = mask.receptiveFields
        guard fields.count >= 2 else { return mask }
        var s = stream
        var owner = [Int32](repeating: 0, count: mask.fanIn)   // scratch: 1 = in a, 2 = in b, 3 = both
        for _ in 0..<(trades ?? defaultTrades(units: fields.count)) {
            let a = s.nextInt(below: fields.count)
            var b = s.nextInt(below: fields.count - 1)
            if b >= a { b += 1 }
            for i in fields[a] { owner[i] |= 1 }
            for i in fields[b] { owner[i] |= 2 }
            var shared: [Int] = [], pool: [Int] = []
            for i in fields[a] { if owner[i] == 3 { shared.append(i) } else { pool.append(i) } }
            let onlyA = pool.count
            for i in fields[b] where owner[i] == 2 { pool.append(i) }
            for i in fields[a] { owner[i] = 0 }
            for i in fields[b] { owner[i] = 0 }
            guard onlyA > 0 && onlyA < pool.count else { continue }
            s.shuffle(&pool)
            fields[a] = shared + pool[..<onlyA]
            fields[b] = shared + pool[onlyA...]
        }
        return ConnectivityMask(fanIn: mask.fanIn, receptiveFields: fields)
    }
}
