import Foundation
import SiftWire
import Testing

@Suite struct WireMessageTests {
    static let messages: [WireMessage] = [
        .ready(WorkerHello(host: "node-7", pid: 4242, cores: 16, build: "0.1.0+abc")),
        .heartbeat(Heartbeat(task: "t-1")),
        .heartbeat(Heartbeat()),
        .heartbeat(Heartbeat(challenge: "c0ffee")),
        .heartbeat(Heartbeat(task: "t-1", answer: "c0ffee")),
        .task(
            TaskAssignment(task: "t-1", attempt: 2, lease: "0123abcd", kind: .level, parameters: "{\"level\":3}"),
            attachments: [[1, 2, 3], []]),
        .result(
            TaskResult(task: "t-1", attempt: 2, lease: "0123abcd", digest: "ab", summary: "{}"), attachments: [[9]]),
        .failure(TaskFailure(task: "t-1", attempt: 1, lease: "0123abcd", error: "out of memory", cause: .host)),
        .acknowledge(TaskReference(task: "t-1")),
        .refuse(Refusal(reason: "engine build 0.2 differs from the coordinator's 0.1")),
        .done,
        .statusRequest,
        .status(
            SweepStatus(
                counts: ["done": 3, "queued": 1], finished: false,
                workers: [
                    SweepStatus.Worker(
                        name: "n1:7", cores: 8, task: "a/seed-0/level-2", secondsSinceHeartbeat: 0.4, alive: true)
                ],
                failures: [SweepStatus.Failure(task: "b/seed-1/level-0", attempts: 3, error: "out of memory")])),
    ]

    @Test(arguments: messages)
    func roundTrips(_ message: WireMessage) throws {
        #expect(try WireMessage(frames: message.frames) == message)
    }

    @Test func garbageIsRejectedNotFatal() {
        var stream: UInt64 = 0x1234_5678
        func byte() -> UInt8 {
            stream = stream &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: stream >> 33)
        }
        for length in [0, 1, 6, 7, 8, 64, 500] {
            for _ in 0..<20 {
                let frames = (0..<Int(byte() % 4)).map { _ in (0..<length).map { _ in byte() } }
                #expect(throws: WireError.self) { try WireMessage(frames: frames) }
            }
        }
        let good = WireMessage.acknowledge(TaskReference(task: "x")).frames
        #expect(throws: WireError.self) { try WireMessage(frames: [good[0], Array(good[1].dropLast(2))]) }
        #expect(throws: WireError.self) { try WireMessage(frames: [good[0]]) }
        #expect(throws: WireError.self) { try WireMessage(frames: good + [[1]]) }
    }

    @Test func versionAndKindAreChecked() {
        var frames = WireMessage.done.frames
        frames[0][5] = 99
        #expect(throws: WireError.versionMismatch(peer: 99, ours: WireMessage.protocolVersion)) {
            try WireMessage(frames: frames)
        }
        frames = WireMessage.done.frames
        frames[0][6] = 200
        #expect(throws: WireError.unknownKind(200)) { try WireMessage(frames: frames) }
    }
}

extension WireMessage: CustomTestStringConvertible {
    public var testDescription: String { String(describing: self).prefix(60).description }
}

@Suite struct ZeroMQLoopbackTests {
    @Test func routerAndDealerExchangeMessages() throws {
        let context = ZeroMQContext()
        let router = try ZeroMQSocket(context, kind: .router)
        try router.bind("tcp://127.0.0.1:0")
        let dealer = try ZeroMQSocket(context, kind: .dealer)
        try dealer.connect(router.lastEndpoint)
        let hello = WireMessage.ready(WorkerHello(host: "here", pid: 1, cores: 2, build: "test"))
        try dealer.send(hello.frames)
        let received = try #require(try router.receive(timeout: 2000))
        #expect(!received.truncated)
        let identity = received.frames[0]
        #expect(try WireMessage(frames: Array(received.frames.dropFirst())) == hello)
        try router.send([identity] + WireMessage.done.frames)
        let reply = try #require(try dealer.receive(timeout: 2000))
        #expect(try WireMessage(frames: reply.frames) == .done)
        #expect(try dealer.receive(timeout: 10) == nil)
    }

    @Test func oversizedMessagesAreTruncatedNotStored() throws {
        let context = ZeroMQContext()
        let router = try ZeroMQSocket(context, kind: .router)
        try router.bind("tcp://127.0.0.1:0")
        let dealer = try ZeroMQSocket(context, kind: .dealer)
        try dealer.connect(router.lastEndpoint)
        try dealer.send([[UInt8](repeating: 7, count: 4096), [1], [2], [3]])
        let received = try #require(try router.receive(timeout: 2000, maxFrames: 3, maxBytes: 1024))
        #expect(received.truncated)
        #expect(received.frames.count == 1, "only the identity frame fits")
    }
}
