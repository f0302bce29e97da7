import Foundation
import SiftData
import SiftFiles
import SiftTestKit
import Testing

/// Files whose headers lie: every one gives a `DataError` naming the file, before anything the
/// header declares is allocated, and never an overflow trap.
@Suite struct CraftedFileTests {
    @Test func idxDimensionsThatOverflowAreRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let huge = try dir.write(
            FileFixtures.idx(dimensions: [0xFFFF_FFFF, 3], bytes: [1, 2, 3]), to: "huge-idx1-ubyte")
        #expect(dataErrorText { _ = try IDXReader.read(huge) }.contains("huge-idx1-ubyte is truncated"))
        let overflowing = try dir.write(
            FileFixtures.idx(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], bytes: []),
            to: "overflow-idx3-ubyte")
        let text = dataErrorText { _ = try IDXReader.read(overflowing) }
        #expect(text.contains("overflow-idx3-ubyte") && text.contains("larger than any file could hold"), "\(text)")
    }

    @Test func zipEntriesClaimingHugeSizesAreRejectedBeforeAllocating() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let x = NumpyArray(float32: [Float](repeating: 1, count: 64), shape: [64])
        var archive = FileFixtures.zip([("x.npy", x.encoded()), ("y.npy", x.encoded())], deflated: true)
        // The central directory's first entry: its uncompressed size (offset 24) claims 4 GB.
        let signature: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        let start: Int? = (0..<(archive.count - 4)).first { Array(archive[$0..<($0 + 4)]) == signature }
        let directory = try #require(start)
        archive.replaceSubrange((directory + 24)..<(directory + 28), with: [0x00, 0x00, 0x00, 0xF0])
        let path = try dir.write(archive, to: "claims-4gb.npz")
        let text = dataErrorText { _ = try ArrayDataset.loadImages(path) }
        #expect(text.contains("claims-4gb.npz") && text.contains("more than deflate can produce"), "\(text)")
    }

    @Test func aCorruptZipEntryFailsItsChecksum() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let x = NumpyArray(float32: [Float](repeating: 1, count: 64), shape: [64])
        var archive = FileFixtures.zip([("x.npy", x.encoded()), ("y.npy", x.encoded())], deflated: false)
        // A bit flipped in the middle of the first stored entry's data: sizes and headers still agree.
        archive[30 + 5 + 100] ^= 0x10
        let path = try dir.write(archive, to: "flipped.npz")
        let text = dataErrorText { _ = try ArrayDataset.loadImages(path) }
        #expect(text.contains("flipped.npz:x.npy") && text.contains("CRC-32"), "\(text)")
    }

    /// A gzipped IDX file whose stream goes on far past what its header declares (a decompression bomb):
    /// inflation stops at the declared length, long before the rest is allocated.
    @Test func aGzipBombStopsAtItsHeadersLength() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let idx = FileFixtures.idx(dimensions: [10, 28, 28], bytes: [UInt8](repeating: 0, count: 10 * 28 * 28))
        let bomb = FileFixtures.deflate(idx + [UInt8](repeating: 0, count: 64 << 20), gzip: true)
        let path = try dir.write(bomb, to: "train-images-idx3-ubyte.gz")
        let text = dataErrorText { _ = try IDXReader.read(path) }
        #expect(
            text.contains("train-images-idx3-ubyte.gz")
                && text.contains("inflates past the \(idx.count) bytes its header declares"),
            "\(text)")
        // Honest files still read whole.
        let honest = try dir.write(FileFixtures.deflate(idx, gzip: true), to: "honest-idx3-ubyte.gz")
        #expect(try IDXReader.read(honest).dimensions == [10, 28, 28])
    }

    /// An .npz entry that truthfully declares 64 MB in its zip directory but whose .npy header declares 16 bytes
    /// of data: extraction stops at the .npy header's length.
    @Test func anNpzBombStopsAtItsNpyHeadersLength() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let x = NumpyArray(float32: [1, 2, 3, 4], shape: [4]).encoded()
        let archive = FileFixtures.zip(
            [("x.npy", x + [UInt8](repeating: 0, count: 64 << 20)), ("y.npy", x)], deflated: true)
        let path = try dir.write(archive, to: "bomb.npz")
        let text = dataErrorText { _ = try ArrayDataset.loadImages(path) }
        #expect(
            text.contains("bomb.npz:x.npy") && text.contains("inflates past the \(x.count) bytes its header declares"),
            "\(text)")
    }
}
