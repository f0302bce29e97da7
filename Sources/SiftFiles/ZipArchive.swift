/// Reads the entries of a zip archive (an .npz), stored or deflated, zip64 included.
public struct ZipArchive {
    public let path: String
    private let bytes: [UInt8]
    public private(set) var entries: [String: Entry] = [:]

    public struct Entry {
        var method: Int
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    public init(path: String) throws {
        try self.init(bytes: FileBytes.read(path), path: path)
    }

    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        self.bytes = bytes
        try readCentralDirectory()
    }

    // Readers of little-endian fields at offsets already checked by `require`.
    private func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
    private func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    /// A zip64 field; a value past Int.max (no file is that large) reads as Int.max and fails `require`.
    private func u64(_ o: Int) -> Int {
        let high = u32(o + 4)
        return high >= 0x8000_0000 ? Int.max : u32(o) | high << 32
    }

    /// Checks that `length` bytes from `offset` lie inside the archive, whatever the values a header declared.
    private func require(_ offset: Int, _ length: Int) throws {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            let end = offset.addingReportingOverflow(length)
            throw DataError.truncated(path: path, expectedBytes: end.overflow ? Int.max : end.partialValue, actualBytes: bytes.count)
        }
    }

    private mutating func readCentralDirectory() throws {
        guard bytes.count >= 22 else { throw DataError.truncated(path: path, expectedBytes: 22, actualBytes: bytes.count) }
        let searchStart = max(0, bytes.count - 22 - 65_535)
        guard let eocd = stride(from: bytes.count - 22, through: searchStart, by: -1).first(where: { u32($0) == 0x0605_4B50 }) else {
            throw DataError.badFormat(path: path, reason: "no zip end-of-central-directory record (truncated or not an .npz)")
        }
        var count = u16(eocd + 10)
        var offset = u32(eocd + 16)
        if (count == 0xFFFF || offset == 0xFFFF_FFFF), eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let record = u64(eocd - 20 + 8)
            try require(record, 56)
            guard u32(record) == 0x0606_4B50 else { throw DataError.badFormat(path: path, reason: "bad zip64 end record") }
            count = u64(record + 32)
            offset = u64(record + 48)
        }
        var cursor = offset
        for _ in 0..<count {
            try require(cursor, 46)
            guard u32(cursor) == 0x0201_4B50 else {
                throw DataError.badFormat(path: path, reason: "bad central directory entry at byte \(cursor)")
            }
            let method = u16(cursor + 10)
            var compressed = u32(cursor + 20)
            var uncompressed = u32(cursor + 24)
            let nameLength = u16(cursor + 28), extraLength = u16(cursor + 30), commentLength = u16(cursor + 32)
            var localOffset = u32(cursor + 42)
            try require(cursor, 46 + nameLength + extraLength + commentLength)
            let name = String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            // zip64 sizes live in extra field 0x0001, in this order, only for the fields set to 0xFFFFFFFF.
            var extra = cursor + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), size = u16(extra + 2)
                if id == 0x0001 {
                    var field = extra + 4
                    // Each zip64 field is read only if it lies inside this extra block.
                    func next() -> Int? {
                        guard field + 8 <= min(extra + 4 + size, extraEnd) else { return nil }
                        defer { field += 8 }
                        return u64(field)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = next() ?? Int.max }
                    if compressed == 0xFFFF_FFFF { compressed = next() ?? Int.max }
                    if localOffset == 0xFFFF_FFFF { localOffset = next() ?? Int.max }
                }
                extra += 4 + size
            }
            entries[name] = Entry(method: method, compressedSize: compressed, uncompressedSize: uncompressed, localHeaderOffset: localOffset)
            cursor = extraEnd + commentLength
        }
    }

    public func data(_ name: String) throws -> [UInt8] {
        guard let entry = entries[name] else {
            throw DataError.badFormat(path: path, reason: "no entry '\(name)' (has: \(entries.keys.sorted().joined(separator: ", ")))")
        }
        try require(entry.localHeaderOffset, 30)
        guard u32(entry.localHeaderOffset) == 0x0403_4B50 else {
            throw DataError.badFormat(path: path, reason: "bad local header for '\(name)'")
        }
        let start = entry.localHeaderOffset + 30 + u16(entry.localHeaderOffset + 26) + u16(entry.localHeaderOffset + 28)
        try require(start, entry.compressedSize)
        let raw = Array(bytes[start..<(start + entry.compressedSize)])
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw DataError.badFormat(path: path, reason: "stored entry '\(name)' declares \(entry.uncompressedSize) bytes but holds \(entry.compressedSize)")
            }
            return raw
        case 8: return try Inflate.rawDeflate(raw, expectedSize: entry.uncompressedSize, path: "\(path):\(name)")
        default: throw DataError.badFormat(path: path, reason: "entry '\(name)' uses zip method \(entry.method); only stored and deflated are supported")
        }
    }
}
