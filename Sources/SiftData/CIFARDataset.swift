import Foundation
import SiftFiles

/// CIFAR-10 binary batches: records of one label byte and 3072 bytes of RGB planes.
public enum CIFARDataset {
    public static let recordSize = 1 + 3 * 32 * 32
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFile = "test_batch.bin"
    static let hint =
        "Download the CIFAR-10 binary version and set data.path to the folder holding data_batch_1.bin … test_batch.bin."

    public static func load(directory: String, grayscale: Bool) throws -> DatasetSplit {
        let train = try trainFiles.map { try readBatch((directory as NSString).appendingPathComponent($0)) }
        let test = try readBatch((directory as NSString).appendingPathComponent(testFile))
        let merged = LabelledImages(
            shape: train[0].shape,
            features: train.flatMap(\.features),
            labels: train.flatMap(\.labels))
        guard grayscale else { return DatasetSplit(train: merged, test: test, classCount: 10) }
        return DatasetSplit(train: toGrayscale(merged), test: toGrayscale(test), classCount: 10)
    }

    public static func readBatch(_ path: String) throws -> LabelledImages {
        let bytes = try FileBytes.read(path, hint: hint)
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            let whole = max(1, (bytes.count + recordSize - 1) / recordSize) * recordSize
            throw DataError.truncated(path: path, expectedBytes: whole, actualBytes: bytes.count)
        }
        let count = bytes.count / recordSize
        var features = [Float](repeating: 0, count: count * (recordSize - 1))
        var labels = [Int32](repeating: 0, count: count)
        for r in 0..<count {
            let label = bytes[r * recordSize]
            guard label < 10 else {
                throw DataError.badFormat(
                    path: path, reason: "record \(r) has label \(label), CIFAR-10 labels are 0...9")
            }
            labels[r] = Int32(label)
            let src = r * recordSize + 1
            let dst = r * (recordSize - 1)
            for j in 0..<(recordSize - 1) { features[dst + j] = Float(bytes[src + j]) / 255 }
        }
        return LabelledImages(shape: ImageShape(channels: 3, height: 32, width: 32), features: features, labels: labels)
    }

    /// ITU-R 601 luma.
    static func toGrayscale(_ images: LabelledImages) -> LabelledImages {
        let plane = images.shape.height * images.shape.width
        var out = [Float](repeating: 0, count: images.count * plane)
        for n in 0..<images.count {
            let base = n * 3 * plane
            for p in 0..<plane {
                out[n * plane + p] =
                    0.299 * images.features[base + p]
                    + 0.587 * images.features[base + plane + p]
                    + 0.114 * images.features[base + 2 * plane + p]
            }
        }
        var shape = images.shape
        shape.channels = 1
        return LabelledImages(shape: shape, features: out, labels: images.labels)
    }
}
