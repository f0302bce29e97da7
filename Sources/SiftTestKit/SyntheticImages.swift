import SiftData
import SiftFiles
import SiftRandom

/// Small learnable datasets made in memory, for engine tests that must not read real data.
public enum SyntheticImages {
    /// Each class lights up its own band of pixels, plus Gaussian noise.
    public static func bands(
        shape: ImageShape, classes: Int, count: Int, noise: Double = 0.3, seed: UInt64
    ) -> LabelledImages {
        var stream = RandomStream(root: 0xDA7A, seed: seed, purpose: "synthetic-bands")
        let d = shape.size
        var features = [Float](repeating: 0, count: count * d)
        var labels = [Int32](repeating: 0, count: count)
        for n in 0..<count {
            let label = stream.nextInt(below: classes)
            labels[n] = Int32(label)
            for j in 0..<d {
                let signal: Double = (j * classes / d) == label ? 1 : 0
                features[n * d + j] = Float(signal + noise * stream.nextNormal())
            }
        }
        return LabelledImages(shape: shape, features: features, labels: labels)
    }

    public static func split(shape: ImageShape, classes: Int, train: Int, test: Int, seed: UInt64 = 1) -> DatasetSplit {
        DatasetSplit(
            train: bands(shape: shape, classes: classes, count: train, seed: seed),
            test: bands(shape: shape, classes: classes, count: test, seed: seed + 1000),
            classCount: classes)
    }
}

extension SyntheticImages {
    /// Writes `train.npz` and `test.npz` (arrays x, y) of `side`×`side` band images of `classes` classes into
    /// `dir`, for configs with `data.dataset: arrays` (4×4 and two classes unless said).
    public static func writeArrays(
        in dir: TemporaryDirectory, train: Int, test: Int, side: Int = 4, classes: Int = 2
    ) throws {
        let shape = ImageShape(channels: 1, height: side, width: side)
        for (name, count, seed) in [("train.npz", train, UInt64(1)), ("test.npz", test, UInt64(2))] {
            let images = bands(shape: shape, classes: classes, count: count, seed: seed)
            let x = NumpyArray(float32: images.features, shape: [count, side, side])
            let y = NumpyArray(int32: images.labels, shape: [count])
            _ = try dir.write(
                FileFixtures.zip([("x.npy", x.encoded()), ("y.npy", y.encoded())], deflated: true), to: name)
        }
    }
}
