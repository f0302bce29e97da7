import Foundation
import SiftData

/// Writes one level's files (SPEC 8): mask-<l>.npy, weights-<l>.npy, metrics.json, and the
/// layer-1 maps of SPEC 6: sc_map.npy and dc_map.npy ((2H−1)×(2W−1) per channel class) and
/// out_degree.npy (C×H×W).
///
/// The level is written into a temporary folder that is renamed into place, so a
/// level folder that exists is always complete.
public enum LevelArtifacts {
    public static func directory(_ root: String, level: Int) -> String {
        (root as NSString).appendingPathComponent("level-\(level)")
    }

    public static func write(root: String, level outcome: LevelOutcome) throws {
        let fm = FileManager.default
        let level = outcome.metrics.training.level
        let final = directory(root, level: level)
        let temp = (root as NSString).appendingPathComponent(".level-\(level).partial-\(getpid())")
        let masks = outcome.masks, trained = outcome.trained, maps = outcome.analysis.maps
        do {
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: temp)
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
            for (l, mask) in masks.layers.enumerated() {
                let shape = [mask.fanIn, mask.fanOut]
                try Data(NumpyArray(uint8: mask.weights, shape: shape).encoded())
                    .write(to: URL(fileURLWithPath: "\(temp)/mask-\(l).npy"))
                try Data(NumpyArray(float32: trained.layers[l].weights, shape: shape).encoded())
                    .write(to: URL(fileURLWithPath: "\(temp)/weights-\(l).npy"))
            }
            let mapShape = [maps.height, maps.width]
            try Data(NumpyArray(float64: maps.sameChannel, shape: mapShape).encoded()).write(to: URL(fileURLWithPath: "\(temp)/sc_map.npy"))
            try Data(NumpyArray(float64: maps.crossChannel, shape: mapShape).encoded()).write(to: URL(fileURLWithPath: "\(temp)/dc_map.npy"))
            let image = [maps.shape.channels, maps.shape.height, maps.shape.width]
            try Data(NumpyArray(int32: outcome.analysis.outDegrees.map { Int32($0) }, shape: image).encoded())
                .write(to: URL(fileURLWithPath: "\(temp)/out_degree.npy"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(outcome.metrics).write(to: URL(fileURLWithPath: "\(temp)/metrics.json"))
            if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
            try fm.moveItem(atPath: temp, toPath: final)
        } catch {
            try? fm.removeItem(atPath: temp)
            throw EngineError.artifactWrite(path: final, reason: "\(error)")
        }
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
