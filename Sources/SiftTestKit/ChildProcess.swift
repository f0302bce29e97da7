import Foundation

/// A long-running `sift` or `sift-testbed` child (coordinator or worker) that a test starts, signals and always stops.
///
/// Foundation's Process rather than swift-subprocess (in the mirror): swift-subprocess runs a child for
/// the span of one async call (`run(...) { execution in … }`), while these tests hold children across
/// synchronous steps (start, wait for a log line, SIGKILL, start another, compare) and sometimes outlive
/// the step that started them.
public final class ChildProcess {
    public let process = Process()
    public let logPath: String

    /// Starts `sift` (or `executable`) with `arguments`, stdout and stderr going to `logPath`.
    public init(_ arguments: [String], executable: String = SiftProcess.executable, log logPath: String) throws {
        self.logPath = logPath
        // An empty log; opening it for writing below reports any failure.
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    deinit { stop() }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    /// The exit status, or nil while the child runs (Foundation traps when asked for a running one's).
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func signal(_ signal: Int32) { if process.isRunning { kill(pid, signal) } }

    /// Waits for the child to exit; false if it was still running at the deadline.
    @discardableResult
    public func wait(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// Waits until the log contains `text`.
    @discardableResult
    public func waitForLog(_ text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !log.contains(text) && Date() < deadline { usleep(20_000) }
        return log.contains(text)
    }

    /// The endpoint a coordinator started with `--bind tcp://127.0.0.1:0` is listening on, from its log.
    public func listeningEndpoint(timeout: TimeInterval) -> String? {
        guard waitForLog("listening on ", timeout: timeout),
            let line = log.split(separator: "\n").first(where: { $0.contains("listening on ") }),
            let start = line.range(of: "listening on ")?.upperBound
        else { return nil }
        return String(line[start...].prefix { $0 != " " && $0 != ";" })
    }

    /// Ends the child for sure: SIGCONT (in case it was stopped), SIGTERM, then SIGKILL.
    public func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if !wait(timeout: 2) { kill(pid, SIGKILL); process.waitUntilExit() }
    }
}
