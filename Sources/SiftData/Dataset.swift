/// Labelled images held as one row-major [count, shape.size] Float32 block.
public struct LabelledImages: Sendable {
    public var shape: ImageShape
    public var features: [Float]
    public var labels: [Int32]

    public init(shape: ImageShape, features: [Float], labels: [Int32]) {
        precondition(features.count == labels.count * shape.size, "features and labels disagree")
        self.shape = shape
        self.features = features
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var classCount: Int { Int(labels.max() ?? -1) + 1 }

    /// The rows at the given indices, in that order.
    public func rows(_ indices: [Int]) -> LabelledImages {
        let d = shape.size
        var out = [Float](repeating: 0, count: indices.count * d)
        out.withUnsafeMutableBufferPointer { dst in
            features.withUnsafeBufferPointer { src in
                for (r, i) in indices.enumerated() {
                    (dst.baseAddress! + r * d).update(from: src.baseAddress! + i * d, count: d)
                }
            }
        }
        return LabelledImages(shape: shape, features: out, labels: indices.map { labels[$0] })
    }
}

/// A training and a test set over the same image shape.
public struct DatasetSplit: Sendable {
    public var train: LabelledImages
    public var test: LabelledImages
    /// How many classes the model must output; at least the largest label plus one.
    public var classCount: Int

    public init(train: LabelledImages, test: LabelledImages, classCount: Int? = nil) {
        self.train = train
        self.test = test
        self.classCount = classCount ?? max(train.classCount, test.classCount)
    }
}

import SiftFiles
