import Foundation

/// Liveness and retry settings shared by the coordinator and its workers.
public struct ClusterSettings: Sendable {
    /// Seconds between heartbeats, both ways.
    public var heartbeatInterval: Double = 1
    /// Missed heartbeats after which a peer is declared dead.
    public var liveness: Int = 5
    /// Attempts before a task is marked failed.
    public var maxAttempts: Int = 3
    /// Identifies the engine build; workers of another build are refused.
    public var build: String = SiftBuild.identifier

    public init() {}

    /// How long a lease lasts without a heartbeat from its worker.
    public var leaseSeconds: Double { heartbeatInterval * Double(liveness) }
}

/// The engine build a worker must match: results are only byte-identical within one build.
public enum SiftBuild {
    public static let version = "0.1.0"
    public static let identifier = "sift-\(version)-wire\(1)"
}
