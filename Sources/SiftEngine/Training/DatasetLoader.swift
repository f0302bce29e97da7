import SiftData
import SiftRandom
import SiftSpec

/// Reads or generates an experiment's data, then applies its transforms.
public enum DatasetLoader {
    /// `stream` keys every random choice (NLGP draws, subset, scramble, label shuffle).
    public static func load(_ spec: DataSpec, stream: RandomStream) throws -> DatasetSplit {
        let raw: DatasetSplit
        switch spec.source {
        case .fashionMNIST(let directory):
            raw = try IDXDataset.load(
                directory: directory ?? IDXDataset.fashionMNISTDirectory, hint: IDXDataset.fashionMNISTHint)
        case .mnist(let directory):
            raw = try IDXDataset.load(
                directory: directory, hint: "Set data.path to a folder holding the MNIST IDX files.")
        case let .cifar10(directory, grayscale):
            raw = try CIFARDataset.load(directory: directory, grayscale: grayscale)
        case let .arrays(train, test):
            raw = try ArrayDataset.load(train: train, test: test)
        case .nlgp(let settings):
            let generator = settings.generator
            raw = DatasetSplit(
                train: generator.generate(count: settings.trainCount, stream: stream.derived("nlgp-train")),
                test: generator.generate(count: settings.testCount, stream: stream.derived("nlgp-test")),
                classCount: settings.correlationLengths.count)
        }
        return try spec.transforms.apply(to: raw, stream: stream.derived("transforms"))
    }
}
