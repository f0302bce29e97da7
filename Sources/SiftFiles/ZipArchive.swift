import Foundation
import ZIPFoundation

/// The entries of a zip archive (an .npz), read with ZIPFoundation: stored or deflated, zip64 included,
/// every entry's CRC-32 checked. An .npz comes from a user, so sizes are distrusted: an entry declaring
/// more than deflate can produce from its compressed bytes is refused before anything is inflated, and
/// no entry may yield more bytes than it declares.
public struct ZipArchive {
    public let path: String
    private let archive: Archive

    public init(path: String) throws {
        try self.init(bytes: FileBytes.read(path), path: path)
    }

    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        do {
            archive = try Archive(data: Data(bytes), accessMode: .read)
        } catch {
            throw DataError.badFormat(
                path: path, reason: "not a readable zip archive (truncated, or not an .npz): \(error)")
        }
    }

    /// The entries' names.
    public var names: [String] { archive.map(\.path).sorted() }

    /// The entry's bytes, inflated no further than it declares, nor than `declaredLength` (its format's
    /// header) says once its first bytes are out: a 2 MB entry may claim 2 GB, but an .npy header inside
    /// it declares what it holds.
    public func data(_ name: String, declaredLength: Inflate.DeclaredLength? = nil) throws -> [UInt8] {
        guard let entry = archive[name] else {
            throw DataError.badFormat(path: path, reason: "no entry '\(name)' (has: \(names.joined(separator: ", ")))")
        }
        let origin = "\(path):\(name)"
        let declared = entry.uncompressedSize, compressed = entry.compressedSize
        let limit = entry.isCompressed ? UInt64(Inflate.maximumInflated(Int(clamping: compressed))) : compressed
        guard declared <= limit, declared <= UInt64(Int.max) else {
            throw DataError.badFormat(
                path: origin,
                reason: entry.isCompressed
                    ? "declares \(declared) bytes inflated from \(compressed) compressed, more than deflate can produce"
                    : "stored entry declares \(declared) bytes but holds \(compressed)")
        }
        var bytes: [UInt8] = []
        // What the format's header declares, once read: the bound from then on.
        var formatLength: Int?
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                guard UInt64(bytes.count + chunk.count) <= declared else {
                    throw DataError.badFormat(path: origin, reason: "inflates past the \(declared) bytes it declares")
                }
                if let formatLength, bytes.count + chunk.count > formatLength {
                    throw DataError.badFormat(
                        path: origin, reason: "inflates past the \(formatLength) bytes its header declares")
                }
                bytes.append(contentsOf: chunk)
                if formatLength == nil, let declaredLength, let length = try declaredLength(bytes[...]) {
                    formatLength = length
                    guard bytes.count <= length else {
                        throw DataError.badFormat(
                            path: origin, reason: "inflates past the \(length) bytes its header declares")
                    }
                    bytes.reserveCapacity(length)
                }
            }
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError.badFormat(path: origin, reason: "cannot be extracted: \(error)")
        }
        // Extracting to memory returns the checksum; comparing it is the caller's part.
        guard checksum == entry.checksum else {
            throw DataError.badFormat(
                path: origin, reason: "its CRC-32 does not match its contents: the file is corrupt")
        }
        guard UInt64(bytes.count) == declared else {
            throw DataError.truncated(path: origin, expectedBytes: Int(declared), actualBytes: bytes.count)
        }
        return bytes
    }
}
