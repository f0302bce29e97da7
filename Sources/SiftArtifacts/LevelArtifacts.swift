import Foundation
import SiftFiles

/// One level's files (science §8): mask-<l>.npy, weights-<l>.npy, metrics.json; the biases, bias masks
/// and batch-norm parameters that let a later level be derived from it (bias-<l>.npy,
/// bias-mask-<l>.npy, bn-<l>.npy); and the layer-1 maps of science §6: sc_map.npy and dc_map.npy
/// ((2H−1)×(2W−1)), the same split by in-degree (sc_map_by_degree.npy, dc_map_by_degree.npy: one map
/// per bin of degree_bins.npy, whose rows are lowest degree, highest degree, units) and out_degree.npy (C×H×W).
public enum LevelArtifacts {
    /// A level's folder is this prefix and its number: level-0, level-1, …
    public static let folderPrefix = "level-"

    public static func folderName(level: Int) -> String { "\(folderPrefix)\(level)" }

    public static func directory(_ root: String, level: Int) -> String {
        (root as NSString).appendingPathComponent(folderName(level: level))
    }

    public static func readMask(_ path: String) throws -> (mask: [UInt8], fanIn: Int, fanOut: Int) {
        let array = try NumpyArray.read(path)
        guard array.shape.count == 2, array.dtype == .uint8 || array.dtype == .bool else {
            throw DataError.badFormat(
                path: path,
                reason:
                    "a mask must be a 2-D uint8 array [fan_in, fan_out], found \(array.dtype.rawValue) \(array.shape)")
        }
        return (array.bytes, array.shape[0], array.shape[1])
    }
}

/// A level's files could not be written: the folder, and the system's own words ("No space left on device").
public enum ArtifactError: Error, CustomStringConvertible {
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .write(path, reason): return "could not write \(path): \(reason)"
        }
    }
}
