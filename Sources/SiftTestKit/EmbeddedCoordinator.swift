import Foundation
import Logging
import SiftCluster
import SiftStore
import SiftWire

/// A coordinator core served by hand, like swift-nio's `EmbeddedEventLoop`: what peers send waits in a queue
/// until the test calls `turn()`, replies land in each peer's mailbox at once, results are written inline
/// (or held until the test lets them through), and the time is whatever the test sets. No socket, thread or
/// sleep: the failure-policy tests drive the lease, retry, set-aside and watchdog logic through it.
package final class EmbeddedCoordinator {
    package var core: CoordinatorCore
    package let store: TaskStore
    package let settings: ClusterSettings
    /// The time the core sees; only the test moves it.
    package let clock: ManualClock
    /// While true, results taken in stay unwritten (as on a slow disk): the core goes on serving meanwhile.
    package var holdWrites = false
    private let log: Logger
    private let writeFiles: ResultOutcome.Store
    private let prepare: CoordinatorCore.Prepare
    private var inbound: [ReceivedMessage] = []
    private var mailboxes: [[UInt8]: [[[UInt8]]]] = [:]
    private var unwritten: [(job: ResultJob, attachments: [[UInt8]])] = []
    private var connections = 0

    package init(
        store: TaskStore, settings: ClusterSettings, log: Logger,
        onResult: @escaping ResultOutcome.Store = { _, _, _ in .continues },
        clock: ManualClock = ManualClock(),
        prepare: @escaping CoordinatorCore.Prepare = CoordinatorCore.asRecorded
    ) throws {
        self.clock = clock
        self.store = store
        self.settings = settings
        self.log = log
        writeFiles = onResult
        self.prepare = prepare
        core = try Self.core(store: store, settings: settings, log: log, clock: clock, prepare: prepare)
    }

    private static func core(
        store: TaskStore, settings: ClusterSettings, log: Logger, clock: ManualClock,
        prepare: @escaping CoordinatorCore.Prepare
    ) throws -> CoordinatorCore {
        try CoordinatorCore(store: store, settings: settings, log: log, clock: { clock.now }, prepare: prepare)
    }

    /// A new core on the same store, as after a SIGKILL and restart: every connection is gone with the old one,
    /// and so are results it had not written.
    package func restart() throws {
        mailboxes = [:]
        inbound = []
        unwritten = []
        core = try Self.core(store: store, settings: settings, log: log, clock: clock, prepare: prepare)
    }

    /// A new connection, as a DEALER socket connecting makes one.
    package func connect() -> EmbeddedLink {
        connections += 1
        let identity = withUnsafeBytes(of: UInt32(connections).bigEndian) { [0] + Array($0) }
        mailboxes[identity] = []
        return EmbeddedLink(coordinator: self, identity: identity)
    }

    /// Turns the core until every result taken in is written and recorded (unless writes are held); returns
    /// whether the sweep finished.
    @discardableResult
    package func turn() throws -> Bool {
        var finished = try step()
        while !unwritten.isEmpty && !holdWrites { finished = try step() || finished }
        return finished
    }

    private func step() throws -> Bool {
        var written: [(job: ResultJob, outcome: ResultOutcome)] = []
        if !holdWrites {
            written = unwritten.map {
                ($0.job, ResultOutcome(checking: $0.job, attachments: $0.attachments, store: writeFiles))
            }
            unwritten = []
        }
        let received = inbound
        inbound = []
        let turn = try core.turn(received: received, written: written) { [self] message, identity in
            guard mailboxes[identity] != nil else { return false }
            mailboxes[identity]?.append(message.frames)
            return true
        }
        unwritten += turn.submissions
        return turn.finished
    }

    fileprivate func deliver(_ frames: [[UInt8]], from identity: [UInt8]) {
        // A connection of a coordinator since restarted reaches nobody.
        guard mailboxes[identity] != nil else { return }
        // Taken in as the ROUTER socket takes it, routing id first, within the coordinator's limits.
        let limits = settings.receiveLimits
        var received = ReceivedMessage(maxFrames: limits.frames, maxBytes: limits.bytes)
        for part in [identity] + frames { received.take(size: part.count) { _ in part } }
        inbound.append(received)
    }

    fileprivate func take(for identity: [UInt8]) -> [[UInt8]]? {
        guard let first = mailboxes[identity]?.first else { return nil }
        mailboxes[identity]?.removeFirst()
        return first
    }
}

/// One connection to an `EmbeddedCoordinator`.
package struct EmbeddedLink: PeerLink {
    let coordinator: EmbeddedCoordinator
    let identity: [UInt8]

    package func send(_ frames: [[UInt8]]) throws { coordinator.deliver(frames, from: identity) }

    package func receive(timeout: Int) throws -> [[UInt8]]? { coordinator.take(for: identity) }
}

/// A clock that stands still until the test moves it.
package final class ManualClock: @unchecked Sendable {
    package var now = Date(timeIntervalSince1970: 1_800_000_000)

    package init() {}

    package func advance(_ seconds: Double) { now = now.addingTimeInterval(seconds) }
}
