import Foundation
import SiftSpec

/// Checks that refuse a plan before anything runs: a model that cannot fit this machine's memory,
/// or whose input or output does not fit its dataset. They run wherever a config is read
/// (`sift config show`, `sift run`, the coordinator), so no store is written for such a plan.
extension ConfigReader {
    /// Bytes a worker holds per weight while it trains: weights, gradient, rewind copy and the
    /// sparse path's values (4 bytes each), the mask (1) and slack for the optimizer's state.
    static let bytesPerWeight = 24

    /// An architecture whose training would not fit this machine's memory is refused here, before a
    /// store is written or a worker allocates it.
    func checkFitsInMemory(_ model: ModelSpec) throws {
        let overflow = model.weightCount == nil, weights = model.weightCount ?? Int.max
        let (bytes, o3) = weights.multipliedReportingOverflow(by: Self.bytesPerWeight)
        let memory = ProcessInfo.processInfo.physicalMemory
        guard overflow || o3 || UInt64(bytes) > memory else { return }
        let key = "model.arch"
        throw ConfigError(
            file: file, line: marks[key]?.line, column: marks[key]?.column, key: key,
            message: "\(model.architecture) has \(overflow ? "too many" : String(weights)) weights, about "
                + (overflow || o3 ? "more memory than any machine has" : "\(bytes >> 30) GiB")
                + " to train; this machine has \(memory >> 30) GiB")
    }

    /// A level's result travels as one message, a frame per file (about 10 a layer with its rewind
    /// point), so the wire's frame limit bounds the depth: refused here rather than dropped mid-sweep.
    func checkFitsOneMessage(_ model: ModelSpec) throws {
        guard model.layerCount > ModelSpec.maximumLayers else { return }
        let key = "model.arch"
        throw ConfigError(
            file: file, line: marks[key]?.line, column: marks[key]?.column, key: key,
            message: "\(model.architecture) has \(model.layerCount) layers; a level's files travel as one message, "
                + "which holds at most \(ModelSpec.maximumLayers)")
    }

    /// The image size and class count of `data`, where they are known without reading it (not for arrays,
    /// nor for classes remapped by a file).
    static func knownShape(of data: DataSpec) -> (name: String, values: Int, classes: Int?)? {
        var shape: (name: String, values: Int, classes: Int?)
        switch data.source {
        case .fashionMNIST: shape = ("fashion_mnist images (28×28)", 784, 10)
        case .mnist: shape = ("mnist images (28×28)", 784, 10)
        case .cifar10(_, let grayscale):
            shape = grayscale ? ("grayscale cifar10 images (32×32)", 1024, 10) : ("cifar10 images (32×32×3)", 3072, 10)
        case .nlgp(let nlgp):
            shape = ("nlgp images (\(nlgp.side)×\(nlgp.side))", nlgp.side * nlgp.side, nlgp.correlationLengths.count)
        case .arrays: return nil
        }
        switch data.transforms.reclass {
        case .modulo(let k)?: shape.classes = shape.classes.map { min($0, k) }
        case .mapping?: shape.classes = nil
        case nil: break
        }
        return shape
    }

    /// An architecture whose input or output does not fit the data is refused here, at its line,
    /// rather than by every worker at level 0.
    func checkFitsData(_ model: ModelSpec, _ data: DataSpec) throws {
        guard let shape = Self.knownShape(of: data) else { return }
        let key = "model.arch", inputs = model.widths[0], outputs = model.widths[model.widths.count - 1]
        func refuse(_ message: String) -> ConfigError {
            ConfigError(file: file, line: marks[key]?.line, column: marks[key]?.column, key: key, message: message)
        }
        if inputs != shape.values {
            throw refuse(
                "\(model.architecture) takes \(inputs) inputs, but \(shape.name) have \(shape.values) values; start it with \(shape.values)"
            )
        }
        if let classes = shape.classes, outputs < classes {
            throw refuse(
                "\(model.architecture) has \(outputs) outputs, but the data have \(classes) classes; end it with \(classes)"
            )
        }
    }
}
