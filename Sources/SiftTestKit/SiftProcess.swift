import Foundation

/// Runs the built `sift` executable (or the test bed, `sift-testbed`) as a child process and collects its output.
///
/// Foundation's Process rather than swift-subprocess (in the mirror): swift-subprocess is async only, and
/// the tests calling this are synchronous; bridging each call with a semaphore would block a thread of
/// the cooperative pool that Swift Testing runs tests on.
public enum SiftProcess {
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The `sift` binary beside the test bundle (both live in the build folder).
    public static var executable: String { built("sift") }

    /// The test bed's binary: sleep-task coordinators, workers that run them or hang, the coordinator benchmark.
    public static var testbed: String { built("sift-testbed") }

    private static func built(_ name: String) -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
                .path,
            Bundle.main.bundleURL.appendingPathComponent(name).path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// Runs `sift` (or `executable`) with the arguments and waits for it; the child is killed if it outlives
    /// `timeout`. Output goes through files, so a chatty child can never block on a full pipe.
    public static func run(
        _ arguments: [String], executable: String = executable, timeout: TimeInterval = 120
    ) throws -> Outcome {
        let logs = try TemporaryDirectory("sift-process")
        defer { logs.remove() }
        let outPath = logs.file("stdout"), errPath = logs.file("stderr")
        // Empty capture files; opening them below reports any failure.
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            usleep(200_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        func text(_ path: String) -> String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }
        return Outcome(status: process.terminationStatus, stdout: text(outPath), stderr: text(errPath))
    }
}
