import Foundation
import SiftFiles

/// Files by name: a level's artifacts, a mask set or a network state, the same on disk and
/// as wire attachments. Arrays are .npy (science §8), all [fan_in, fan_out] like the masks.
public struct NamedFiles: Sendable, Equatable {
    public var names: [String]
    public var contents: [[UInt8]]

    public init(names: [String] = [], contents: [[UInt8]] = []) {
        precondition(names.count == contents.count, "one name per file")
        self.names = names
        self.contents = contents
    }

    public mutating func add(_ name: String, _ bytes: [UInt8]) {
        names.append(name)
        contents.append(bytes)
    }

    public mutating func add(_ other: NamedFiles) {
        names += other.names
        contents += other.contents
    }

    public subscript(name: String) -> [UInt8]? {
        names.firstIndex(of: name).map { contents[$0] }
    }

    /// The named .npy file, parsed; an error names `origin` and the file if it is missing or malformed.
    public func array(_ name: String, origin: String) throws -> NumpyArray {
        guard let bytes = self[name] else {
            throw DataError.missing(path: "\(origin)/\(name)", hint: "the level's files are incomplete")
        }
        return try NumpyArray.parse(bytes, path: "\(origin)/\(name)")
    }

    // MARK: - Disk

    /// Writes every file into a temporary folder renamed to `directory`, so a folder that exists is complete.
    public func write(to directory: String) throws {
        let fm = FileManager.default
        let parent = (directory as NSString).deletingLastPathComponent
        let stem = ".\((directory as NSString).lastPathComponent).partial-"
        let temp = (parent as NSString).appendingPathComponent(stem + "\(getpid())")
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            // A writer killed mid-write (any process) leaves its partial folder behind: it is never read, so clear it.
            for stale in (try? fm.contentsOfDirectory(atPath: parent)) ?? [] where stale.hasPrefix(stem) {
                try? fm.removeItem(atPath: (parent as NSString).appendingPathComponent(stale))
            }
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
            for (name, bytes) in zip(names, contents) {
                guard !name.contains("/"), !name.hasPrefix(".") else {
                    throw ArtifactError.write(path: directory, reason: "refusing the file name '\(name)'")
                }
                try Data(bytes).write(to: URL(fileURLWithPath: "\(temp)/\(name)"))
            }
            if fm.fileExists(atPath: directory) { try fm.removeItem(atPath: directory) }
            try fm.moveItem(atPath: temp, toPath: directory)
        } catch let error as ArtifactError {
            try? fm.removeItem(atPath: temp)
            throw error
        } catch {
            try? fm.removeItem(atPath: temp)
            throw ArtifactError.write(path: directory, reason: Self.reason(error))
        }
    }

    /// The system's own words for a failed write ("No space left on device"), else the error as it is.
    static func reason(_ error: Error) -> String {
        var cause = error as NSError
        // On Linux the underlying error is a Swift POSIXError, which bridges to NSError only by `as`.
        while let underlying = cause.userInfo[NSUnderlyingErrorKey] as? Error { cause = underlying as NSError }
        return cause.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(cause.code))) : "\(error)"
    }

    /// Every file of `directory` (a written level, say), by name; a folder that is missing or cannot be listed
    /// is an error that names it, in the system's own words.
    public static func read(_ directory: String) throws -> NamedFiles {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DataError.unreadable(path: directory, reason: reason(error))
        }
        var files = NamedFiles()
        for name in names.sorted() where !name.hasPrefix(".") {
            files.add(name, try FileBytes.read("\(directory)/\(name)"))
        }
        return files
    }
}
