import Foundation

/// Whole-file reads with errors that name the path, and gzip detection.
public enum FileBytes {
    public static func read(_ path: String, hint: String = "") throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.missing(path: path, hint: hint)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "permission denied or not a regular file")
        }
        return [UInt8](data)
    }

    /// Reads a file, inflating it when it starts with the gzip magic bytes, no further than the length
    /// its format's header declares (`Inflate.DeclaredLength`).
    public static func readMaybeGzipped(
        _ path: String, hint: String = "",
        declaredLength: Inflate.DeclaredLength? = nil
    ) throws -> [UInt8] {
        let bytes = try read(path, hint: hint)
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
            return try Inflate.gzip(bytes, path: path, declaredLength: declaredLength)
        }
        return bytes
    }

    /// Writes through a temporary file and a rename, so a reader never sees half a file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(bytes).write(to: temp)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw DataError.unwritable(path: path, reason: error.localizedDescription)
        }
        // rename(2) replaces an existing file atomically.
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw DataError.unwritable(path: path, reason: "rename failed: \(reason)")
        }
    }
}
