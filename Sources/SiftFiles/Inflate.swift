import CSystemZlib

/// zlib inflation: gzip members (IDX files) and zlib streams (PNG data).
///
/// Output is bounded before it is allocated: deflate cannot expand data more than 1032-fold, so a
/// stream that inflates past that (a crafted file) is an error. That ratio still lets 2 MB become 2 GB,
/// so a caller that knows the format passes `declaredLength`: once the inflated bytes hold the format's
/// header, the size it declares is the bound, and a stream that goes on past it stops there with an
/// error. zlib counts in 32 bits, so input and output are fed to it in pieces.
public enum Inflate {
    /// Reads a format's header off the first inflated bytes: the whole inflated length it declares
    /// (header included), nil while the header is incomplete; throws for a header that is malformed.
    public typealias DeclaredLength = (ArraySlice<UInt8>) throws -> Int?

    /// The most a deflate stream of `compressed` bytes can inflate to (zlib's own bound, plus headers).
    public static func maximumInflated(_ compressed: Int) -> Int {
        compressed.multipliedReportingOverflow(by: 1032).overflow ? Int.max : compressed * 1032 + 1024
    }

    public static func gzip(_ bytes: [UInt8], path: String, declaredLength: DeclaredLength? = nil) throws -> [UInt8] {
        try inflate(bytes, windowBits: 15 + 16, path: path, declaredLength: declaredLength)
    }

    /// A zlib stream (as in PNG image data).
    public static func zlib(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        try inflate(bytes, windowBits: 15, path: path)
    }

    private static func inflate(
        _ input: [UInt8], windowBits: Int32, path: String,
        declaredLength: DeclaredLength? = nil
    ) throws -> [UInt8] {
        var bound = maximumInflated(input.count)
        // What the header declares, once read: the bound from then on.
        var declared: Int?
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw DataError.unreadable(path: path, reason: "zlib could not start (code \(initStatus))")
        }
        defer { inflateEnd(&stream) }

        // Grow as output appears, never beyond what the stream may legitimately produce.
        var output = [UInt8](repeating: 0, count: min(max(input.count * 4, 1024), bound + 1))
        var produced = 0, consumed = 0
        var status: Int32 = Z_OK
        let piece = Int(UInt32.max)
        var headerError: Error?
        input.withUnsafeBufferPointer { inBuffer in
            while status == Z_OK {
                if let declaredLength, declared == nil, produced > 0 {
                    do {
                        if let length = try declaredLength(output[0..<produced]) {
                            declared = length
                            bound = min(bound, length)
                        }
                    } catch {
                        headerError = error
                        break
                    }
                }
                if produced > bound { break }
                if stream.avail_in == 0 && consumed < inBuffer.count {
                    let count = min(piece, inBuffer.count - consumed)
                    stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + consumed)
                    stream.avail_in = UInt32(count)
                    consumed += count
                }
                if produced == output.count {
                    // Past the bound by one byte at most: room to notice a stream longer than declared.
                    guard output.count <= bound else { break }
                    output.append(contentsOf: [UInt8](repeating: 0, count: min(output.count, bound + 1 - output.count)))
                }
                output.withUnsafeMutableBufferPointer { outBuffer in
                    let room = min(piece, outBuffer.count - produced)
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    status = CSystemZlib.inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 && consumed == inBuffer.count { break }
                if status == Z_BUF_ERROR { status = Z_OK }
            }
        }
        if let headerError { throw headerError }
        if produced > bound {
            if let declared, declared == bound {
                throw DataError.badFormat(path: path, reason: "inflates past the \(declared) bytes its header declares")
            }
            throw DataError.badFormat(
                path: path, reason: "inflates past \(bound) bytes, more than deflate can produce from \(input.count)")
        }
        guard status == Z_STREAM_END else {
            let reason =
                status == Z_BUF_ERROR || status == Z_OK
                ? "compressed stream ends early (truncated download?)"
                : "corrupt compressed data (zlib code \(status))"
            throw DataError.badFormat(path: path, reason: reason)
        }
        output.removeLast(output.count - produced)
        return output
    }
}
