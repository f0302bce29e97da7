import Foundation
import Synchronization

/// A level's progress, written by the trainer after every step and read from other threads (a worker's
/// heartbeat, a progress display). One lock and a few stores per step: far below a step's cost.
public final class TrainingProgress: Sendable {
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

    private struct State {
        var snapshot: Snapshot
        var trainingStarted: Date?
    }

    private let state: Mutex<State>
    private let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
        state = Mutex(
            State(
                snapshot: Snapshot(
                    phase: .preparing, level: 0, step: 0, steps: 0, epoch: 0, epochs: 0, loss: nil,
                    stepsPerSecond: nil, lastChange: clock())))
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    func began(level: Int, steps: Int, epochs: Int) {
        let now = clock()
        state.withLock {
            $0 = State(
                snapshot: Snapshot(
                    phase: .training, level: level, step: 0, steps: steps, epoch: epochs > 0 ? 1 : 0,
                    epochs: epochs, loss: nil, stepsPerSecond: nil, lastChange: now),
                trainingStarted: now)
        }
    }

    func stepped(_ step: Int, epoch: Int, loss: Double) {
        let now = clock()
        state.withLock {
            $0.snapshot.step = step
            $0.snapshot.epoch = epoch
            if loss.isFinite { $0.snapshot.loss = loss }
            if let started = $0.trainingStarted, now > started {
                $0.snapshot.stepsPerSecond = Double(step) / now.timeIntervalSince(started)
            }
            $0.snapshot.lastChange = now
        }
    }

    func measuring() {
        let now = clock()
        state.withLock {
            $0.snapshot.phase = .measuring
            $0.snapshot.lastChange = now
        }
    }
}
