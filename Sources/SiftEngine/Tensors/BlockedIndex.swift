import CEngineKernels

/// One product's view of a masked layer's survivors: for each target unit, the source units whose
/// rows it sums, stored in segments (block of sources, target) with ascending sources inside.
///
/// A product walks the segments block by block, so it reads only one block's source rows at a
/// time (tens of kilobytes for a batch of 128, instead of the whole activation matrix), and they
/// stay in the nearest caches while every target visits them. Blocks are as small as they can be
/// while each target still finds about `entriesPerSegment` survivors in a block, which keeps loading
/// and storing its running sums cheap next to the products: 96 sources at 35 % density, 128 at 25 %.
/// Capping them at what fits the 32 KB L1 cache measured no faster. Sparse layers get fewer, larger
/// blocks, down to one (plain CSR/CSC).
final class BlockedIndex {
    let targets: Int
    let sourcesPerBlock: Int
    let blocks: Int
    /// Entries of segment s = block · targets + target are segmentStart[s]..<segmentStart[s + 1].
    let segmentStart: UnsafeMutablePointer<Int32>
    /// Each entry's source unit, followed by SIFT_INDEX_PADDING zeros for the kernels' look-ahead.
    let sourceOfEntry: UnsafeMutablePointer<Int32>

    /// Indexes `entries` survivors of a targets × sources layer. `survivors` calls its argument once
    /// per survivor with (target, source), in the same order on every call.
    init(targets: Int, sources: Int, entries: Int, survivors: ((Int, Int) -> Void) -> Void) {
        precondition(entries < Int(Int32.max), "layer too large for 32-bit sparse indices")
        self.targets = targets
        sourcesPerBlock = Self.sourcesPerBlock(
            sources: sources, density: Double(entries) / Double(max(targets * sources, 1)))
        blocks = max(1, (sources + sourcesPerBlock - 1) / sourcesPerBlock)
        let segments = blocks * targets
        segmentStart = .allocate(capacity: segments + 1)
        segmentStart.initialize(repeating: 0, count: segments + 1)
        survivors { [sourcesPerBlock, segmentStart] target, source in
            segmentStart[source / sourcesPerBlock * targets + target + 1] += 1
        }
        for s in 0..<segments { segmentStart[s + 1] += segmentStart[s] }
        precondition(Int(segmentStart[segments]) == entries, "survivor count does not match the mask")
        let padded = entries + Int(SIFT_INDEX_PADDING)
        sourceOfEntry = .allocate(capacity: padded)
        sourceOfEntry.initialize(repeating: 0, count: padded)
        var next = (0..<segments).map { Int(segmentStart[$0]) }
        survivors { [sourcesPerBlock, sourceOfEntry] target, source in
            let segment = source / sourcesPerBlock * targets + target
            sourceOfEntry[next[segment]] = Int32(source)
            next[segment] += 1
        }
    }

    deinit {
        segmentStart.deallocate()
        sourceOfEntry.deallocate()
    }

    /// Calls `body(entry, target, source)` for every entry.
    func forEachEntry(_ body: (Int, Int, Int) -> Void) {
        for segment in 0..<(blocks * targets) {
            let target = segment % targets
            for k in Int(segmentStart[segment])..<Int(segmentStart[segment + 1]) {
                body(k, target, Int(sourceOfEntry[k]))
            }
        }
    }

    /// Survivors a target should find in each block.
    static let entriesPerSegment = 24.0
    /// Blocks hold a multiple of this many sources.
    static let blockGranularity = 32

    static func sourcesPerBlock(sources: Int, density: Double) -> Int {
        guard density > 0 else { return max(sources, 1) }
        let wanted = Int((entriesPerSegment / density / Double(blockGranularity)).rounded(.up)) * blockGranularity
        return max(1, min(sources, max(blockGranularity, wanted)))
    }
}
