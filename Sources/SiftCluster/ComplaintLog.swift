import Foundation
import Synchronization

/// Lines about what peers send wrong (malformed messages, refusals, results for leases they do not hold),
/// bounded however fast they come: a peer on the port without a key could otherwise fill the disk with them.
/// In each interval the first complaint about a peer is logged whole, for at most `peersPerInterval` peers;
/// the rest are counted, and when the interval ends each of those peers gets one summary line, and the peers
/// past the cap one line together. So an interval logs at most 2 × `peersPerInterval` + 1 lines.
///
/// Pure: the caller passes the time, so tests drive it without sleeping.
struct ComplaintTally {
    let interval: TimeInterval
    let peersPerInterval: Int
    private var start: Date?
    /// Peers whose first complaint of this interval was logged: how many more came since, and the last.
    private var logged: [String: (more: Int, last: String)] = [:]
    /// Complaints about peers past the cap, and how many such peers (counted up to a bound).
    private var unlisted = 0
    private var unlistedPeers: Set<String> = []
    private static let peersCounted = 10_000

    init(interval: TimeInterval = 10, peersPerInterval: Int = 20) {
        self.interval = interval
        self.peersPerInterval = peersPerInterval
    }

    /// The lines to log now for a complaint about `peer`: the summary of an interval that has ended, if any,
    /// then this complaint if it is the first about its peer in this interval and the cap allows.
    mutating func admit(_ peer: String, _ line: String, now: Date) -> [String] {
        var lines = roll(now: now)
        if let entry = logged[peer] {
            logged[peer] = (entry.more + 1, line)
        } else if logged.count < peersPerInterval {
            logged[peer] = (0, line)
            lines.append(line)
        } else {
            unlisted += 1
            if unlistedPeers.count < Self.peersCounted { unlistedPeers.insert(peer) }
        }
        return lines
    }

    /// Once the interval has ended, the summary lines of what was counted and not logged; a new interval starts.
    mutating func roll(now: Date) -> [String] {
        guard let start else {
            self.start = now
            return []
        }
        guard now.timeIntervalSince(start) >= interval else { return [] }
        let seconds = Int(now.timeIntervalSince(start).rounded())
        var lines = logged.filter { $0.value.more > 0 }.sorted { $0.key < $1.key }.map { peer, entry in
            "\(peer): \(entry.more) more like this in the last \(seconds) s, not logged one by one; the last: \(entry.last)"
        }
        if unlisted > 0 {
            let peers = unlistedPeers.count < Self.peersCounted ? "\(unlistedPeers.count)" : "\(Self.peersCounted)+"
            lines.append(
                "\(unlisted) more complaints about \(peers) other peers in the last \(seconds) s, not logged one by one"
            )
        }
        self.start = now
        logged = [:]
        unlisted = 0
        unlistedPeers = []
        return lines
    }
}

/// A `ComplaintTally` shared between the coordinator's loop and the CURVE handler's callback.
package final class ComplaintLog: Sendable {
    private let tally: Mutex<ComplaintTally>

    package convenience init() { self.init(ComplaintTally()) }

    init(_ tally: ComplaintTally) {
        self.tally = Mutex(tally)
    }

    func admit(_ peer: String, _ line: String, now: Date) -> [String] {
        tally.withLock { $0.admit(peer, line, now: now) }
    }

    func roll(now: Date) -> [String] {
        tally.withLock { $0.roll(now: now) }
    }
}
