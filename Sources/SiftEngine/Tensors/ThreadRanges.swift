import Dispatch
import SiftMetrics

/// Runs a pass over independent items (units, columns, entries) on the engine's threads, cut into one
/// contiguous range per thread. Every item's arithmetic is the same whichever range holds it, so the bits
/// do not depend on the thread count; only passes with that property may use it.
enum ThreadRanges {
    /// Work (floats touched, or multiply-adds) a range must get to repay waking a thread: about 40 µs of one
    /// core's streaming. Below it the pass runs on the calling thread alone, so a small network (784-512-10 at
    /// batch 128: 65,536 floats a pass) keeps its single-threaded speed.
    static let minimumWorkPerRange = 1 << 17

    /// Calls `body` on `0..<items` cut into at most `threads` ranges, concurrently, each range starting on a
    /// multiple of `alignment` (the C kernels take eight units or floats as one vector) and getting at least
    /// `minimumWork` of the pass's `work`.
    static func run(
        items: Int, work: Int, threads: Int = BLAS.threads, alignment: Int = 8,
        minimumWork: Int = minimumWorkPerRange, _ body: (Range<Int>) -> Void
    ) {
        let groups = (items + alignment - 1) / alignment
        let ranges = min(threads, groups, work / max(minimumWork, 1))
        guard ranges > 1 else { return body(0..<items) }
        withoutActuallyEscaping(body) { body in
            // The ranges are disjoint, and each writes only its own items.
            let body = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: ranges) { part in
                let first = min(items, groups * part / ranges * alignment)
                let end = min(items, groups * (part + 1) / ranges * alignment)
                body.value(first..<end)
            }
        }
    }

    /// `run` over `count` floats of one elementwise pass, each range handed as (offset, count).
    static func elementwise(_ count: Int, _ body: (Int, Int) -> Void) {
        run(items: count, work: count) { body($0.lowerBound, $0.count) }
    }
}
