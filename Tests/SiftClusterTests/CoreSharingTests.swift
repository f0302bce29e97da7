@testable import SiftCluster
import Foundation
import SiftTestKit
import Testing

/// How local workers share a node's cores: `sift run` starts one worker per open chain up to the cores, and
/// `--threads auto` gives each worker running a level its share of the cores among those running one.
@Suite struct CoreSharingTests {
    @Test func oneWorkerPerOpenChainUpToTheCores() {
        #expect(CoreSharing.workers(cores: 2, openChains: 1) == 1, "the quickstart: one chain, one worker")
        #expect(CoreSharing.workers(cores: 16, openChains: 3) == 3)
        #expect(CoreSharing.workers(cores: 2, openChains: 12) == 2, "a sweep of many chains: a worker per core")
        #expect(
            CoreSharing.workers(cores: 4, openChains: 0) == 1,
            "a finished sweep still starts one worker, which hears it is done")
    }

    @Test func busyWorkersSplitTheCoresEvenlyWithNoneLeftOver() {
        #expect(ThreadShare.threads(cores: 2, others: [], me: "7") == 2, "alone: every core")
        #expect(ThreadShare.threads(cores: 2, others: ["9"], me: "7") == 1)
        #expect(ThreadShare.threads(cores: 2, others: ["9", "11"], me: "7") == 1, "more workers than cores: one each")
        let split = ["5", "7", "11"].map { me in ThreadShare.threads(cores: 8, others: ["5", "7", "11"], me: me) }
        #expect(split == [3, 3, 2], "8 cores, 3 workers: the remainder to the lowest pids")
    }

    /// Real lock files: a worker that is running a level counts for the others, an idle one does not, and one
    /// whose process is gone has its file removed.
    @Test func workersRunningALevelAreCountedThroughTheirLocks() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let folder = dir.file("cores")
        let me = try NodeCores(folder: folder, cores: 4, pid: getpid())
        let other = try NodeCores(folder: folder, cores: 4, pid: getppid())
        #expect(me.threads() == 4, "the other worker is idle")
        other.working()
        #expect(me.otherBusyWorkers() == [String(getppid())])
        #expect(me.threads() == 2, "two workers running a level: two cores each")
        other.idle()
        #expect(me.threads() == 4, "the other worker went idle: its cores come back")
        let gone = Int32.max - 1  // no such process
        FileManager.default.createFile(atPath: "\(folder)/\(gone)", contents: nil)
        #expect(me.otherBusyWorkers().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/\(gone)"), "a gone worker's file is removed")
    }

    @Test func anUnwritableFolderIsNamedInTheError() throws {
        let error = #expect(throws: NodeCores.Unusable.self) { try NodeCores(folder: "/proc/sift-cores", cores: 2) }
        #expect(error?.description.contains("/proc/sift-cores") == true)
    }
}
