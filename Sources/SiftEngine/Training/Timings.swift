import Foundation

/// Wall-clock seconds of each call of a benchmark body, for figures that hold on a shared, noisy machine.
struct Timings {
    /// One entry per timed call, in order.
    let seconds: [Double]

    /// Times `repeats` calls of `body` (at least one), one by one, after `warmup` untimed calls.
    init(warmup: Int, repeats: Int, _ body: () -> Void) {
        for _ in 0..<warmup { body() }
        seconds = (0..<max(repeats, 1)).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }

    /// Timings already taken (at least one).
    init(seconds: [Double]) {
        precondition(!seconds.isEmpty, "timings need at least one call")
        self.seconds = seconds
    }

    var mean: Double { seconds.reduce(0, +) / Double(seconds.count) }

    var fastest: Double { seconds.min() ?? 0 }

    /// Of the runs of consecutive calls that last at least `span` seconds, each no longer than it needs
    /// to be, the lowest mean (or all calls' mean, when together they last less). Another process taking
    /// the core slows some stretches and not others, so the fastest one is the code's own speed; a span
    /// as long as the reference product keeps the two figures of a ratio taken alike.
    func fastestStretch(lasting span: Double) -> Double {
        var best = Double.infinity, sum = 0.0, first = 0
        for (last, duration) in seconds.enumerated() {
            sum += duration
            // Drop calls from the front while the stretch without them is still long enough.
            while first < last, sum - seconds[first] >= span {
                sum -= seconds[first]
                first += 1
            }
            if sum >= span { best = min(best, sum / Double(last - first + 1)) }
        }
        return best.isFinite ? best : mean
    }
}
