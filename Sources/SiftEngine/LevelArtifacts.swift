import Foundation
import SiftData
import SiftFiles

/// One level's files (SPEC 8): mask-<l>.npy, weights-<l>.npy, metrics.json; the biases, bias masks
/// and batch-norm parameters that let a later level be derived from it (bias-<l>.npy,
/// bias-mask-<l>.npy, bn-<l>.npy); and the layer-1 maps of SPEC 6: sc_map.npy and dc_map.npy
/// ((2H−1)×(2W−1)) and out_degree.npy (C×H×W).
public enum LevelArtifacts {
    public static func directory(_ root: String, level: Int) -> String {
        (root as NSString).appendingPathComponent("level-\(level)")
    }

    /// Every file of a finished level, as written to disk and sent by workers. Throws if a figure of
    /// metrics.json is not a finite number (JSON has no NaN), naming it.
    public static func files(_ outcome: LevelOutcome, model: ModelSpec) throws -> NamedFiles {
        var files = NamedFiles(masks: outcome.masks)
        files.add(NamedFiles(state: outcome.trained, model: model))
        let maps = outcome.analysis.maps
        files.add("sc_map.npy", NumpyArray(float64: maps.sameChannel, shape: [maps.height, maps.width]).encoded())
        files.add("dc_map.npy", NumpyArray(float64: maps.crossChannel, shape: [maps.height, maps.width]).encoded())
        files.add("out_degree.npy", NumpyArray(int32: outcome.analysis.outDegrees.map { Int32($0) },
                                               shape: [maps.shape.channels, maps.shape.height, maps.shape.width]).encoded())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            files.add("metrics.json", Array(try encoder.encode(outcome.metrics)))
        } catch {
            throw EngineError.artifactWrite(path: "level-\(outcome.metrics.training.level)/metrics.json", reason: "\(error)")
        }
        return files
    }

    public static func write(root: String, level outcome: LevelOutcome, model: ModelSpec) throws {
        try files(outcome, model: model).write(to: directory(root, level: outcome.metrics.training.level))
    }

    public static func readMask(_ path: String) throws -> (mask: [UInt8], fanIn: Int, fanOut: Int) {
        let array = try NumpyArray.read(path)
        guard array.shape.count == 2, array.dtype == .uint8 || array.dtype == .bool else {
            throw DataError.badFormat(path: path, reason: "a mask must be a 2-D uint8 array [fan_in, fan_out], found \(array.dtype.rawValue) \(array.shape)")
        }
        return (array.bytes, array.shape[0], array.shape[1])
    }
}

public enum EngineError: Error, CustomStringConvertible {
    case artifactWrite(path: String, reason: String)
    case incompatible(field: String, reason: String)

    public var description: String {
        switch self {
        case let .artifactWrite(path, reason): return "could not write \(path): \(reason)"
        case let .incompatible(field, reason): return "\(field): \(reason)"
        }
    }
}
