import CSystemZlib
import Foundation

/// Writers for the small dataset files that reader tests feed back in.
public enum FileFixtures {
    /// An unsigned-byte IDX file with the given dimensions.
    public static func idx(dimensions: [Int], bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions {
            out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
        }
        return out + bytes
    }

    /// A CIFAR-10 binary batch: one label byte then 3072 pixel bytes per record.
    public static func cifarBatch(labels: [UInt8], pixel: (Int, Int) -> UInt8) -> [UInt8] {
        var out: [UInt8] = []
        for (r, label) in labels.enumerated() {
            out.append(label)
            for j in 0..<3072 { out.append(pixel(r, j)) }
        }
        return out
    }

    /// gzip (windowBits 31) or raw deflate (windowBits −15) of `bytes`.
    public static func deflate(_ bytes: [UInt8], gzip: Bool) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip ? 31 : -15, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        var input = bytes
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                let result = CSystemZlib.deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate did not finish")
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }

    /// A zip archive (as NumPy's savez writes) holding the named files, stored or deflated.
    public static func zip(_ files: [(name: String, bytes: [UInt8])], deflated: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16 & 0xFFFF) }
        var body: [UInt8] = [], directory: [UInt8] = []
        for file in files {
            let crc = file.bytes.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, UInt32($0.count))) }
            let payload = deflated ? deflate(file.bytes, gzip: false) : file.bytes
            let name = Array(file.name.utf8)
            let method = deflated ? 8 : 0
            let common =
                u16(20) + u16(0) + u16(method) + u16(0) + u16(0) + u32(crc) + u32(payload.count) + u32(file.bytes.count)
                + u16(name.count) + u16(0)
            directory +=
                u32(0x0201_4B50) + u16(20) + common + u16(0) + u16(0) + u16(0) + u32(0) + u32(body.count) + name
            body += u32(0x0403_4B50) + common + name + payload
        }
        let end =
            u32(0x0605_4B50) + u16(0) + u16(0) + u16(files.count) + u16(files.count) + u32(directory.count)
            + u32(body.count) + u16(0)
        return body + directory + end
    }
}
