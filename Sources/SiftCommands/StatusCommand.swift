import Foundation
import ArgumentParser
import SiftCluster
import SiftStore
import SiftConfig
import SiftWire

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a sweep's health: levels by state, workers and their tasks, failures.",
        discussion: """
            `sift status DIR` reads DIR/sweep.sqlite, while the coordinator runs or after it stopped (workers as of \
            its last update). `sift status --connect ENDPOINT` asks a live coordinator. Both show each running \
            level's progress (percentage, steps per second, loss, ETA) and the sweep's ETA from measured level times.
            """)

    @Argument(help: "The sweep's output folder (holding sweep.sqlite).") var directory: String?
    @Option(help: "Ask a live coordinator instead, e.g. tcp://node01:5555.") var connect: String?
    @Option(help: "With --connect to a CURVE coordinator: a secret key file on its allow-list.") var curveSecret:
        String?
    @Option(help: "With --curve-secret: the coordinator's public key file.") var serverKey: String?
    @Flag(help: "Redraw the view every --every seconds until Ctrl-C (in place on a terminal).") var watch = false
    @Option(help: "With --watch: seconds between redraws.") var every = 2.0

    func validate() throws {
        try OptionBounds.check(every, in: 0.1...86_400, "--every")
    }

    func run() throws {
        let read: () throws -> SweepStatus
        switch (directory, connect) {
        case let (directory?, nil):
            let path = "\(directory)/sweep.sqlite"
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(
                    "no sweep store at \(path); pass the folder given to `sift run --out` or `sift coordinator --out`")
            }
            let store = try TaskStore(path: path, readingOnly: true)
            read = { try SweepStatus(store: store) }
        case let (nil, endpoint?):
            read = { try ask(endpoint) }
        default:
            throw ValidationError("give either a sweep folder or --connect ENDPOINT")
        }
        guard watch else {
            print(try read().text)
            return
        }
        let stop = StopFlag.onTermination()
        let terminal = isatty(STDOUT_FILENO) != 0
        while !stop.isSet {
            let text = try read().text
            // On a terminal: home the cursor and clear the screen, then draw; on a pipe: one block per turn.
            say((terminal ? "\u{1B}[H\u{1B}[2J" : "") + text + (terminal ? "" : "\n"))
            let until = Date().addingTimeInterval(max(every, 0.2))
            while Date() < until && !stop.isSet { usleep(50_000) }
        }
    }

    private func ask(_ endpoint: String) throws -> SweepStatus {
        let socket = try ZeroMQSocket(ZeroMQContext(), kind: .dealer)
        if let curveSecret, let serverKey {
            try socket.makeCurveClient(
                serverKey: try readKeys(serverKey, what: "server key")[0],
                keys: try CurveKeyPair(secretKey: try readSecretKey(curveSecret)))
        }
        try socket.connect(endpoint)
        try socket.send(WireMessage.statusRequest.frames)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let reply = try socket.receive(timeout: 200),
                case .status(let status)? = try? WireMessage(frames: reply.frames)
            {
                return status
            }
        }
        throw CommandFailure(
            "no answer from a coordinator at \(endpoint) within 5 s (wrong address, not running, or CURVE keys needed)")
    }
}
