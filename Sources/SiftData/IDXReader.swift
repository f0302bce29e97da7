/// The IDX format of MNIST and Fashion-MNIST: a magic number, big-endian
/// dimensions, then unsigned bytes. Files may be gzipped.
public enum IDXReader {
    public struct Array: Sendable {
        public var dimensions: [Int]
        public var bytes: [UInt8]
    }

    public static func read(_ path: String, hint: String = "") throws -> Array {
        try parse(FileBytes.readMaybeGzipped(path, hint: hint), path: path)
    }

    public static func parse(_ data: [UInt8], path: String) throws -> Array {
        guard data.count >= 4 else {
            throw DataError.truncated(path: path, expectedBytes: 4, actualBytes: data.count)
        }
        guard data[0] == 0, data[1] == 0 else {
            throw DataError.badFormat(path: path, reason: "IDX magic must start with two zero bytes")
        }
        guard data[2] == 0x08 else {
            throw DataError.badFormat(path: path, reason: "only unsigned-byte IDX (type 0x08) is supported, found type 0x\(String(data[2], radix: 16))")
        }
        let rank = Int(data[3])
        guard (1...4).contains(rank) else {
            throw DataError.badFormat(path: path, reason: "IDX rank \(rank) is outside 1...4")
        }
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw DataError.truncated(path: path, expectedBytes: headerSize, actualBytes: data.count)
        }
        var dimensions: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            let value = Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
            dimensions.append(value)
        }
        let payload = try DeclaredSize.payload(dimensions, elementSize: 1, offset: headerSize, available: data.count, path: path)
        guard data.count == headerSize + payload else {
            throw DataError.badFormat(path: path, reason: "\(data.count - headerSize - payload) unexpected trailing bytes")
        }
        return Array(dimensions: dimensions, bytes: Swift.Array(data[headerSize...]))
    }
}

import SiftFiles