import SiftRandom
import SiftSpec
import Testing

/// Who a chain is decides its random streams, and nothing else does.
@Suite struct ChainIdentityTests {
    func draws(_ identity: ChainIdentity, _ purpose: String) -> [UInt64] {
        var stream = identity.stream(purpose)
        return (0..<8).map { _ in stream.nextUInt64() }
    }

    @Test func streamsAreFunctionsOfRootSeedAndPurpose() {
        let chain = ChainIdentity(experiment: "a1b2", streamRoot: 42, seed: 3)
        #expect(draws(chain, "init") == draws(chain, "init"), "the same chain draws the same numbers")
        #expect(draws(chain, "init") != draws(chain, "batch-order"), "each purpose has a stream of its own")
        #expect(draws(chain, "init") != draws(ChainIdentity(experiment: "a1b2", streamRoot: 42, seed: 4), "init"))
        #expect(draws(chain, "init") != draws(ChainIdentity(experiment: "a1b2", streamRoot: 43, seed: 3), "init"))
    }

    /// A control names another experiment but shares its IMP experiment's root: its level 0 is the same network.
    @Test func aControlSharingTheRootDrawsTheSameNetwork() {
        let imp = ChainIdentity(experiment: "imp", streamRoot: 7, seed: 0)
        let control = ChainIdentity(experiment: "random-control", streamRoot: 7, seed: 0)
        #expect(draws(imp, "init") == draws(control, "init"))
    }
}
