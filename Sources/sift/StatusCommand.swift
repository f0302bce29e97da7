import ArgumentParser
import Foundation
import SiftCluster
import SiftSweep
import SiftWire

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a sweep's health: levels by state, workers and their tasks, failures.",
        discussion: """
        `sift status DIR` reads DIR/sweep.sqlite, while the coordinator runs or after it stopped (workers as of \
        its last update). `sift status --connect ENDPOINT` asks a live coordinator.
        """)

    @Argument(help: "The sweep's output folder (holding sweep.sqlite).") var directory: String?
    @Option(help: "Ask a live coordinator instead, e.g. tcp://node01:5555.") var connect: String?
    @Option(help: "With --connect to a CURVE coordinator: a secret key file on its allow-list.") var curveSecret: String?
    @Option(help: "With --curve-secret: the coordinator's public key file.") var serverKey: String?

    func run() throws {
        switch (directory, connect) {
        case let (directory?, nil):
            let path = "\(directory)/sweep.sqlite"
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no sweep store at \(path); pass the folder given to `sift run --out` or `sift coordinator --out`")
            }
            print(try SweepStatus(store: TaskStore(path: path)).text)
        case let (nil, endpoint?):
            print(try ask(endpoint).text)
        default:
            throw ValidationError("give either a sweep folder or --connect ENDPOINT")
        }
    }

    private func ask(_ endpoint: String) throws -> SweepStatus {
        let socket = try ZeroMQSocket(ZeroMQContext(), kind: .dealer)
        if let curveSecret, let serverKey {
            try socket.makeCurveClient(serverKey: try readKeys(serverKey, what: "server key")[0],
                                       keys: try CurveKeyPair(secretKey: try readKeys(curveSecret, what: "secret key")[0]))
        }
        try socket.connect(endpoint)
        try socket.send(WireMessage.statusRequest.frames)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let reply = try socket.receive(timeout: 200), case .status(let status)? = try? WireMessage(frames: reply.frames) {
                return status
            }
        }
        throw ValidationError("no answer from a coordinator at \(endpoint) within 5 s (wrong address, not running, or CURVE keys needed)")
    }
}
