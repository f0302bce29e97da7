import Foundation
import SiftFiles

/// Arrays brought in from anywhere (ImageNet32 included): an .npz holding `x` and `y`,
/// or a folder holding `x.npy` and `y.npy`. `x` is N×C×H×W or N×H×W, uint8 (scaled to [0,1]) or float.
public enum ArrayDataset {
    public static func load(train: String, test: String) throws -> DatasetSplit {
        let trainImages = try loadImages(train)
        let testImages = try loadImages(test)
        guard trainImages.shape == testImages.shape else {
            throw DataError.inconsistent(
                path: test, reason: "test images are \(testImages.shape), train images \(trainImages.shape) in \(train)"
            )
        }
        return DatasetSplit(train: trainImages, test: testImages)
    }

    public static func loadImages(_ path: String) throws -> LabelledImages {
        let (x, y) = try readPair(path)
        let xPath = "\(path):x", yPath = "\(path):y"
        let shape: ImageShape
        switch x.shape.count {
        case 3: shape = ImageShape(channels: 1, height: x.shape[1], width: x.shape[2])
        case 4: shape = ImageShape(channels: x.shape[1], height: x.shape[2], width: x.shape[3])
        default: throw DataError.badFormat(path: xPath, reason: "x must be N×H×W or N×C×H×W, found shape \(x.shape)")
        }
        guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
            throw DataError.badFormat(path: yPath, reason: "y must be a vector of N labels, found shape \(y.shape)")
        }
        guard y.shape[0] == x.shape[0] else {
            throw DataError.inconsistent(path: yPath, reason: "\(y.shape[0]) labels for \(x.shape[0]) images")
        }
        let labels = y.integers()
        if let bad = labels.first(where: { $0 < 0 || $0 > Int(Int32.max) }) {
            throw DataError.badFormat(path: yPath, reason: "label \(bad) is not a class index")
        }
        var features = x.floats()
        if x.dtype == .uint8 {
            for i in features.indices { features[i] /= 255 }
        }
        return LabelledImages(shape: shape, features: features, labels: labels.map { Int32($0) })
    }

    private static func readPair(_ path: String) throws -> (NumpyArray, NumpyArray) {
        let hint = "Set data.path / data.test_path to an .npz with arrays x and y, or a folder with x.npy and y.npy."
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.missing(path: path, hint: hint)
        }
        if isDirectory.boolValue {
            return (
                try NumpyArray.read((path as NSString).appendingPathComponent("x.npy")),
                try NumpyArray.read((path as NSString).appendingPathComponent("y.npy"))
            )
        }
        let archive = try ZipArchive(path: path)
        func array(_ name: String) throws -> NumpyArray {
            let origin = "\(path):\(name)"
            return try NumpyArray.parse(
                archive.data(name, declaredLength: { try NumpyArray.declaredLength($0, path: origin) }),
                path: origin)
        }
        return (try array("x.npy"), try array("y.npy"))
    }
}
