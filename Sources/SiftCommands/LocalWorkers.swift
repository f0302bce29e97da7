import Foundation
import Logging

/// The `sift worker` children of `sift run`, supervised: a worker that dies is reported (so its
/// lease is lost at once rather than after missed heartbeats) and restarted with backoff; stopping
/// them always ends within a few seconds.
final class LocalWorkers {
    /// One worker slot: the process in it now, and when to restart it if it died.
    private struct Slot {
        var process: Process
        var started: Date
        var restartAt: Date?
        var backoff: Double = 1
    }

    private let arguments: [String]
    private let logFolder: String
    private let say: (String) -> Void
    private var slots: [Slot] = []

    /// Starts `count` workers connected to `endpoint`; each writes OUT/workers/worker-<i>.log (appended across restarts).
    init(
        count: Int, endpoint: String, threads: String, liveness: LivenessOptions, logLevel: Logger.Level,
        logFolder: String,
        say: @escaping (String) -> Void
    ) throws {
        self.logFolder = logFolder
        self.say = say
        // --parent: a worker whose parent is gone (this process SIGKILLed) leaves at once instead of lingering.
        arguments = [
            "worker", "--connect", endpoint, "--threads", threads, "--heartbeat", String(liveness.heartbeat),
            "--liveness", String(liveness.liveness), "--log-level", logLevel.rawValue, "--parent", String(getpid()),
        ]
        slots = try (0..<count).map { try Slot(process: spawn($0), started: Date()) }
    }

    private func spawn(_ index: Int) throws -> Process {
        let path = "\(logFolder)/worker-\(index).log"
        if !FileManager.default.fileExists(atPath: path) {
            // An empty log; opening it for writing below reports any failure.
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        let process = Process()
        process.executableURL = thisExecutable
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Notices workers that died and restarts them when their backoff is over. `exited` hears of each
    /// death (pid and cause) once. A worker that exits with status 0 has finished (the sweep is complete) and stays down.
    func supervise(now: Date = Date(), exited: (Int32, String) throws -> Void) throws {
        for i in slots.indices {
            let process = slots[i].process
            if let restartAt = slots[i].restartAt {
                guard now >= restartAt else { continue }
                slots[i].restartAt = nil
                slots[i].process = try spawn(i)
                slots[i].started = now
                say("worker \(i) restarted (pid \(slots[i].process.processIdentifier))")
                continue
            }
            guard !process.isRunning, !(process.terminationReason == .exit && process.terminationStatus == 0) else {
                continue
            }
            let cause =
                process.terminationReason == .uncaughtSignal
                ? "killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
            try exited(process.processIdentifier, "worker \(i) (pid \(process.processIdentifier)) \(cause)")
            // A worker that ran a good while before dying starts again at once; one that keeps dying waits longer each time.
            if now.timeIntervalSince(slots[i].started) > 60 { slots[i].backoff = 1 }
            slots[i].restartAt = now.addingTimeInterval(slots[i].backoff)
            say(
                "worker \(i) (pid \(process.processIdentifier)) \(cause); restarting in \(Int(slots[i].backoff)) s (log: \(logFolder)/worker-\(i).log)"
            )
            slots[i].backoff = min(slots[i].backoff * 2, 30)
        }
    }

    /// Ends every worker: they leave on their own once told the sweep is complete; otherwise SIGTERM,
    /// and SIGKILL for any still running `grace` seconds later. Never waits longer than that.
    func stop(grace: Double = 3) {
        let deadline = Date().addingTimeInterval(grace)
        let running = { self.slots.map(\.process).filter(\.isRunning) }
        while !running().isEmpty && Date() < deadline.addingTimeInterval(-grace / 2) { usleep(20_000) }
        for process in running() { kill(process.processIdentifier, SIGTERM) }
        while !running().isEmpty && Date() < deadline { usleep(20_000) }
        for process in running() { kill(process.processIdentifier, SIGKILL) }
        let reaped = Date().addingTimeInterval(2)
        while !running().isEmpty && Date() < reaped { usleep(20_000) }
    }
}

/// This very binary, for child processes: /proc/self/exe stays it even if the file is rebuilt meanwhile.
package var thisExecutable: URL {
    URL(
        fileURLWithPath: FileManager.default.fileExists(atPath: "/proc/self/exe")
            ? "/proc/self/exe" : CommandLine.arguments[0])
}
