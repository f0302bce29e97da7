import Foundation
import SiftStore
import SiftConfig
import SiftWire

/// How long a sweep has left, from what its levels measurably cost.
///
/// Levels at lower density train faster, so each level is costed by the mean time of finished levels
/// at the same depth, else of the running ones (their steps at their measured rate), else of the
/// nearest depth measured, shallower first (an overestimate, since deeper levels are sparser).
/// Chains run their levels one after another: the sweep needs at least its longest chain's time,
/// and at least its total work spread over the workers.
struct SweepEstimate {
    let measured: [Int: Double]

    init(measured: [Int: Double], running: [(level: Int, progress: TaskProgress)]) {
        var costs = measured
        for (level, progress) in running where costs[level] == nil {
            if let rate = progress.stepsPerSecond, rate > 0, progress.steps > 0 {
                costs[level] = Double(progress.steps) / rate
            }
        }
        self.measured = costs
    }

    /// A level's cost, and whether it was taken from a shallower depth (so likely too high).
    func cost(ofLevel level: Int) -> (seconds: Double, fromShallower: Bool)? {
        if let known = measured[level] { return (known, false) }
        let shallower = measured.keys.filter { $0 < level }.max(), deeper = measured.keys.filter { $0 > level }.min()
        if let shallower, let seconds = measured[shallower] { return (seconds, true) }
        return deeper.flatMap { measured[$0] }.map { ($0, false) }
    }

    /// Seconds until `pending` are all settled by `workers` workers, and whether that is an upper bound
    /// (some levels costed as a shallower, denser depth); `progress` says how far running ones are.
    func secondsLeft(
        pending: [TaskRecord], progress: [String: TaskProgress],
        workers: Int
    ) -> (seconds: Double, upperBound: Bool)? {
        guard !pending.isEmpty else { return (0, false) }
        var total = 0.0, upperBound = false
        var chains: [String: Double] = [:]
        for task in pending {
            guard let cost = cost(ofLevel: task.level) else { return nil }
            upperBound = upperBound || cost.fromShallower
            let left = progress[task.id].map { cost.seconds * (1 - $0.fraction) } ?? cost.seconds
            total += left
            chains["\(task.experiment)/\(task.seed)", default: 0] += left
        }
        return (max(total / Double(max(workers, 1)), chains.values.max() ?? 0), upperBound)
    }
}
