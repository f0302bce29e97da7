import Foundation
import SiftCluster
import SiftStore
import SiftTestKit
import SiftConfig
import SiftWire
import Testing

/// Ten thousand random and mutated messages from peers that read nothing, among an honest worker's
/// traffic, fed to the coordinator's core: it neither throws nor stalls, and the store comes out intact and
/// complete. (The socket's own limits are CoordinatorTests'.)
@Suite struct CoordinatorFuzzTests {
    /// SplitMix64: the same seed gives the same messages, so a failure can be replayed.
    struct Draws {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    /// A message that could be valid: every kind, with plausible, stolen or absurd fields.
    static func plausible(_ d: inout Draws, tasks: [String], build: String, lease: String?) -> WireMessage {
        let task = d.pick(tasks + ["", "no-such-task", String(repeating: "x", count: 300)])
        let attempt = d.pick([0, 1, 2, -1, Int.max])
        let token = d.pick([lease ?? "", "", String(repeating: "0", count: 32), "guess"])
        let files = (0..<d.below(3)).map { _ in d.bytes(d.below(64)) }
        switch d.below(10) {
        case 0:
            return .ready(
                WorkerHello(
                    host: d.pick(["fuzz", "", "a b", "scripted"]), pid: Int32(truncatingIfNeeded: d.below(5) - 1),
                    cores: d.pick([-5, 0, 1, 1 << 20]), build: d.pick([build, "", "other"])))
        case 1:
            return .heartbeat(
                Heartbeat(task: d.pick([task, nil]), challenge: d.pick([nil, "c"]), answer: d.pick([nil, token])))
        case 2:
            return .result(
                TaskResult(
                    task: task, attempt: attempt, lease: token,
                    digest: d.pick([TaskDigest.of(files), "forged"]), summary: d.pick(["{}", "not json", "[]"])),
                attachments: files)
        case 3:
            return .failure(
                TaskFailure(
                    task: task, attempt: attempt, lease: token, error: "fuzz", cause: d.pick([.task, .host, .declined]))
            )
        case 4:
            return .task(
                TaskAssignment(task: task, attempt: attempt, lease: token, kind: SleepTasks.kind, parameters: "{}"),
                attachments: files)
        case 5: return .acknowledge(TaskReference(task: task))
        case 6: return .refuse(Refusal(reason: "fuzz"))
        case 7: return .done
        case 8: return .statusRequest
        default: return .status(SweepStatus(counts: ["done": -1], finished: true, workers: [], failures: []))
        }
    }

    /// `frames` with one to three mutations: a flipped byte, a cut or doubled frame, a dropped or added
    /// frame, another kind byte, or a JSON body swapped for another shape.
    static func mutate(_ frames: [[UInt8]], _ d: inout Draws) -> [[UInt8]] {
        var frames = frames
        for _ in 0...d.below(3) {
            let index = d.below(frames.count)
            switch d.below(7) {
            case 0 where !frames[index].isEmpty: frames[index][d.below(frames[index].count)] ^= UInt8(1 << d.below(8))
            case 1: frames[index] = Array(frames[index].prefix(d.below(frames[index].count + 1)))
            case 2: frames.insert(frames[index], at: index)
            case 3 where frames.count > 1: frames.remove(at: index)
            case 4: frames.append(d.bytes(d.below(100)))
            case 5 where frames[0].count == 7: frames[0][6] = UInt8(d.below(14))
            default:
                if frames.count > 1 {
                    frames[1] = Array(
                        d.pick([
                            "{}", "[]", "null", "{\"task\":5}", "{\"host\":\"h\",\"pid\":1}", "\"\"",
                            "{\"task\":\"a\",\"attempt\":1e400}",
                        ]).utf8)
                }
            }
        }
        return frames
    }

    @Test func tenThousandHostileMessagesLeaveTheSweepIntact() throws {
        let h = try FailurePolicyTests.Harness(chains: 8, levels: 3)
        let honest = try h.worker(pid: 1)
        let tasks = try TaskState.allCases.flatMap { try h.store.tasks(in: $0) }.map(\.id)
        var d = Draws(state: 20261202)
        let fuzzers = (0..<4).map { _ in h.embedded.connect() }
        // Two of them said a proper READY first, so their messages reach the handlers past the peer checks.
        for link in fuzzers.prefix(2) {
            try link.send(
                WireMessage.ready(
                    WorkerHello(host: "fuzz", pid: Int32(10 + d.below(1000)), cores: 1, build: h.settings.build)
                ).frames)
        }
        var lastLease: String?
        var sent = 0, finished = false
        while sent < 10_000 {
            for _ in 0..<100 {
                let message = Self.plausible(&d, tasks: tasks, build: h.settings.build, lease: lastLease)
                let frames: [[UInt8]]
                switch d.below(4) {
                case 0: frames = (0..<(1 + d.below(4))).map { _ in d.bytes(d.below(200)) }
                case 1: frames = message.frames
                default: frames = Self.mutate(message.frames, &d)
                }
                try d.pick(fuzzers).send(frames.isEmpty ? [[]] : frames)
                sent += 1
            }
            finished = try h.turn() || finished
            // The honest worker works on, and the clock moves, so leases and liveness are exercised too.
            for case let .task(assignment, _) in try honest.inbox() {
                lastLease = assignment.lease
                try honest.result(assignment)
            }
            try honest.send(.heartbeat(Heartbeat()))
            h.clock.advance(0.25)
        }
        for _ in 0..<200 where !finished {
            finished = try h.turn()
            for case let .task(assignment, _) in try honest.inbox() { try honest.result(assignment) }
            try honest.send(.heartbeat(Heartbeat()))
            h.clock.advance(0.25)
        }
        #expect(finished, "the honest worker finished the sweep through the noise")
        #expect(try h.store.counts() == [.done: 24])
        #expect(h.coordinator.counters.recorded == 24, "every level recorded once, by the honest worker")
        #expect(h.coordinator.counters.dropped > 1000)
        // Reopening runs SQLite's page check and the task rows' check.
        _ = try TaskStore(path: h.dir.file("sweep.sqlite"))
    }
}
