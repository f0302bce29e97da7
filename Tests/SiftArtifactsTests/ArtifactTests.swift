import Foundation
import SiftArtifacts
import SiftFiles
import SiftTestKit
import Testing

/// What a level leaves on disk, read back as it was written.
@Suite struct ArtifactTests {
    @Test func namedFilesRoundTripAndAFolderAppearsOnlyWhole() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var files = NamedFiles()
        files.add("mask-0.npy", NumpyArray(uint8: [1, 0, 1, 1], shape: [2, 2]).encoded())
        files.add("metrics.json", Array("{}".utf8))
        let level = dir.file("seed-0/" + LevelArtifacts.folderName(level: 3))
        try files.write(to: level)
        #expect(try NamedFiles.read(level) == files)
        // Written again with other contents: the folder is replaced whole, and no partial folder stays behind.
        var other = NamedFiles()
        other.add("metrics.json", Array("{\"a\":1}".utf8))
        try other.write(to: level)
        #expect(try NamedFiles.read(level) == other)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("seed-0")) == ["level-3"])
        #expect(try files.array("mask-0.npy", origin: "here").integers() == [1, 0, 1, 1])
    }

    @Test func aFileNameThatWouldLeaveTheFolderIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for name in ["../escape.npy", ".hidden"] {
            var files = NamedFiles()
            files.add(name, [1])
            #expect(throws: ArtifactError.self) { try files.write(to: dir.file("level-0")) }
            #expect(!FileManager.default.fileExists(atPath: dir.file("level-0")), "nothing is left of a refused write")
        }
    }

    @Test func aMissingFileIsNamedWithItsOrigin() {
        let text = dataErrorText { _ = try NamedFiles().array("mask-1.npy", origin: "task a/seed-0/level-2") }
        #expect(text.contains("task a/seed-0/level-2/mask-1.npy"), "\(text)")
    }

    /// metrics.json is one flat object; a level written before a field existed still reads, without it.
    @Test func metricsRoundTripAndOlderFilesStillRead() throws {
        let training = LevelTraining(
            experiment: "abc", seed: 1, level: 2, control: "none", architecture: "16-8-2",
            densityLayers: [0.49, 0.49, 1],
            densityTotal: 0.5, aliveWeights: [63, 8, 16], connectedFractionLayers: [1, 1], testAccuracy: 0.875,
            bestTestAccuracy: 0.9, trainLoss: 0.25, steps: 100, seconds: 1.5, lastLevel: false, diverged: nil,
            lastFiniteLoss: nil, testAccuracyRecalibrated: 0.88, nearConstantInputs: [3, 0])
        let metrics = LevelMetrics(training: training, locality: nil, ablation: nil)
        let encoded = try JSONEncoder().encode(metrics)
        #expect(try JSONDecoder().decode(LevelMetrics.self, from: encoded) == metrics)
        var older = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        older["test_accuracy_recalibrated"] = nil
        older["near_constant_inputs"] = nil
        let read = try JSONDecoder().decode(LevelMetrics.self, from: JSONSerialization.data(withJSONObject: older))
        #expect(read.training.testAccuracyRecalibrated == nil && read.training.nearConstantInputs == nil)
        #expect(read.training.testAccuracy == 0.875)
    }
}
