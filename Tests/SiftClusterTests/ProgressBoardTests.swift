import Foundation
import SiftCluster
import SiftWire
import Testing

@Suite struct ProgressBoardTests {
    /// A worker reads its task's board on every turn of its loop, hundreds of times a second for as long as a
    /// level trains. Reading must cost the same the millionth time as the first: with the reader stored as a
    /// bare closure, each read wrapped it once more and a long level's worker died of a stack overflow.
    @Test func aBoardReadForHoursStillAnswers() {
        let board = ProgressBoard()
        #expect(board.read(now: Date()) == nil, "nothing to say before the task points it anywhere")
        board.follow { now in
            TaskProgress(
                phase: .training, step: 7, steps: 10, epoch: 1, epochs: 1, loss: 0.5, stepsPerSecond: 3,
                secondsSinceChange: now.timeIntervalSince1970)
        }
        let now = Date(timeIntervalSince1970: 42)
        var answered = 0
        // About an hour of a worker's loop.
        for _ in 0..<1_000_000 where board.read(now: now)?.step == 7 { answered += 1 }
        #expect(answered == 1_000_000)
        #expect(board.read(now: now)?.secondsSinceChange == 42)
    }
}
