import Foundation
import GRDB
import SiftStore
import SiftTestKit
import Testing

@Suite struct TaskStoreTests {
    /// Two chains of three levels: level k needs level k−1.
    func plan() -> [PlannedTask] {
        (0..<2).flatMap { seed in
            (0..<3).map { level in
                PlannedTask(
                    id: "e/\(seed)/\(level)", experiment: "e", seed: UInt64(seed), level: level, kind: "sleep",
                    parameters: "{}", dependsOn: level > 0 ? ["e/\(seed)/\(level - 1)"] : [])
            }
        }
    }

    /// The peer a test lease goes to: its name and a token of its own.
    func holder(_ worker: String) -> LeaseHolder { LeaseHolder(worker: worker, token: "token-\(worker)") }

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
        let first = try #require(try store.leaseNext(to: holder("w1"), leaseSeconds: 5))
        #expect(first.level == 0 && first.attempts == 1 && first.state == .leased)
        #expect(
            try store.complete(task: first.id, attempt: 1, from: holder("w1"), digest: "d", summary: "{}") == .recorded)
        #expect(try store.task("e/\(first.seed)/1")?.state == .queued)
        #expect(
            try store.complete(task: first.id, attempt: 1, from: holder("w1"), digest: "d", summary: "{}") == .duplicate
        )
        #expect(
            try store.complete(task: "nope", attempt: 1, from: holder("w1"), digest: "d", summary: "{}") == .unknownTask
        )
    }

    /// A finished level whose files are lost goes back to the queue, and every level derived from it waits
    /// for it again; the reason is kept.
    @Test func aLostLevelIsComputedAgainWithWhatFollowsIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        while let task = try store.leaseNext(to: holder("w1"), leaseSeconds: 5) {
            #expect(
                try store.complete(
                    task: task.id, attempt: task.attempts, from: holder("w1"), digest: "d", summary: "[]") == .recorded)
        }
        #expect(try store.counts() == [.done: 6])
        let sentBack = try store.transaction {
            try $0.recompute([(task: "e/0/1", reason: "its folder is missing")], now: Date())
        }
        #expect(Set(sentBack) == ["e/0/1", "e/0/2"])
        #expect(try store.task("e/0/1")?.state == .queued && store.task("e/0/2")?.state == .blocked)
        #expect(try store.task("e/0/1")?.summary == nil, "its old result is forgotten")
        #expect(try store.counts() == [.done: 4, .queued: 1, .blocked: 1])
        #expect(try store.recoveries().map(\.task) == ["e/0/1"])
        #expect(try store.transaction { try $0.recoveries(of: "e/0/1") } == 1)
    }

    @Test func aLostLeaseCostsNothingAndItsLateResultIsAccepted() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let limits = RetryLimits(hostFailures: 3, lostLeases: 8)
        let task = try #require(try store.leaseNext(to: holder("slow"), leaseSeconds: 5, now: start))
        try store.renew(task: task.id, attempt: 1, leaseSeconds: 5, now: start.addingTimeInterval(4))
        let expired = { (t: Double) in try store.transaction { try $0.expiredLeases(now: start.addingTimeInterval(t)) }
        }
        #expect(try expired(8).isEmpty, "the heartbeat renewed the lease")
        let lost = try expired(10)
        #expect(lost.map(\.task) == [task.id] && lost[0].worker == "slow")
        #expect(
            try store.fail(task: task.id, attempt: 1, cause: .lostLease, error: "fell silent", limits: limits)
                == .queued)
        let record = try #require(try store.task(task.id))
        #expect(record.hostFailures == 0 && record.lostLeases == 1, "a lost lease is not a failed attempt")
        // The slow worker's result arrives while the task waits in the queue: it is accepted, not recomputed.
        #expect(
            try store.complete(task: task.id, attempt: 1, from: holder("impostor"), digest: "x", summary: "{}")
                == .wrongLease,
            "only the worker that held the lease may answer it")
        #expect(
            try store.complete(
                task: task.id, attempt: 1, from: LeaseHolder(worker: "slow", token: "guessed"), digest: "x",
                summary: "{}") == .wrongLease, "a name alone does not prove the lease: the token does")
        #expect(
            try store.complete(task: task.id, attempt: 2, from: holder("slow"), digest: "x", summary: "{}")
                == .wrongLease,
            "a lease never handed out is answered by nobody")
        #expect(
            try store.complete(task: task.id, attempt: 1, from: holder("slow"), digest: "late", summary: "{}")
                == .recorded)
        #expect(try store.task(task.id)?.digest == "late")
    }

    @Test func onlyTheMostRecentLeaseIsAnswered() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let task = try #require(try store.leaseNext(to: holder("first"), leaseSeconds: 5))
        try store.fail(task: task.id, attempt: 1, cause: .lostLease, error: "fell silent")
        let again = try #require(try store.leaseNext(to: holder("second"), leaseSeconds: 5))
        #expect(again.id == task.id && again.attempts == 2)
        #expect(
            try store.complete(task: task.id, attempt: 1, from: holder("first"), digest: "d", summary: "{}") == .stale,
            "once the task is leased again, the earlier lease is over")
        #expect(
            try store.complete(task: task.id, attempt: 2, from: holder("second"), digest: "d", summary: "{}")
                == .recorded)
        #expect(
            try store.complete(task: task.id, attempt: 2, from: holder("second"), digest: "d", summary: "{}")
                == .duplicate)
    }

    @Test func aLeaseTakenUnderCurveIsAnsweredOnlyWithTheSameKey() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let keyed = LeaseHolder(worker: "w", token: "t", key: "worker-key")
        let task = try #require(try store.leaseNext(to: keyed, leaseSeconds: 5))
        var other = keyed
        other.key = "another-key"
        #expect(try store.complete(task: task.id, attempt: 1, from: other, digest: "d", summary: "{}") == .wrongLease)
        #expect(
            try store.complete(task: task.id, attempt: 1, from: keyed, build: "b1", digest: "d", summary: "{}")
                == .recorded)
        #expect(try store.task(task.id)?.build == "b1", "every result keeps the build that made it")
    }

    @Test func aTaskThatKillsEveryWorkerFailsAfterItsLostLeaseBudget() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let limits = RetryLimits(hostFailures: 3, lostLeases: 4)
        for attempt in 1...4 {
            let task = try #require(try store.leaseNext(to: holder("w\(attempt)"), leaseSeconds: 5))
            #expect(task.id == "e/0/0")
            let state = try store.fail(
                task: task.id, attempt: attempt, cause: .lostLease, error: "worker w\(attempt) killed by signal 9",
                limits: limits)
            #expect(state == (attempt < 4 ? .queued : .failed))
        }
        #expect(try store.task("e/0/0")?.error?.contains("4 workers died") == true)
    }

    @Test func aTasksOwnFailureFailsItAtOnceAndSkipsItsDependants() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let task = try #require(try store.leaseNext(to: holder("w"), leaseSeconds: 5))
        #expect(
            try store.fail(task: task.id, attempt: 1, cause: .task, error: "model.arch: 3 outputs for 10 classes")
                == .failed)
        let failed = try store.tasks(in: .failed)
        #expect(failed.map(\.id) == ["e/0/0"] && failed[0].error == "model.arch: 3 outputs for 10 classes")
        #expect(try store.tasks(in: .skipped).map(\.id) == ["e/0/1", "e/0/2"])
        // The other chain goes on.
        #expect(try store.leaseNext(to: holder("w"), leaseSeconds: 5)?.id == "e/1/0")
        #expect(try !store.isFinished())
    }

    @Test func hostFailuresGoToAnotherWorkerAndRetryFailedBringsThemBack() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let first = try #require(try store.leaseNext(to: holder("bad"), leaseSeconds: 5))
        #expect(try store.fail(task: first.id, attempt: 1, cause: .host, error: "t10k-images truncated") == .queued)
        #expect(
            try store.leaseNext(to: holder("bad"), leaseSeconds: 5)?.id == "e/1/0",
            "the bad worker gets another task first")
        #expect(
            try store.leaseNext(to: holder("good"), leaseSeconds: 5)?.id == "e/0/0",
            "a healthy worker takes the one that failed")
        #expect(try store.failures(of: "e/0/0").map(\.worker) == ["bad"])

        // Three host failures fail it; its chain is skipped until the failures are retried.
        for attempt in 2...3 {
            #expect(
                try store.fail(task: "e/0/0", attempt: attempt, cause: .host, error: "disk gone")
                    == (attempt < 3 ? .queued : .failed))
            if attempt < 3 { _ = try store.leaseNext(to: holder("other"), leaseSeconds: 5) }
        }
        #expect(try store.counts()[.skipped] == 2)
        #expect(try store.retryFailed() == 3)
        #expect(try store.task("e/0/0")?.state == .queued && store.task("e/0/0")?.hostFailures == 0)
        #expect(try store.counts()[.skipped] == nil)
    }

    @Test func aDivergedLevelEndsItsChain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let task = try #require(try store.leaseNext(to: holder("w"), leaseSeconds: 5))
        #expect(
            try store.complete(
                task: task.id, attempt: 1, from: holder("w"), digest: "d", summary: "{}",
                ending: .diverged("diverged at step 5")) == .recorded)
        #expect(try store.task(task.id)?.state == .diverged && store.task(task.id)?.error == "diverged at step 5")
        #expect(try store.tasks(in: .unneeded).map(\.id) == ["e/0/1", "e/0/2"])
        #expect(try store.tasks(in: .skipped).isEmpty, "a diverged chain skips nothing: it is over")
    }

    @Test func workersAreRecordedForStatus() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        let seen = Date(timeIntervalSince1970: 1_700_000_000)
        try store.recordWorkers([
            TaskStore.WorkerRow(name: "a:1", cores: 4, task: "e/0/0", lastSeen: seen, alive: true),
            TaskStore.WorkerRow(name: "b:2", cores: 2, task: nil, lastSeen: seen, alive: true),
        ])
        try store.recordWorkers([TaskStore.WorkerRow(name: "b:2", cores: 2, task: "e/1/0", lastSeen: seen, alive: true)]
        )
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
            let done = try #require(try store.leaseNext(to: holder("w"), leaseSeconds: 5))
            _ = try store.complete(task: done.id, attempt: 1, from: holder("w"), digest: "d", summary: "{}")
            _ = try store.leaseNext(to: holder("w"), leaseSeconds: 5)
        }
        let reopened = try open(dir)
        #expect(try reopened.counts()[.done] == 1)
        let now = Date()
        #expect(try reopened.holdLeasesForRejoin(until: now.addingTimeInterval(30)) == ["e/1/0"])
        #expect(try reopened.counts() == [.done: 1, .queued: 1, .leased: 1, .blocked: 3])
        #expect(
            try reopened.transaction { try $0.expiredLeases(now: now.addingTimeInterval(29)) }.isEmpty,
            "held for its worker to rejoin")
        try reopened.transaction { try $0.releaseLease(task: "e/1/0", now: now) }
        #expect(try reopened.counts() == [.done: 1, .queued: 2, .blocked: 3])
        #expect(try reopened.task("e/1/0")?.attempts == 1, "the attempt count survives the restart")
    }

    @Test func aDamagedTaskRowIsReportedWhenTheStoreOpens() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try open(dir)
        // A flipped byte in a state: 'done' read back as 'dne'.
        try DatabaseQueue(path: dir.file("sweep.sqlite")).write { db in
            try db.execute(sql: "UPDATE task SET state = 'dne' WHERE id = 'e/0/1'")
        }
        #expect {
            _ = try TaskStore(path: dir.file("sweep.sqlite"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("sweep.sqlite is damaged") && text.contains("task e/0/1 has state 'dne'")
        }
    }

    /// A state changed by another program after the store opened is refused when read, not taken for another.
    @Test func anUnknownStateWrittenWhileOpenIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try open(dir)
        try DatabaseQueue(path: dir.file("sweep.sqlite")).write { db in
            try db.execute(sql: "UPDATE task SET state = 'dne' WHERE id = 'e/0/1'")
        }
        #expect {
            _ = try store.task("e/0/1")
        } throws: { error in
            (error as? UnknownState)?.description.contains("task e/0/1 has the state 'dne'") == true
        }
    }

    @Test func aStoreRefusesAnotherBuildUnlessAllowedAndRecordsTheNewOne() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try TaskStore(path: dir.file("sweep.sqlite"))
        let first = Provenance(sweepFile: "sweep.yaml", sweepDigest: "d1", build: "sift-0.1.0-wire2-engine1-aaaaaa")
        try store.admit(plan(), provenance: first, store: "sweep.sqlite", extending: false)
        #expect(try store.provenance() == first)
        var other = first
        other.build = "sift-0.1.0-wire2-engine1-bbbbbb"
        #expect {
            try store.admit(plan(), provenance: other, store: "sweep.sqlite", extending: false)
        } throws: { error in
            "\(error)".contains("sift-0.1.0-wire2-engine1-aaaaaa")
                && "\(error)".contains("sift-0.1.0-wire2-engine1-bbbbbb")
                && "\(error)".contains("--allow-other-build")
        }
        #expect(try store.provenance() == first, "a refused admission writes nothing")
        try store.admit(plan(), provenance: other, store: "sweep.sqlite", extending: false, allowingOtherBuild: true)
        #expect(try store.provenance()?.build == other.build)
    }

    @Test func aFileThatIsNoDatabaseIsNamedInTheError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write(Array(String(repeating: "not a database ", count: 300).utf8), to: "sweep.sqlite")
        #expect {
            _ = try TaskStore(path: path)
        } throws: { error in
            "\(error)".hasPrefix("cannot open the store \(path): ") && "\(error)".contains("not a database")
        }
    }

    @Test func aFlippedByteInTheFileIsReportedWhenTheStoreOpens() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do { _ = try open(dir) }  // closed here: the last connection folds the WAL back into the file
        var bytes = try #require(FileManager.default.contents(atPath: dir.file("sweep.sqlite")).map { Array($0) })
        let id = Array("e/1/2".utf8)
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: id) })
        bytes[at + 4] ^= 0x01  // "e/1/2" becomes "e/1/3" in one place only
        try Data(bytes).write(to: URL(fileURLWithPath: dir.file("sweep.sqlite")))
        #expect {
            _ = try TaskStore(path: dir.file("sweep.sqlite"))
        } throws: { error in
            "\(error)".contains("sweep.sqlite is damaged") && "\(error)".contains("index")
        }
    }
}
