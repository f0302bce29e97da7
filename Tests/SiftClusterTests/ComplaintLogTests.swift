import Foundation
@testable import SiftCluster
import Testing

/// Complaints about peers are logged at a bounded rate, whatever the rate at which they come.
@Suite struct ComplaintLogTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func oneFloodingPeerCostsTwoLinesAnInterval() {
        var tally = ComplaintTally(interval: 10, peersPerInterval: 20)
        var lines: [String] = []
        for i in 0..<200_000 {
            lines += tally.admit(
                "peer 01", "dropped a message from peer 01: \(i)", now: start.addingTimeInterval(Double(i) / 40_000))
        }
        lines += tally.roll(now: start.addingTimeInterval(10))
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first == "dropped a message from peer 01: 0")
        #expect(
            lines.last
                == "peer 01: 199999 more like this in the last 10 s, not logged one by one; the last: dropped a message from peer 01: 199999"
        )
    }

    @Test func manyPeersAreCappedAndSummarisedTogether() {
        var tally = ComplaintTally(interval: 10, peersPerInterval: 20)
        var lines: [String] = []
        for i in 0..<50_000 {
            lines += tally.admit(
                "peer \(i % 5_000)", "refused peer \(i % 5_000)", now: start.addingTimeInterval(Double(i) / 10_000))
        }
        lines += tally.roll(now: start.addingTimeInterval(10))
        #expect(lines.count == 20 + 20 + 1, "first lines, their summaries, and one line for the rest")
        #expect(lines.last == "49800 more complaints about 4980 other peers in the last 10 s, not logged one by one")
        #expect(lines.reduce(0) { $0 + $1.utf8.count } < 8_000, "a few kB per interval")
    }

    @Test func aNewIntervalLogsAfresh() {
        var tally = ComplaintTally(interval: 10, peersPerInterval: 20)
        #expect(tally.admit("a", "one", now: start) == ["one"])
        #expect(tally.admit("a", "two", now: start.addingTimeInterval(1)) == [])
        #expect(
            tally.admit("a", "three", now: start.addingTimeInterval(11)) == [
                "a: 1 more like this in the last 11 s, not logged one by one; the last: two", "three",
            ])
        #expect(tally.roll(now: start.addingTimeInterval(30)) == [], "nothing held back: nothing to summarise")
    }
}
