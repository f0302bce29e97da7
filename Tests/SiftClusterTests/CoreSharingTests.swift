import SiftCluster
import Testing

/// `sift run`'s share of the cores when neither --workers nor --threads is given.
@Suite struct CoreSharingTests {
    @Test func oneChainGetsEveryCoreAndManyChainsOneEach() {
        #expect(CoreSharing.plan(cores: 2, openChains: 1) == (1, 2), "the quickstart: one chain, both cores")
        #expect(CoreSharing.plan(cores: 16, openChains: 3) == (3, 5))
        #expect(CoreSharing.plan(cores: 2, openChains: 12) == (2, 1), "a sweep of many chains: a single-threaded worker per core")
        #expect(CoreSharing.plan(cores: 4, openChains: 0) == (1, 4), "a finished sweep still starts one worker, which hears it is done")
    }
}
