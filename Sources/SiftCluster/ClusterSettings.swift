import Foundation
import SiftStore
import SiftConfig
import SiftWire

/// Liveness and retry settings shared by the coordinator and its workers.
package struct ClusterSettings: Sendable {
    /// Seconds between heartbeats, both ways.
    package var heartbeatInterval: Double = 1
    /// Missed heartbeats after which a peer is declared dead.
    package var liveness: Int = 5
    /// Failures of each kind before a task is marked failed.
    package var retryLimits = RetryLimits()
    /// Failures on its host in a row after which a worker is set aside (given no task for a while).
    package var setAsideAfter: Int = 2
    /// How long a worker is first set aside; each later time doubles it, up to an hour.
    package var setAsideSeconds: Double = 300
    /// The largest frame a worker may send the coordinator (libzmq drops the peer past it, unread).
    /// A sweep sets it from its largest layer; the default is the wire's own ceiling.
    package var maximumFrameBytes: Int = WireMessage.maxBytes
    /// The largest whole message the coordinator reads; the parts past it are read and dropped unkept.
    package var maximumMessageBytes: Int = WireMessage.maxBytes
    /// A training whose step counter has not moved for this many of its own step times is hung…
    package var hungAfterSteps: Double = 100
    /// …but never sooner than this many seconds.
    package var hungAfterSeconds: Double = 300
    /// Whether the leases a restarted coordinator finds in its store wait `rejoinSeconds` for their workers,
    /// which may still be training (remote workers). `sift run` turns it off: its workers end with it.
    package var leasesOutliveRestart = true
    /// Identifies the engine build; workers of another build are refused. The cluster does not know the
    /// engine: the command line passes `SiftBuild.identifier` (SiftLevels), tests any name.
    package var build: String

    package init(build: String) {
        self.build = build
    }

    /// How long a peer may stay silent before it counts as gone: the coordinator buries a silent worker, and a
    /// worker reconnects to (or, stopping, gives up on) a silent coordinator.
    package var silenceSeconds: Double { heartbeatInterval * Double(liveness) }

    /// How long a lease lasts without a heartbeat from its worker: as long as the worker may stay silent.
    package var leaseSeconds: Double { silenceSeconds }

    /// What the coordinator's ROUTER socket takes of one message: a message's frames after the routing id the
    /// socket puts first, and the bytes of the largest message.
    package var receiveLimits: (frames: Int, bytes: Int) { (WireMessage.maxFrames + 1, maximumMessageBytes) }

    /// The longest a worker waits between attempts to reach a silent coordinator (its backoff doubles from 1 s).
    package static let maximumReconnectBackoff: Double = 32

    /// How long after a coordinator starts every live worker has rejoined it: the silence that tells a
    /// worker to reconnect, then its longest backoff. Until then the workers it knows are not all there are.
    package var rejoinSeconds: Double { leaseSeconds + Self.maximumReconnectBackoff }
}
