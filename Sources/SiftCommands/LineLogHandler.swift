import Foundation
import Logging
import Synchronization

/// Sift's log backend (swift-log): one line per message — UTC time, level, metadata in key order, message —
/// appended to a file or standard output. Lines from several threads never interleave.
struct LineLogHandler: LogHandler {
    /// Where lines go; shared by every logger writing to the same place.
    final class Sink: Sendable {
        private struct Writer {
            let handle: FileHandle
            let formatter = ISO8601DateFormatter()
        }

        private let writer: Mutex<Writer>

        init(_ handle: FileHandle) { writer = Mutex(Writer(handle: handle)) }

        /// Appends to `path`, creating it.
        convenience init(appendingTo path: String) throws {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            self.init(handle)
        }

        static let standardOutput = Sink(FileHandle.standardOutput)

        func write(_ text: String) {
            writer.withLock { writer in
                // A log line that cannot be written (a full disk) must not stop the sweep; the store is what counts.
                try? writer.handle.write(contentsOf: Data("\(writer.formatter.string(from: Date())) \(text)\n".utf8))
            }
        }
    }

    let sink: Sink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(sink: Sink, level: Logger.Level) {
        self.sink = sink
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let context = all.keys.sorted().map { "\($0)=\(all[$0].map { "\($0)" } ?? "")" }.joined(separator: " ")
        // Padded to the longest level's width ("critical"), then a space: "warning" must not run into what follows.
        let level = event.level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        sink.write(level + " " + (context.isEmpty ? "" : context + " ") + "\(event.message)")
    }
}

extension Logger {
    /// A logger of `label` writing lines to `sink` from `level` up.
    static func lines(_ label: String, to sink: LineLogHandler.Sink, level: Logger.Level) -> Logger {
        Logger(label: label) { _ in LineLogHandler(sink: sink, level: level) }
    }
}
