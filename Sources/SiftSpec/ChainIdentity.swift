import SiftRandom

/// Who a chain is: the experiment's hash, the key of its random streams, and the seed.
public struct ChainIdentity: Sendable {
    /// The experiment's hash, as written into metrics.json.
    public var experiment: String
    /// Root of every random stream. Controls share it with their IMP experiment, so level 0 is the same network.
    public var streamRoot: UInt64
    public var seed: UInt64

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(experiment: String, streamRoot: UInt64, seed: UInt64) {
        self.experiment = experiment
        self.streamRoot = streamRoot
        self.seed = seed
    }

    public func stream(_ purpose: String) -> RandomStream {
        RandomStream(root: streamRoot, seed: seed, purpose: purpose)
    }
}
