import SiftRandom

/// Random masks with exactly the real mask's in-degrees k_n and out-degrees o_i (science §6.4),
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
        var owner = [UInt8](repeating: 0, count: mask.fanIn)  // 1: a has it, 2: b has it, 3: both
        var pool = [Int32](repeating: 0, count: 2 * (fields.map(\.count).max() ?? 0))
        var s = stream
        // Buffers taken once for all trades: a trade is a few short loops, which Array's per-call
        // bookkeeping (appends, uniqueness checks) would otherwise dominate.
        flat.withUnsafeMutableBufferPointer { f in
            owner.withUnsafeMutableBufferPointer { o in
                pool.withUnsafeMutableBufferPointer { pool in
                    for _ in 0..<(trades ?? defaultTrades(units: units)) {
                        let a = s.nextInt(below: units)
                        var b = s.nextInt(below: units - 1)
                        if b >= a { b += 1 }
                        trade(
                            f, from: offsets[a]..<offsets[a + 1], and: offsets[b]..<offsets[b + 1], owner: o,
                            pool: pool,
                            stream: &s)
                    }
                }
            }
        }
        return ConnectivityMask(
            fanIn: mask.fanIn,
            receptiveFields: (0..<units).map { n in
                flat[offsets[n]..<offsets[n + 1]].map { Int($0) }
            })
    }

    /// One trade between the units whose inputs are `f[sliceA]` and `f[sliceB]`. `owner` is all zero before
    /// and after; `pool` holds both slices.
    @inline(__always)
    private static func trade(
        _ f: UnsafeMutableBufferPointer<Int32>, from sliceA: Range<Int>, and sliceB: Range<Int>,
        owner o: UnsafeMutableBufferPointer<UInt8>, pool: UnsafeMutableBufferPointer<Int32>,
        stream s: inout RandomStream
    ) {
        for j in sliceA { o[Int(f[j])] |= 1 }
        for j in sliceB { o[Int(f[j])] |= 2 }
        // Shared inputs move to the front of each slice; the rest go to the pool. Whether an input is shared
        // is a coin flip to the branch predictor, so each goes to both places and only one count moves on:
        // a slot written in vain lies at or past its slice's shared end, which is written again below.
        var pooled = 0
        func split(_ slice: Range<Int>) -> Int {
            var sharedEnd = slice.lowerBound
            for j in slice {
                let i = f[j], shared = o[Int(i)] == 3 ? 1 : 0
                f[sharedEnd] = i
                pool[pooled] = i
                sharedEnd += shared
                pooled += 1 - shared
            }
            return sharedEnd
        }
        let sharedEndA = split(sliceA), onlyA = pooled
        let sharedEndB = split(sliceB)
        for j in sliceA.lowerBound..<sharedEndA { o[Int(f[j])] = 0 }
        for k in 0..<pooled { o[Int(pool[k])] = 0 }
        let onlyB = pooled - onlyA
        // With nothing to trade the pool goes back where it was; otherwise only which inputs go to a matters,
        // not their order: a uniform subset of the smaller of the two sizes (a partial Fisher–Yates shuffle)
        // costs that many draws instead of the whole pool's.
        var (toA, toB) = (0, onlyA)
        if onlyA > 0 && onlyB > 0 {
            let chosen = min(onlyA, onlyB)
            for k in 0..<chosen { pool.swapAt(k, k + s.nextInt(below: pooled - k)) }
            (toA, toB) = chosen == onlyA ? (0, chosen) : (chosen, 0)
        }
        for k in 0..<onlyA { f[sharedEndA + k] = pool[toA + k] }
        for k in 0..<onlyB { f[sharedEndB + k] = pool[toB + k] }
    }
}
