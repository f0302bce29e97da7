/// The IDX format of MNIST and Fashion-MNIST: a magic number, big-endian
/// dimensions, then unsigned bytes. Files may be gzipped.
public enum IDXReader {
    public struct Array: Sendable {
        public var dimensions: [Int]
        public var bytes: [UInt8]
    }

    public static func read(_ path: String, hint: String = "") throws -> Array {
        try parse(
            FileBytes.readMaybeGzipped(path, hint: hint, declaredLength: { try declaredLength($0, path: path) }),
            path: path)
    }

    /// The magic number and dimensions, once `data` holds them (nil before); throws for a malformed magic.
    static func header(_ data: ArraySlice<UInt8>, path: String) throws -> (dimensions: [Int], size: Int)? {
        guard data.count >= 4 else { return nil }
        let base = data.startIndex
        guard data[base] == 0, data[base + 1] == 0 else {
            throw DataError.badFormat(path: path, reason: "IDX magic must start with two zero bytes")
        }
        guard data[base + 2] == 0x08 else {
            throw DataError.badFormat(
                path: path,
                reason:
                    "only unsigned-byte IDX (type 0x08) is supported, found type 0x\(String(data[base + 2], radix: 16))"
            )
        }
        let rank = Int(data[base + 3])
        guard (1...4).contains(rank) else {
            throw DataError.badFormat(path: path, reason: "IDX rank \(rank) is outside 1...4")
        }
        let size = 4 + 4 * rank
        guard data.count >= size else { return nil }
        let dimensions = (0..<rank).map { d in
            let o = base + 4 + 4 * d
            return Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
        }
        return (dimensions, size)
    }

    /// The whole length a gzipped IDX file's header declares, once its first inflated bytes hold the header:
    /// inflation stops there, so a small file cannot inflate to gigabytes.
    static func declaredLength(_ prefix: ArraySlice<UInt8>, path: String) throws -> Int? {
        guard let (dimensions, size) = try header(prefix, path: path) else { return nil }
        return size
            + (try DeclaredSize.payload(dimensions, elementSize: 1, offset: size, available: Int.max, path: path))
    }

    public static func parse(_ data: [UInt8], path: String) throws -> Array {
        guard let (dimensions, headerSize) = try header(data[...], path: path) else {
            throw DataError.truncated(
                path: path, expectedBytes: data.count < 4 ? 4 : 4 + 4 * Int(data[3]), actualBytes: data.count)
        }
        let payload = try DeclaredSize.payload(
            dimensions, elementSize: 1, offset: headerSize, available: data.count, path: path)
        guard data.count == headerSize + payload else {
            throw DataError.badFormat(
                path: path, reason: "\(data.count - headerSize - payload) unexpected trailing bytes")
        }
        return Array(dimensions: dimensions, bytes: Swift.Array(data[headerSize...]))
    }
}

import SiftFiles
