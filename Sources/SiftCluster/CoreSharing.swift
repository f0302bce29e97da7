/// How many local workers `sift run` starts when the user does not say: one per chain that still has levels
/// to run, up to one per core. A chain's levels run one after another, so a second worker on a one-chain
/// sweep would only wait; its core goes to the running worker instead, as a thread (`--threads auto`, the
/// default of `sift run`, and `NodeCores`), which changes nothing but the time, since the bytes do not depend
/// on the thread count. A sweep of many chains keeps one single-threaded worker per core, which small
/// networks use best, until it drains.
package enum CoreSharing {
    package static func workers(cores: Int, openChains: Int) -> Int {
        max(1, min(cores, openChains))
    }
}
