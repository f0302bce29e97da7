import Foundation
import Logging
import Synchronization

/// A swift-log backend that keeps every line in memory, for tests to read: "<level> <message>".
public struct InMemoryLogHandler: LogHandler {
    /// The lines, shared by every copy of the handler (a logger is a value; its handler is copied).
    public final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        public init() {}
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        public var all: [String] { lines.withLock { $0 } }
    }

    public let lines: Lines
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(lines: Lines) { self.lines = lines }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        lines.add("\(event.level) \(event.message)")
    }

    /// A logger whose lines land in `lines`.
    public static func logger(_ lines: Lines, label: String = "test") -> Logger {
        Logger(label: label) { _ in InMemoryLogHandler(lines: lines) }
    }
}
