import Foundation
import SiftData
import SiftFiles

/// Decodes 8-bit RGB or RGBA PNG files (as headless Chromium writes them), for tests that look at screenshots.
public struct DecodedPNG {
    public let width: Int
    public let height: Int
    /// RGB triples, row-major (alpha dropped).
    public let rgb: [UInt8]

    public init(path: String) throws {
        let bytes = try FileBytes.read(path)
        guard bytes.count > 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw DataError.badFormat(path: path, reason: "not a PNG")
        }
        func be32(_ o: Int) -> Int {
            Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        var offset = 8, width = 0, height = 0, channels = 0
        var data: [UInt8] = []
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<min(offset + 8 + length, bytes.count)])
            switch type {
            case "IHDR":
                width = be32(offset + 8); height = be32(offset + 12)
                guard body[8] == 8, body[9] == 2 || body[9] == 6, body[12] == 0 else {
                    throw DataError.badFormat(
                        path: path, reason: "only 8-bit non-interlaced RGB/RGBA PNGs are supported")
                }
                channels = body[9] == 6 ? 4 : 3
            case "IDAT": data += body
            default: break
            }
            offset += 12 + length
        }
        let raw = try Inflate.zlib(data, path: path)
        let stride = width * channels
        guard raw.count == height * (stride + 1) else {
            throw DataError.badFormat(path: path, reason: "image data size mismatch")
        }
        var image = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(image[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(image[(y - 1) * stride + x]) : 0
                let c = (x >= channels && y > 0) ? Int(image[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                default:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                }
                image[y * stride + x] = UInt8((value + predictor) & 0xFF)
            }
        }
        self.width = width
        self.height = height
        rgb = channels == 3 ? image : (0..<(width * height)).flatMap { Array(image[($0 * 4)..<($0 * 4 + 3)]) }
    }

    /// Fraction of pixels that are not (near) white.
    public var inkFraction: Double {
        var ink = 0
        for p in 0..<(width * height) where Int(rgb[p * 3]) + Int(rgb[p * 3 + 1]) + Int(rgb[p * 3 + 2]) < 720 {
            ink += 1
        }
        return Double(ink) / Double(max(width * height, 1))
    }
}
