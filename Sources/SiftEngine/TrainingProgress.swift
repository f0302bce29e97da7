import Foundation

/// A level's progress, written by the trainer after every step and read from other threads (a worker's
/// heartbeat, a progress display). One lock and a few stores per step: far below a step's cost.
public final class TrainingProgress: @unchecked Sendable {
    public enum Phase: String, Codable, Sendable {
        /// Loading data or building the network: no step counter yet.
        case preparing
        case training
        /// Training is over; the level's masks, maps and ablation are being measured.
        case measuring
    }

    public struct Snapshot: Sendable, Equatable {
        public var phase: Phase
        public var level: Int
        public var step: Int
        public var steps: Int
        public var epoch: Int
        public var epochs: Int
        /// The last batch loss (finite only).
        public var loss: Double?
        /// Mean over the level so far.
        public var stepsPerSecond: Double?
        /// When the step counter last moved (or the phase last changed).
        public var lastChange: Date
    }

    private let lock = NSLock()
    private var state: Snapshot
    private var trainingStarted: Date?
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
        state = Snapshot(phase: .preparing, level: 0, step: 0, steps: 0, epoch: 0, epochs: 0, loss: nil, stepsPerSecond: nil,
                         lastChange: clock())
    }

    public var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return state
    }

    func began(level: Int, steps: Int, epochs: Int) {
        let now = clock()
        lock.lock()
        state = Snapshot(phase: .training, level: level, step: 0, steps: steps, epoch: epochs > 0 ? 1 : 0, epochs: epochs,
                         loss: nil, stepsPerSecond: nil, lastChange: now)
        trainingStarted = now
        lock.unlock()
    }

    func stepped(_ step: Int, epoch: Int, loss: Double) {
        let now = clock()
        lock.lock()
        state.step = step
        state.epoch = epoch
        if loss.isFinite { state.loss = loss }
        if let started = trainingStarted, now > started { state.stepsPerSecond = Double(step) / now.timeIntervalSince(started) }
        state.lastChange = now
        lock.unlock()
    }

    func measuring() {
        let now = clock()
        lock.lock()
        state.phase = .measuring
        state.lastChange = now
        lock.unlock()
    }
}
