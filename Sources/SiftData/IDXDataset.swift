import Foundation
import SiftFiles

/// MNIST-layout folders: train-images-idx3-ubyte[.gz] and friends.
public enum IDXDataset {
    /// Where the Debian package puts Fashion-MNIST; a node that keeps it elsewhere sets SIFT_FASHION_MNIST
    /// for its workers (the experiment's hash does not depend on where a node keeps its data).
    public static var fashionMNISTDirectory: String {
        ProcessInfo.processInfo.environment["SIFT_FASHION_MNIST"] ?? "/usr/share/datasets/fashion-mnist"
    }
    public static let fashionMNISTHint =
        "Install it with `apt-get install dataset-fashion-mnist`, or set data.path to a folder of IDX files."

    public static func load(directory: String, hint: String) throws -> DatasetSplit {
        let train = try loadPart(directory: directory, prefix: "train", hint: hint)
        let test = try loadPart(directory: directory, prefix: "t10k", hint: hint)
        guard train.shape == test.shape else {
            throw DataError.inconsistent(
                path: directory, reason: "train images are \(train.shape), test images \(test.shape)")
        }
        return DatasetSplit(train: train, test: test)
    }

    static func locate(_ directory: String, _ name: String, hint: String) throws -> String {
        let base = (directory as NSString).appendingPathComponent(name)
        for candidate in [base + ".gz", base] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw DataError.missing(path: base + "[.gz]", hint: hint)
    }

    static func loadPart(directory: String, prefix: String, hint: String) throws -> LabelledImages {
        let imagePath = try locate(directory, "\(prefix)-images-idx3-ubyte", hint: hint)
        let labelPath = try locate(directory, "\(prefix)-labels-idx1-ubyte", hint: hint)
        let images = try IDXReader.read(imagePath, hint: hint)
        let labels = try IDXReader.read(labelPath, hint: hint)
        guard images.dimensions.count == 3 else {
            throw DataError.badFormat(path: imagePath, reason: "images must have rank 3, found \(images.dimensions)")
        }
        guard labels.dimensions.count == 1 else {
            throw DataError.badFormat(path: labelPath, reason: "labels must have rank 1, found \(labels.dimensions)")
        }
        guard labels.dimensions[0] == images.dimensions[0] else {
            throw DataError.inconsistent(
                path: labelPath,
                reason: "\(labels.dimensions[0]) labels for \(images.dimensions[0]) images in \(imagePath)")
        }
        let shape = ImageShape(channels: 1, height: images.dimensions[1], width: images.dimensions[2])
        return LabelledImages(
            shape: shape,
            features: images.bytes.map { Float($0) / 255 },
            labels: labels.bytes.map { Int32($0) })
    }
}
