import Foundation
import SiftArtifacts
import SiftData
import SiftFiles
import SiftSpec

/// A trained level as its files.
extension LevelArtifacts {
    /// The layer-1 maps and counts every level writes beside its masks, state and metrics.json.
    public static let mapNames = [
        "sc_map.npy", "dc_map.npy", "out_degree.npy", "sc_map_by_degree.npy", "dc_map_by_degree.npy",
        "degree_bins.npy",
    ]

    /// The name of every file `files(_:model:)` gives a level of `model`: what a worker's result may carry,
    /// besides level 0's rewind point.
    public static func fileNames(model: ModelSpec) -> Set<String> {
        Set(NamedFiles.maskNames(model: model) + NamedFiles.stateNames(model: model) + mapNames + ["metrics.json"])
    }

    /// Every file of a finished level, as written to disk and sent by workers. Throws if a figure of
    /// metrics.json is not a finite number (JSON has no NaN), naming it.
    public static func files(_ outcome: LevelOutcome, model: ModelSpec) throws -> NamedFiles {
        let started = Date()
        var files = NamedFiles(masks: outcome.masks)
        files.add(NamedFiles(state: outcome.trained, model: model))
        let maps = outcome.analysis.maps
        files.add("sc_map.npy", NumpyArray(float64: maps.sameChannel, shape: [maps.height, maps.width]).encoded())
        files.add("dc_map.npy", NumpyArray(float64: maps.crossChannel, shape: [maps.height, maps.width]).encoded())
        files.add(
            "out_degree.npy",
            NumpyArray(
                int32: outcome.analysis.outDegrees.map { Int32($0) },
                shape: [maps.shape.channels, maps.shape.height, maps.shape.width]
            ).encoded())
        let bins = outcome.analysis.mapsByInDegree.bins
        let binnedShape = [bins.count, maps.height, maps.width]
        files.add(
            "sc_map_by_degree.npy", NumpyArray(float64: bins.flatMap(\.maps.sameChannel), shape: binnedShape).encoded())
        files.add(
            "dc_map_by_degree.npy", NumpyArray(float64: bins.flatMap(\.maps.crossChannel), shape: binnedShape).encoded()
        )
        files.add(
            "degree_bins.npy",
            NumpyArray(
                int32: bins.flatMap { [Int32($0.lowestDegree), Int32($0.highestDegree), Int32($0.units)] },
                shape: [bins.count, 3]
            ).encoded())
        var metrics = outcome.metrics
        metrics.timings?.files = Date().timeIntervalSince(started)
        files.add("metrics.json", try encoded(metrics))
        return files
    }

    /// metrics.json's bytes: sorted keys, indented, so that equal metrics are equal files.
    public static func encoded(_ metrics: LevelMetrics) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(metrics))
        } catch {
            throw ArtifactError.write(
                path: "\(folderName(level: metrics.training.level))/metrics.json", reason: "\(error)")
        }
    }

    public static func write(root: String, level outcome: LevelOutcome, model: ModelSpec) throws {
        try files(outcome, model: model).write(to: directory(root, level: outcome.metrics.training.level))
    }
}
