import Foundation
import CBLAS
import SiftFiles
import SiftRandom
import SiftSpec

extension DataTransforms {
    /// `stream` supplies every random choice, so the transforms are a pure function of the experiment and seed.
    public func apply(to split: DatasetSplit, stream: RandomStream) throws -> DatasetSplit {
        var train = split.train, test = split.test
        var classCount = split.classCount

        if subsetFraction < 1 {
            guard subsetFraction > 0 else {
                throw DataError.invalidOption(name: "subset", reason: "must be in (0, 1], got \(subsetFraction)")
            }
            var s = stream.derived("subset")
            let keep = max(1, Int((subsetFraction * Double(train.count)).rounded()))
            train = train.rows(Array(s.permutation(train.count).prefix(keep)).sorted())
        }
        if shuffleLabels {
            var s = stream.derived("label-shuffle")
            s.shuffle(&train.labels)
        }
        if let reclass {
            let map = try reclassTable(reclass, classCount: classCount)
            train.labels = train.labels.map { map[Int($0)] }
            test.labels = test.labels.map { map[Int($0)] }
            classCount = Int(map.max() ?? 0) + 1
        }
        if gaussianClone {
            (train, test) = Self.gaussianClone(
                train: train, test: test, classes: classCount, stream: stream.derived("gaussian-clone"))
        }
        if scramble {
            var s = stream.derived("scramble")
            let permutation = s.permutation(train.shape.size)
            train.features = Self.permuteColumns(train.features, permutation)
            test.features = Self.permuteColumns(test.features, permutation)
        }
        switch normalization {
        case .none: break
        case .standardise:
            let n = Double(train.features.count)
            let mean = train.features.reduce(0.0) { $0 + Double($1) } / n
            let variance = train.features.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
            let std = Float(max(variance.squareRoot(), 1e-12)), m = Float(mean)
            train.features = train.features.map { ($0 - m) / std }
            test.features = test.features.map { ($0 - m) / std }
        case .meanImage:
            let d = train.shape.size
            var mean = [Double](repeating: 0, count: d)
            for (i, v) in train.features.enumerated() { mean[i % d] += Double(v) }
            let meanImage = mean.map { Float($0 / Double(train.count)) }
            for i in train.features.indices { train.features[i] -= meanImage[i % d] }
            for i in test.features.indices { test.features[i] -= meanImage[i % d] }
        }
        return DatasetSplit(train: train, test: test, classCount: classCount)
    }

    /// Redraws every image from N(mean, covariance) of its class in the training set; labels are kept.
    static func gaussianClone(
        train: LabelledImages, test: LabelledImages, classes: Int,
        stream: RandomStream
    ) -> (LabelledImages, LabelledImages) {
        let d = train.shape.size
        var newTrain = train, newTest = test
        for c in 0..<classes {
            let rows = train.labels.indices.filter { train.labels[$0] == Int32(c) }
            guard rows.count > 1 else { continue }
            var mean = [Double](repeating: 0, count: d)
            for r in rows { for j in 0..<d { mean[j] += Double(train.features[r * d + j]) } }
            for j in 0..<d { mean[j] /= Double(rows.count) }
            var centred = [Float](repeating: 0, count: rows.count * d)
            for (i, r) in rows.enumerated() {
                for j in 0..<d { centred[i * d + j] = train.features[r * d + j] - Float(mean[j]) }
            }
            var covariance = [Float](repeating: 0, count: d * d)
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(rows.count),
                1 / Float(rows.count - 1), centred, Int32(d), centred, Int32(d), 0, &covariance, Int32(d))
            let factor = GaussianDraws.factor(covariance.map(Double.init), dimension: d)
            var normals = stream.derived("class-\(c)")
            for (split, isTrain) in [(train, true), (test, false)] {
                let members = split.labels.indices.filter { split.labels[$0] == Int32(c) }
                guard !members.isEmpty else { continue }
                let x = GaussianDraws.sample(count: members.count, factor: factor, dimension: d, normals: &normals)
                for (i, n) in members.enumerated() {
                    for j in 0..<d {
                        let value = x[i * d + j] + Float(mean[j])
                        if isTrain { newTrain.features[n * d + j] = value } else { newTest.features[n * d + j] = value }
                    }
                }
            }
        }
        return (newTrain, newTest)
    }

    /// Moves input position p to position permutation[p] in every row.
    static func permuteColumns(_ features: [Float], _ permutation: [Int]) -> [Float] {
        let d = permutation.count
        var out = features
        for row in stride(from: 0, to: features.count, by: d) {
            for p in 0..<d { out[row + permutation[p]] = features[row + p] }
        }
        return out
    }

    func reclassTable(_ reclass: Reclass, classCount: Int) throws -> [Int32] {
        switch reclass {
        case .modulo(let k):
            guard k > 0 else {
                throw DataError.invalidOption(name: "reclass", reason: "modulus must be positive, got \(k)")
            }
            return (0..<classCount).map { Int32($0 % k) }
        case .mapping(let path):
            let bytes = try FileBytes.read(
                path, hint: "data.reclass names a mapping file: one new label per line, line i for class i.")
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            var table: [Int32] = []
            for (number, line) in lines.enumerated() where !line.isEmpty {
                guard let label = Int32(line), label >= 0 else {
                    throw DataError.badFormat(path: path, reason: "line \(number + 1): '\(line)' is not a class index")
                }
                table.append(label)
            }
            guard table.count >= classCount else {
                throw DataError.badFormat(path: path, reason: "maps \(table.count) classes, the data has \(classCount)")
            }
            return table
        }
    }
}
