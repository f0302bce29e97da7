/// How `sift run` shares a machine's cores between local workers when the user sets neither `--workers`
/// nor `--threads`: one worker per chain that still has levels to run, up to one per core, and the cores
/// left over as threads, shared evenly. A chain's levels run one after another, so a second worker on a
/// one-chain sweep would only wait; since the bytes do not depend on the thread count, giving it the
/// idle core as a thread changes nothing but the time. A sweep of many chains keeps one single-threaded
/// worker per core, which small networks use best.
public enum CoreSharing {
    public static func plan(cores: Int, openChains: Int) -> (workers: Int, threads: Int) {
        let workers = max(1, min(cores, openChains))
        return (workers, max(1, cores / workers))
    }
}
