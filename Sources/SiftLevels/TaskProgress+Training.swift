import Foundation
import SiftEngine
import SiftWire

extension TaskProgress {
    /// A training's progress as heartbeats and progress lines report it, `now` on the trainer's clock.
    package init(_ snapshot: TrainingProgress.Snapshot, now: Date) {
        let phase: Phase =
            switch snapshot.phase {
            case .preparing: .preparing
            case .training: .training
            case .measuring: .measuring
            }
        self.init(
            phase: phase, step: snapshot.step, steps: snapshot.steps, epoch: snapshot.epoch,
            epochs: snapshot.epochs, loss: snapshot.loss, stepsPerSecond: snapshot.stepsPerSecond,
            secondsSinceChange: now.timeIntervalSince(snapshot.lastChange))
    }
}
