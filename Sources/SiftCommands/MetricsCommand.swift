import Foundation
import ArgumentParser
import SiftArtifacts
import SiftData
import SiftEngine
import SiftFiles
import SiftMetrics
import SiftRandom

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Locality metrics (science §6) of any network's masks, printed as one JSON object.",
        discussion: """
            Works on masks from anywhere, a PyTorch run included: uint8 .npy files of shape [fan_in, fan_out], \
            nonzero = connected, inputs flattened channel-major (c·H·W + y·W + x). Give the first layer's mask \
            alone, or every layer's in order, the output layer's last: the hidden layers after the first are \
            then measured on their effective masks (effective_layers).
            """)

    @Argument(help: "Mask .npy files, shape [fan_in, fan_out], first layer first.") var masks: [String]
    @Option(help: "Image shape as CxHxW or HxW; C·H·W must equal fan_in.") var image: String
    @Option(help: "Trained weights .npy of the same shape, for the IPR and participation ratio.") var weights: String?
    @Option(help: "Draws of the degree-preserving null.") var nullDraws = 8
    @Option(help: "Seed of the null draws.") var seed: UInt64 = 0
    @Option(help: "Threads: BLAS and the null draws.") var threads = 1

    func validate() throws {
        try OptionBounds.check(nullDraws, in: 1...10_000, "--null-draws")
        try OptionBounds.check(threads, in: OptionBounds.threads, "--threads")
    }

    func run() throws {
        guard let shape = ImageShape(parsing: image) else {
            throw ValidationError("--image must look like 1x28x28 or 28x28; got '\(image)'")
        }
        BLAS.threads = threads
        let layers = try masks.map { path in
            try ConnectivityMask(contentsOf: path)
        }
        guard let first = layers.first else { throw ValidationError("give at least the first layer's mask") }
        let (fanIn, fanOut) = (first.fanIn, first.fanOut)
        guard fanIn == shape.size else {
            throw CommandFailure("\(masks[0]) has fan_in \(fanIn) but --image \(shape) has \(shape.size) pixels")
        }
        for l in layers.indices.dropFirst() where layers[l].fanIn != layers[l - 1].fanOut {
            throw CommandFailure(
                "\(masks[l]) has fan_in \(layers[l].fanIn) but \(masks[l - 1]) has \(layers[l - 1].fanOut) units")
        }
        var weightValues: [Float]?
        if let weights {
            let array = try NumpyArray.read(weights)
            guard array.shape == [fanIn, fanOut] else {
                throw CommandFailure("\(weights) has shape \(array.shape); the mask is [\(fanIn), \(fanOut)]")
            }
            weightValues = array.floats()
        }
        let analysis = LocalityAnalysis(
            masks: layers, firstLayerWeights: weightValues,
            shape: shape, nullDraws: nullDraws, threads: threads,
            stream: RandomStream(root: 0x4D45_5452, seed: seed, purpose: "sift-metrics"))
        try printJSONLine(analysis.metrics)
    }
}
