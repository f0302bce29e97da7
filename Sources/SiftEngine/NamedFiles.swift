import Foundation
import SiftData
import SiftFiles

/// Files by name: a level's artifacts, a mask set or a network state, the same on disk and
/// as wire attachments. Arrays are .npy (SPEC 8), all [fan_in, fan_out] like the masks.
public struct NamedFiles: Sendable, Equatable {
    public var names: [String]
    public var contents: [[UInt8]]

    public init(names: [String] = [], contents: [[UInt8]] = []) {
        precondition(names.count == contents.count, "one name per file")
        self.names = names
        self.contents = contents
    }

    public mutating func add(_ name: String, _ bytes: [UInt8]) {
        names.append(name)
        contents.append(bytes)
    }

    public mutating func add(_ other: NamedFiles) {
        names += other.names
        contents += other.contents
    }

    public subscript(name: String) -> [UInt8]? {
        names.firstIndex(of: name).map { contents[$0] }
    }

    func array(_ name: String, origin: String) throws -> NumpyArray {
        guard let bytes = self[name] else { throw DataError.missing(path: "\(origin)/\(name)", hint: "the level's files are incomplete") }
        return try NumpyArray.parse(bytes, path: "\(origin)/\(name)")
    }

    // MARK: - Masks and states

    /// mask-<l>.npy (weights, uint8) and bias-mask-<l>.npy for every layer.
    public init(masks: MaskSet) {
        self.init()
        for (l, mask) in masks.layers.enumerated() {
            add("mask-\(l).npy", NumpyArray(uint8: mask.weights, shape: [mask.fanIn, mask.fanOut]).encoded())
            add("bias-mask-\(l).npy", NumpyArray(uint8: mask.bias, shape: [mask.fanOut]).encoded())
        }
    }

    /// weights-<l>.npy, bias-<l>.npy and, with batch norm, bn-<l>.npy ([4, fan_in]: γ, β, running mean, running variance).
    public init(state: NetworkState, model: ModelSpec) {
        self.init()
        for (l, layer) in state.layers.enumerated() {
            let fanIn = model.widths[l], fanOut = model.widths[l + 1]
            add("weights-\(l).npy", NumpyArray(float32: layer.weights, shape: [fanIn, fanOut]).encoded())
            add("bias-\(l).npy", NumpyArray(float32: layer.bias, shape: [fanOut]).encoded())
            if let gamma = layer.gamma, let beta = layer.beta, let mean = layer.runningMean, let variance = layer.runningVariance {
                add("bn-\(l).npy", NumpyArray(float32: gamma + beta + mean + variance, shape: [4, fanIn]).encoded())
            }
        }
    }

    /// Layer l's weight-shaped and bias-shaped arrays, checked against the model's widths.
    private func layerArrays(_ weightsName: String, _ biasName: String, layer l: Int, model: ModelSpec,
                             origin: String) throws -> (weights: NumpyArray, bias: NumpyArray) {
        let fanIn = model.widths[l], fanOut = model.widths[l + 1]
        let weights = try array(weightsName, origin: origin), bias = try array(biasName, origin: origin)
        guard weights.shape == [fanIn, fanOut], bias.shape == [fanOut] else {
            throw DataError.inconsistent(path: "\(origin)/\(weightsName)", reason: "shape \(weights.shape) does not fit layer \(l) of \(model.architecture)")
        }
        return (weights, bias)
    }

    public func masks(model: ModelSpec, origin: String) throws -> MaskSet {
        MaskSet(layers: try (0..<model.layerCount).map { l in
            let fanIn = model.widths[l], fanOut = model.widths[l + 1]
            let (weights, bias) = try layerArrays("mask-\(l).npy", "bias-mask-\(l).npy", layer: l, model: model, origin: origin)
            return LayerMask(fanIn: fanIn, fanOut: fanOut, weights: weights.integers().map { UInt8($0 != 0 ? 1 : 0) },
                             bias: bias.integers().map { UInt8($0 != 0 ? 1 : 0) })
        })
    }

    public func state(model: ModelSpec, origin: String) throws -> NetworkState {
        NetworkState(layers: try (0..<model.layerCount).map { l in
            let fanIn = model.widths[l]
            let (weights, bias) = try layerArrays("weights-\(l).npy", "bias-\(l).npy", layer: l, model: model, origin: origin)
            var layer = NetworkState.Layer(weights: weights.floats(), bias: bias.floats())
            if model.batchNorm {
                let bn = try array("bn-\(l).npy", origin: origin).floats()
                guard bn.count == 4 * fanIn else {
                    throw DataError.inconsistent(path: "\(origin)/bn-\(l).npy", reason: "expected [4, \(fanIn)]")
                }
                (layer.gamma, layer.beta) = (Array(bn[0..<fanIn]), Array(bn[fanIn..<(2 * fanIn)]))
                (layer.runningMean, layer.runningVariance) = (Array(bn[(2 * fanIn)..<(3 * fanIn)]), Array(bn[(3 * fanIn)...]))
            }
            return layer
        })
    }

    // MARK: - Disk

    /// Writes every file into a temporary folder renamed to `directory`, so a folder that exists is complete.
    public func write(to directory: String) throws {
        let fm = FileManager.default
        let parent = (directory as NSString).deletingLastPathComponent
        let stem = ".\((directory as NSString).lastPathComponent).partial-"
        let temp = (parent as NSString).appendingPathComponent(stem + "\(getpid())")
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            // A writer killed mid-write (any process) leaves its partial folder behind: it is never read, so clear it.
            for stale in (try? fm.contentsOfDirectory(atPath: parent)) ?? [] where stale.hasPrefix(stem) {
                try? fm.removeItem(atPath: (parent as NSString).appendingPathComponent(stale))
            }
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
            for (name, bytes) in zip(names, contents) {
                guard !name.contains("/"), !name.hasPrefix(".") else {
                    throw EngineError.artifactWrite(path: directory, reason: "refusing the file name '\(name)'")
                }
                try Data(bytes).write(to: URL(fileURLWithPath: "\(temp)/\(name)"))
            }
            if fm.fileExists(atPath: directory) { try fm.removeItem(atPath: directory) }
            try fm.moveItem(atPath: temp, toPath: directory)
        } catch let error as EngineError {
            try? fm.removeItem(atPath: temp)
            throw error
        } catch {
            try? fm.removeItem(atPath: temp)
            throw EngineError.artifactWrite(path: directory, reason: Self.reason(error))
        }
    }

    /// The system's own words for a failed write ("No space left on device"), else the error as it is.
    static func reason(_ error: Error) -> String {
        var cause = error as NSError
        // On Linux the underlying error is a Swift POSIXError, which bridges to NSError only by `as`.
        while let underlying = cause.userInfo[NSUnderlyingErrorKey] as? Error { cause = underlying as NSError }
        return cause.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(cause.code))) : "\(error)"
    }

    public static func read(_ directory: String) throws -> NamedFiles {
        var files = NamedFiles()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where !name.hasPrefix(".") {
            files.add(name, try FileBytes.read("\(directory)/\(name)"))
        }
        return files
    }
}
