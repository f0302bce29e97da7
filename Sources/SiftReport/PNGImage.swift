import CSystemZlib
import Foundation

/// An 8-bit RGB image that encodes itself as PNG, so the report can embed pictures without network or libraries.
package struct PNGImage: Sendable {
    package let width: Int
    package let height: Int
    /// Row-major RGB triples.
    package var pixels: [UInt8]

    package init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGB pixels disagree with the size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Maps each value through `color`, row-major over `width` × `height`.
    package init(width: Int, height: Int, values: [Double], color: (Double) -> (UInt8, UInt8, UInt8)) {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(values.count * 3)
        for v in values {
            let (r, g, b) = color(v)
            pixels += [r, g, b]
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    package var encoded: [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)  // filter: none
            let rowStart: Int = y * width * 3
            raw.append(contentsOf: pixels[rowStart..<(rowStart + width * 3)])
        }
        var compressedSize = compressBound(UInt(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compress2(&compressed, &compressedSize, raw, UInt(raw.count), 9)
        precondition(status == Z_OK, "zlib compress2 failed with \(status)")
        compressed.removeLast(compressed.count - Int(compressedSize))

        func be32(_ v: Int) -> [UInt8] {
            [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = body.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, UInt32($0.count))) }
            return be32(data.count) + body + be32(crc)
        }
        let header = be32(width) + be32(height) + [8, 2, 0, 0, 0]  // 8-bit RGB
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", compressed)
            + chunk("IEND", [])
    }

    package var dataURI: String { "data:image/png;base64," + Data(encoded).base64EncodedString() }
}

/// Colour scales for maps: sequential for counts, diverging for signed weights.
package enum ColorScale {
    /// Dark blue → teal → yellow, for v in [0, 1].
    package static func sequential(_ v: Double) -> (UInt8, UInt8, UInt8) {
        let stops: [(Double, Double, Double)] = [
            (0.07, 0.04, 0.25), (0.13, 0.45, 0.55), (0.55, 0.80, 0.35), (0.99, 0.91, 0.15),
        ]
        let t = min(max(v.isFinite ? v : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(t), stops.count - 2), f = t - Double(i)
        func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * f) * 255) }
        return (mix(stops[i].0, stops[i + 1].0), mix(stops[i].1, stops[i + 1].1), mix(stops[i].2, stops[i + 1].2))
    }

    /// Blue (−1) → white (0) → red (+1).
    package static func diverging(_ v: Double) -> (UInt8, UInt8, UInt8) {
        let t = min(max(v.isFinite ? v : 0, -1), 1)
        let fade = UInt8((1 - abs(t)) * 255)
        return t >= 0 ? (255, fade, fade) : (fade, fade, 255)
    }
}
