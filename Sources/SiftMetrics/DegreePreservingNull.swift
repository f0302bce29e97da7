import SiftRandom

/// Random masks with exactly the real mask's in-degrees k_n and out-degrees o_i (SPEC 6.4),
/// drawn by the Curveball algorithm (Strona et al. 2014; Carstens 2015).
public enum DegreePreservingNull {
    /// Trades per draw: enough for the chain to mix on masks of this project's sizes.
    public static func defaultTrades(units: Int) -> Int { max(1000, 20 * units) }

    /// One draw. A mask denser than one half is drawn through its complement, whose degrees are fixed by
    /// the mask's: complementing is a bijection between the two sets of masks, so a uniform draw of one is a
    /// uniform draw of the other, and a trade costs the sparser side's degrees (effective masks are dense).
    public static func draw(_ mask: ConnectivityMask, stream: RandomStream, trades: Int? = nil) -> ConnectivityMask {
        guard mask.density > 0.5 else { return curveball(mask, stream: stream, trades: trades) }
        return curveball(mask.complement, stream: stream, trades: trades).complement
    }

    /// Each trade picks two units, pools the inputs only one of them has, shuffles the pool and deals it
    /// back in the same sizes: both units keep their degree, and every input its out-degree.
    static func curveball(_ mask: ConnectivityMask, stream: RandomStream, trades: Int?) -> ConnectivityMask {
        let fields = mask.receptiveFields
        let units = fields.count
        guard units >= 2 else { return mask }
        // Every unit's inputs live in one flat array; a unit's slice keeps its length (its degree) for good.
        var offsets = [Int](repeating: 0, count: units + 1)
        for n in 0..<units { offsets[n + 1] = offsets[n] + fields[n].count }
        var flat = fields.flatMap { $0.map { Int32($0) } }
        var owner = [UInt8](repeating: 0, count: mask.fanIn)   // 1: a has it, 2: b has it, 3: both
        var pool: [Int32] = []
        pool.reserveCapacity(2 * (fields.map(\.count).max() ?? 0))
        var s = stream
        for _ in 0..<(trades ?? defaultTrades(units: units)) {
            let a = s.nextInt(below: units)
            var b = s.nextInt(below: units - 1)
            if b >= a { b += 1 }
            let (a0, a1, b0, b1) = (offsets[a], offsets[a + 1], offsets[b], offsets[b + 1])
            flat.withUnsafeMutableBufferPointer { f in
                owner.withUnsafeMutableBufferPointer { o in
                    for j in a0..<a1 { o[Int(f[j])] |= 1 }
                    for j in b0..<b1 { o[Int(f[j])] |= 2 }
                    // Shared inputs move to the front of each slice; the rest go to the pool.
                    pool.removeAll(keepingCapacity: true)
                    var sharedEndA = a0, sharedEndB = b0
                    for j in a0..<a1 {
                        let i = f[j]
                        if o[Int(i)] == 3 { f[sharedEndA] = i; sharedEndA += 1 } else { pool.append(i) }
                    }
                    let onlyA = pool.count
                    for j in b0..<b1 {
                        let i = f[j]
                        if o[Int(i)] == 3 { f[sharedEndB] = i; sharedEndB += 1 } else { pool.append(i) }
                    }
                    for j in a0..<sharedEndA { o[Int(f[j])] = 0 }
                    for i in pool { o[Int(i)] = 0 }
                    guard onlyA > 0 && onlyA < pool.count else {
                        // Nothing to trade: put the pool back where it was.
                        for (k, i) in pool[..<onlyA].enumerated() { f[sharedEndA + k] = i }
                        for (k, i) in pool[onlyA...].enumerated() { f[sharedEndB + k] = i }
                        return
                    }
                    // Only which inputs go to a matters, not their order: a uniform subset of the smaller of the
                    // two sizes (a partial Fisher–Yates shuffle) costs that many draws instead of the whole pool's.
                    let onlyB = pool.count - onlyA, chosen = min(onlyA, onlyB)
                    for k in 0..<chosen { pool.swapAt(k, k + s.nextInt(below: pool.count - k)) }
                    let toA = chosen == onlyA ? 0 : chosen, toB = chosen == onlyA ? chosen : 0
                    for k in 0..<onlyA { f[sharedEndA + k] = pool[toA + k] }
                    for k in 0..<onlyB { f[sharedEndB + k] = pool[toB + k] }
                }
            }
        }
        return ConnectivityMask(fanIn: mask.fanIn, receptiveFields: (0..<units).map { n in
            flat[offsets[n]..<offsets[n + 1]].map { Int($0) }
        })
    }
}
