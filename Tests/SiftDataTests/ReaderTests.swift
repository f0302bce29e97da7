import Foundation
import SiftData
import SiftFiles
import SiftTestKit
import Testing

@Suite struct IDXReaderTests {
    let images: [UInt8] = (0..<(3 * 4 * 5)).map { UInt8($0 * 3 % 256) }

    @Test func readsRawAndGzippedFolders() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let imageFile = FileFixtures.idx(dimensions: [3, 4, 5], bytes: images)
        let labelFile = FileFixtures.idx(dimensions: [3], bytes: [2, 0, 9])
        _ = try dir.write(imageFile, to: "train-images-idx3-ubyte")
        _ = try dir.write(labelFile, to: "train-labels-idx1-ubyte")
        _ = try dir.write(FileFixtures.deflate(imageFile, gzip: true), to: "t10k-images-idx3-ubyte.gz")
        _ = try dir.write(FileFixtures.deflate(labelFile, gzip: true), to: "t10k-labels-idx1-ubyte.gz")

        let split = try IDXDataset.load(directory: dir.path, hint: "")
        #expect(split.train.shape == ImageShape(channels: 1, height: 4, width: 5))
        #expect(split.train.labels == [2, 0, 9])
        #expect(split.test.features == split.train.features)
        #expect(split.train.features[7] == Float(images[7]) / 255)
        #expect(split.classCount == 10)
    }

    @Test func truncatedFilesGiveClearErrors() throws {
        let full = FileFixtures.idx(dimensions: [3, 4, 5], bytes: images)
        for cut in [0, 3, 7, full.count - 1] {
            #expect(throws: DataError.self) { try IDXReader.parse(Array(full.prefix(cut)), path: "x.idx") }
        }
        do {
            _ = try IDXReader.parse(Array(full.prefix(full.count - 1)), path: "cut.idx")
            Issue.record("a truncated file was accepted")
        } catch let error as DataError {
            #expect(error == .truncated(path: "cut.idx", expectedBytes: full.count, actualBytes: full.count - 1))
            #expect(error.description.contains("cut.idx"))
        }
    }

    @Test func corruptHeadersAndGzipAreRejected() throws {
        var wrongType = FileFixtures.idx(dimensions: [2], bytes: [1, 2])
        wrongType[2] = 0x0D
        #expect(throws: DataError.self) { try IDXReader.parse(wrongType, path: "f.idx") }
        #expect(throws: DataError.self) { try IDXReader.parse([1, 2, 8, 1, 0, 0, 0, 1, 5], path: "f.idx") }

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let gz = FileFixtures.deflate(FileFixtures.idx(dimensions: [3, 4, 5], bytes: images), gzip: true)
        let cut = try dir.write(Array(gz.prefix(gz.count / 2)), to: "cut.gz")
        var garbled = gz
        for i in 12..<min(40, garbled.count) { garbled[i] ^= 0x5A }
        let bad = try dir.write(garbled, to: "bad.gz")
        for path in [cut, bad] {
            #expect(throws: DataError.self) { try IDXReader.read(path) }
        }
    }

    @Test func missingFolderNamesThePackage() throws {
        do {
            _ = try IDXDataset.load(directory: "/nonexistent/fashion", hint: IDXDataset.fashionMNISTHint)
            Issue.record("a missing folder was accepted")
        } catch let error as DataError {
            #expect(error.description.contains("/nonexistent/fashion/train-images-idx3-ubyte"))
            #expect(error.description.contains("dataset-fashion-mnist"))
        }
    }

    @Test func mismatchedLabelCountIsReported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for prefix in ["train", "t10k"] {
            _ = try dir.write(
                FileFixtures.idx(dimensions: [3, 4, 5], bytes: images), to: "\(prefix)-images-idx3-ubyte")
            _ = try dir.write(FileFixtures.idx(dimensions: [2], bytes: [1, 2]), to: "\(prefix)-labels-idx1-ubyte")
        }
        #expect(throws: DataError.self) { try IDXDataset.load(directory: dir.path, hint: "") }
    }
}

@Suite struct CIFARReaderTests {
    @Test func readsRecordsAndConvertsToGrayscale() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let labels: [UInt8] = [3, 7]
        let batch = FileFixtures.cifarBatch(labels: labels) { r, j in UInt8((r * 50 + j / 1024 * 100) % 256) }
        for name in CIFARDataset.trainFiles + [CIFARDataset.testFile] { _ = try dir.write(batch, to: name) }

        let colour = try CIFARDataset.load(directory: dir.path, grayscale: false)
        #expect(colour.train.count == 10)
        #expect(colour.train.shape == ImageShape(channels: 3, height: 32, width: 32))
        #expect(colour.test.labels == [3, 7])
        #expect(colour.train.features[1024] == Float(100) / 255)

        let gray = try CIFARDataset.load(directory: dir.path, grayscale: true)
        #expect(gray.test.shape.channels == 1)
        let expected: Float = (0.299 * 0 + 0.587 * 100 + 0.114 * 200) / 255
        #expect(abs(gray.test.features[0] - expected) < 1e-5)
    }

    @Test func truncatedAndCorruptBatchesAreRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let batch = FileFixtures.cifarBatch(labels: [1, 2]) { _, _ in 9 }
        let cut = try dir.write(Array(batch.prefix(batch.count - 10)), to: "cut.bin")
        #expect(throws: DataError.truncated(path: cut, expectedBytes: batch.count, actualBytes: batch.count - 10)) {
            try CIFARDataset.readBatch(cut)
        }
        var badLabel = batch
        badLabel[0] = 42
        let bad = try dir.write(badLabel, to: "bad.bin")
        #expect(throws: DataError.self) { try CIFARDataset.readBatch(bad) }
        #expect(throws: DataError.self) { try CIFARDataset.readBatch(try dir.write([], to: "empty.bin")) }
    }
}

@Suite struct NumpyReaderTests {
    @Test func readsNpzStoredAndDeflated() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let x = NumpyArray(uint8: (0..<(4 * 2 * 3)).map { UInt8($0 * 10) }, shape: [4, 2, 3])
        let y = NumpyArray(
            dtype: .int64, shape: [4], bytes: [Int64](arrayLiteral: 0, 1, 2, 1).withUnsafeBytes { [UInt8]($0) })
        for deflated in [false, true] {
            let archive = FileFixtures.zip([("x.npy", x.encoded()), ("y.npy", y.encoded())], deflated: deflated)
            let path = try dir.write(archive, to: "data-\(deflated).npz")
            let images = try ArrayDataset.loadImages(path)
            #expect(images.shape == ImageShape(channels: 1, height: 2, width: 3))
            #expect(images.labels == [0, 1, 2, 1])
            #expect(images.features[5] == Float(50) / 255)
        }
    }

    @Test func brokenNpzArchivesAreRejected() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let x = NumpyArray(float32: [1, 2, 3, 4], shape: [1, 2, 2])
        let y = NumpyArray(uint8: [0, 1], shape: [2])
        let archive = FileFixtures.zip([("x.npy", x.encoded()), ("y.npy", y.encoded())], deflated: true)
        let cut = try dir.write(Array(archive.prefix(archive.count - 30)), to: "cut.npz")
        let mismatched = try dir.write(archive, to: "mismatch.npz")
        let noY = try dir.write(FileFixtures.zip([("x.npy", x.encoded())], deflated: false), to: "noy.npz")
        for path in [cut, mismatched, noY] {
            #expect(throws: DataError.self) { try ArrayDataset.loadImages(path) }
        }
    }
}
