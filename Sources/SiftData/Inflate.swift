import CZlib

/// zlib inflation: gzip members (IDX files) and raw deflate streams (zip entries).
public enum Inflate {
    public static func gzip(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        try inflate(bytes, windowBits: 15 + 16, expectedSize: nil, path: path)
    }

    /// A zlib stream (as in PNG image data).
    public static func zlib(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        try inflate(bytes, windowBits: 15, expectedSize: nil, path: path)
    }

    public static func rawDeflate(_ bytes: [UInt8], expectedSize: Int, path: String) throws -> [UInt8] {
        try inflate(bytes, windowBits: -15, expectedSize: expectedSize, path: path)
    }

    private static func inflate(_ input: [UInt8], windowBits: Int32, expectedSize: Int?, path: String) throws -> [UInt8] {
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw DataError.unreadable(path: path, reason: "zlib could not start (code \(initStatus))")
        }
        defer { inflateEnd(&stream) }

        var output = [UInt8](repeating: 0, count: max(expectedSize ?? input.count * 4, 1024))
        var produced = 0
        var status: Int32 = Z_OK
        var source = input
        source.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            while status == Z_OK {
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: output.count)) }
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = UInt32(outBuffer.count - produced)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = outBuffer.count - Int(stream.avail_out)
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
                if status == Z_BUF_ERROR { status = Z_OK }
            }
        }
        guard status == Z_STREAM_END else {
            let reason = status == Z_BUF_ERROR || status == Z_OK
                ? "compressed stream ends early (truncated download?)"
                : "corrupt compressed data (zlib code \(status))"
            throw DataError.badFormat(path: path, reason: reason)
        }
        if let expectedSize, produced != expectedSize {
            throw DataError.badFormat(path: path, reason: "inflated to \(produced) bytes, expected \(expectedSize)")
        }
        output.removeLast(output.count - produced)
        return output
    }
}
