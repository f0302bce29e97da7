import SiftData
import SiftFiles
import SiftRandom
import SiftTestKit
import Testing
import SiftSpec

@Suite struct TransformTests {
    let split = SyntheticImages.split(
        shape: ImageShape(channels: 1, height: 4, width: 4), classes: 4, train: 200, test: 50)
    let stream = RandomStream(root: 9, seed: 0, purpose: "transforms")

    @Test func standardiseUsesTrainingStatistics() throws {
        var t = DataTransforms()
        t.normalization = .standardise
        let out = try t.apply(to: split, stream: stream)
        let n = Double(out.train.features.count)
        let mean = out.train.features.reduce(0.0) { $0 + Double($1) } / n
        let variance = out.train.features.reduce(0.0) { $0 + Double($1) * Double($1) } / n - mean * mean
        #expect(abs(mean) < 1e-4)
        #expect(abs(variance - 1) < 1e-3)
    }

    @Test func meanImageCentresEveryPixel() throws {
        var t = DataTransforms()
        t.normalization = .meanImage
        let out = try t.apply(to: split, stream: stream)
        for p in 0..<16 {
            let column = stride(from: p, to: out.train.features.count, by: 16).map { Double(out.train.features[$0]) }
            #expect(abs(column.reduce(0, +) / Double(column.count)) < 1e-4)
        }
    }

    @Test func scrambleIsOnePermutationForTrainAndTest() throws {
        var t = DataTransforms()
        t.normalization = .none
        t.scramble = true
        let out = try t.apply(to: split, stream: stream)
        #expect(out.train.features != split.train.features)
        // The same permutation maps every row: find it from the first row's distinct values.
        let row = Array(split.train.features[0..<16]), scrambled = Array(out.train.features[0..<16])
        let permutation = row.map { v in scrambled.firstIndex(of: v)! }
        #expect(Set(permutation).count == 16)
        for r in 1..<5 {
            for p in 0..<16 {
                #expect(out.test.features[r * 16 + permutation[p]] == split.test.features[r * 16 + p])
            }
        }
        #expect(try t.apply(to: split, stream: stream).train.features == out.train.features)
    }

    @Test func gaussianCloneKeepsEachClassMeanAndCovariance() throws {
        let big = SyntheticImages.split(
            shape: ImageShape(channels: 1, height: 3, width: 3), classes: 2, train: 6000, test: 500)
        var t = DataTransforms()
        t.normalization = .none
        t.gaussianClone = true
        let out = try t.apply(to: big, stream: stream)
        #expect(out.train.labels == big.train.labels && out.test.labels == big.test.labels)
        #expect(out.train.features != big.train.features)
        func moments(_ images: LabelledImages, _ c: Int32) -> (mean: [Double], covariance: [Double]) {
            let rows = images.labels.indices.filter { images.labels[$0] == c }
            var mean = [Double](repeating: 0, count: 9), covariance = [Double](repeating: 0, count: 81)
            for r in rows { for j in 0..<9 { mean[j] += Double(images.features[r * 9 + j]) / Double(rows.count) } }
            for r in rows {
                for i in 0..<9 {
                    for j in 0..<9 {
                        covariance[i * 9 + j] +=
                            (Double(images.features[r * 9 + i]) - mean[i])
                            * (Double(images.features[r * 9 + j]) - mean[j]) / Double(rows.count)
                    }
                }
            }
            return (mean, covariance)
        }
        for c: Int32 in [0, 1] {
            let real = moments(big.train, c), clone = moments(out.train, c)
            #expect(zip(real.mean, clone.mean).allSatisfy { abs($0 - $1) < 0.03 }, "class \(c) means")
            #expect(zip(real.covariance, clone.covariance).allSatisfy { abs($0 - $1) < 0.03 }, "class \(c) covariances")
        }
    }

    @Test func labelShuffleSubsetAndReclass() throws {
        var t = DataTransforms()
        t.shuffleLabels = true
        t.subsetFraction = 0.5
        t.reclass = .modulo(2)
        let out = try t.apply(to: split, stream: stream)
        #expect(out.train.count == 100)
        #expect(out.test.count == 50)
        #expect(out.classCount == 2)
        #expect(Set(out.train.labels).isSubset(of: [0, 1]))
        #expect(out.test.labels == split.test.labels.map { $0 % 2 })
    }

    @Test func reclassMappingFileIsChecked() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var t = DataTransforms()
        t.reclass = .mapping(path: try dir.write(Array("1\n0\n1\n0\n".utf8), to: "map.txt"))
        #expect(try t.apply(to: split, stream: stream).test.labels == split.test.labels.map { $0 % 2 == 0 ? 1 : 0 })
        t.reclass = .mapping(path: try dir.write(Array("1\nzero\n".utf8), to: "bad.txt"))
        #expect(throws: DataError.self) { try t.apply(to: split, stream: stream) }
    }
}
