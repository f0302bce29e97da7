import Foundation
import SiftFiles
import SiftTestKit
import Testing

/// The file formats on their own: .npy round trips, and headers that lie (sizes that overflow, entries that
/// inflate past what they declare) give a `DataError` naming the file before anything is allocated.
@Suite struct FileFormatTests {
    @Test func roundTripsFloatAndByteArrays() throws {
        let floats = NumpyArray(float32: [1.5, -2, 0, 3.25, 7, 8], shape: [2, 3])
        let parsed = try NumpyArray.parse(floats.encoded(), path: "f.npy")
        #expect(parsed == floats)
        #expect(parsed.floats() == [1.5, -2, 0, 3.25, 7, 8])
        #expect((floats.encoded().count - 6 * 4) % 64 == 0, "data must start on a 64-byte boundary")
        let bytes = NumpyArray(uint8: [0, 1, 1, 0], shape: [4])
        #expect(try NumpyArray.parse(bytes.encoded(), path: "b.npy").integers() == [0, 1, 1, 0])
    }

    @Test func truncatedAndCorruptFilesAreRejected() throws {
        let encoded = NumpyArray(float32: [1, 2, 3, 4], shape: [4]).encoded()
        for cut in [0, 5, 9, 20, encoded.count - 1] {
            #expect(throws: DataError.self) { try NumpyArray.parse(Array(encoded.prefix(cut)), path: "t.npy") }
        }
        var badMagic = encoded
        badMagic[1] = 0
        #expect(throws: DataError.self) { try NumpyArray.parse(badMagic, path: "m.npy") }
        let fortran = String(decoding: encoded, as: UTF8.self).replacingOccurrences(of: "False", with: "True ")
        #expect(throws: DataError.self) { try NumpyArray.parse(Array(fortran.utf8), path: "f.npy") }
        let complex = String(decoding: encoded, as: UTF8.self).replacingOccurrences(of: "<f4", with: "<c8")
        #expect(throws: DataError.self) { try NumpyArray.parse(Array(complex.utf8), path: "c.npy") }
    }

    @Test func npyShapesThatOverflowAreRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var bytes = NumpyArray(float32: [1, 2], shape: [2]).encoded()
        let header = String(decoding: bytes, as: UTF8.self)
        // Same header length, a shape whose byte count overflows Int.
        let forged = header.replacingOccurrences(of: "(2,)", with: "(9223372036854775807, 4)")
        bytes = Array(forged.utf8.prefix(bytes.count))
        let path = try dir.write(bytes, to: "forged.npy")
        let text = dataErrorText { _ = try NumpyArray.read(path) }
        #expect(text.contains("forged.npy"), "\(text)")
    }

    @Test func inflationIsBoundedAtAnySize() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // A zip entry that holds more than its central directory declares: stopped at the declared size.
        let x = NumpyArray(float32: [Float](repeating: 1, count: 64), shape: [64])
        var archive = FileFixtures.zip([("x.npy", x.encoded())], deflated: true)
        let signature: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        let directory = try #require((0..<(archive.count - 4)).first { Array(archive[$0..<($0 + 4)]) == signature })
        let declared = x.encoded().count - 1
        archive.replaceSubrange(
            (directory + 24)..<(directory + 28),
            with: [UInt8(declared & 0xFF), UInt8(declared >> 8 & 0xFF), 0, 0])
        let short = dataErrorText { _ = try ZipArchive(bytes: archive, path: "short.npz").data("x.npy") }
        #expect(
            short.contains("short.npz:x.npy") && short.contains("inflates past the \(declared) bytes it declares"),
            "\(short)")
        let gzip = FileFixtures.deflate([UInt8](repeating: 3, count: 100_000), gzip: true)
        #expect(
            try Inflate.gzip(gzip, path: "ok.gz").count == 100_000, "a highly compressed gzip still inflates in full")
    }
}
