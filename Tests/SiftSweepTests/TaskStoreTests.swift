import Foundation
import SiftSweep
import SiftTestKit
import Testing

@Suite struct TaskStoreTests {
    /// Two chains of three levels: level k needs level k−1.
    func plan() -> [PlannedTask] {
        (0..<2).flatMap { seed in
            (0..<3).map { level in
                PlannedTask(id: "e/\(seed)/\(level)", experiment: "e", seed: UInt64(seed), level: level, kind: "sleep",
                            parameters: "{}", dependsOn: level > 0 ? ["e/\(seed)/\(level - 1)"] : [])
            }
        }
    }

    func open(_ dir: TemporaryDirectory) throws -> TaskStore {
        let store = try TaskStore(path: dir.file("sweep.sqlite"))
        try store.add(plan())
        return store
    }

    @Test func dependenciesReleaseLevelByLevel() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        #expect(try store.counts() == [.queued: 2, .blocked: 4])
        let first = try #require(try store.leaseNext(worker: "w1", leaseSeconds: 5))
        #expect(first.level == 0 && first.attempts == 1 && first.state == .leased)
        #expect(try store.complete(task: first.id, attempt: 1, digest: "d", summary: "{}") == .recorded)
        #expect(try store.task("e/\(first.seed)/1")?.state == .queued)
        #expect(try store.complete(task: first.id, attempt: 1, digest: "d", summary: "{}") == .duplicate)
        #expect(try store.complete(task: "nope", attempt: 1, digest: "d", summary: "{}") == .unknownTask)
    }

    @Test func expiredLeasesRequeueAndLateResultsAreIgnored() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let start = Date()
        let task = try #require(try store.leaseNext(worker: "slow", leaseSeconds: 5, now: start))
        try store.renew(task: task.id, attempt: 1, leaseSeconds: 5, now: start.addingTimeInterval(4))
        #expect(try store.expireLeases(maxAttempts: 3, now: start.addingTimeInterval(8)).isEmpty, "the heartbeat renewed the lease")
        #expect(try store.expireLeases(maxAttempts: 3, now: start.addingTimeInterval(10)) == [task.id])
        let again = try #require(try store.leaseNext(worker: "fast", leaseSeconds: 5, now: start.addingTimeInterval(10)))
        #expect(again.id == task.id && again.attempts == 2)
        #expect(try store.complete(task: task.id, attempt: 1, digest: "late", summary: "{}") == .stale)
        #expect(try store.complete(task: task.id, attempt: 2, digest: "d", summary: "{}") == .recorded)
        #expect(try store.task(task.id)?.digest == "d")
    }

    @Test func repeatedFailuresFailTheTaskAndSkipItsDependants() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        for attempt in 1...3 {
            let task = try #require(try store.leaseNext(worker: "w", leaseSeconds: 5))
            #expect(task.id == "e/0/0" && task.attempts == attempt)
            try store.fail(task: task.id, attempt: attempt, error: "boom \(attempt)", maxAttempts: 3)
        }
        let failed = try store.tasks(in: .failed)
        #expect(failed.map(\.id) == ["e/0/0"] && failed[0].error == "boom 3")
        #expect(try store.tasks(in: .skipped).map(\.id) == ["e/0/1", "e/0/2"])
        // The other chain goes on.
        #expect(try store.leaseNext(worker: "w", leaseSeconds: 5)?.id == "e/1/0")
        #expect(try !store.isFinished())
    }

    @Test func workersAreRecordedForStatus() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let seen = Date(timeIntervalSince1970: 1_700_000_000)
        try store.recordWorkers([TaskStore.WorkerRow(name: "a:1", cores: 4, task: "e/0/0", lastSeen: seen, alive: true),
                                 TaskStore.WorkerRow(name: "b:2", cores: 2, task: nil, lastSeen: seen, alive: true)])
        try store.recordWorkers([TaskStore.WorkerRow(name: "b:2", cores: 2, task: "e/1/0", lastSeen: seen, alive: true)])
        let workers = try store.workers()
        #expect(workers.map(\.name) == ["b:2", "a:1"])
        #expect(workers[0].alive && workers[0].task == "e/1/0")
        #expect(!workers[1].alive && workers[1].task == nil)
    }

    @Test func aReopenedStoreKeepsEverythingAndFreesLeases() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try open(dir)
            let done = try #require(try store.leaseNext(worker: "w", leaseSeconds: 5))
            _ = try store.complete(task: done.id, attempt: 1, digest: "d", summary: "{}")
            _ = try store.leaseNext(worker: "w", leaseSeconds: 5)
        }
        let reopened = try open(dir)
        #expect(try reopened.counts()[.done] == 1)
        #expect(try reopened.releaseAllLeases() == 1)
        #expect(try reopened.counts() == [.done: 1, .queued: 2, .blocked: 3])
        #expect(try reopened.task("e/1/0")?.attempts == 1, "the attempt count survives the restart")
    }
}
