@testable import SiftCluster
import Testing

/// What a sweep's ETA costs each waiting level at: its own depth's measured time, else the running levels'
/// rate, else the deepest shallower depth measured, which makes the ETA an upper bound, and says so.
@Suite struct SweepEstimateTests {
    @Test func levelsDeeperThanAnyMeasuredMakeTheETAAnUpperBound() throws {
        let estimate = SweepEstimate(measured: [0: 300, 1: 200], running: [])
        #expect(estimate.cost(ofLevel: 1)?.seconds == 200 && estimate.cost(ofLevel: 1)?.fromShallower == false)
        let deeper = try #require(estimate.cost(ofLevel: 7))
        #expect(deeper.seconds == 200 && deeper.fromShallower, "level 7 costed as level 1, the deepest measured")
        let onlyDeep = SweepEstimate(measured: [3: 50], running: [])
        #expect(
            onlyDeep.cost(ofLevel: 0)?.fromShallower == false, "costed from a deeper level: a lower bound, not flagged")
        #expect(SweepEstimate(measured: [:], running: []).cost(ofLevel: 0) == nil)
    }
}
