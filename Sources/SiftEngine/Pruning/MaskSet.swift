import SiftMetrics
import SiftRandom
import SiftSpec

/// Which weights and biases of one layer survive: 1 alive, 0 pruned, weights [fan_in, fan_out].
public struct LayerMask: Sendable, Equatable {
    public let fanIn: Int
    public let fanOut: Int
    public var weights: [UInt8]
    public var bias: [UInt8]

    public init(fanIn: Int, fanOut: Int, weights: [UInt8], bias: [UInt8]) {
        precondition(weights.count == fanIn * fanOut && bias.count == fanOut, "mask shape disagrees with its layer")
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.weights = weights
        self.bias = bias
    }

    public static func dense(fanIn: Int, fanOut: Int) -> LayerMask {
        LayerMask(
            fanIn: fanIn, fanOut: fanOut, weights: [UInt8](repeating: 1, count: fanIn * fanOut),
            bias: [UInt8](repeating: 1, count: fanOut))
    }

    public var aliveWeights: Int { weights.reduce(0) { $0 + Int($1) } }
    public var aliveBiases: Int { bias.reduce(0) { $0 + Int($1) } }
    public var weightDensity: Double { Double(aliveWeights) / Double(weights.count) }

    /// The weight mask as the metrics read it.
    public var connectivity: ConnectivityMask {
        ConnectivityMask(fanIn: fanIn, fanOut: fanOut, values: weights)
    }

    /// Fraction of units (columns) that keep at least one incoming weight.
    public var connectedFraction: Double { connectivity.connectedFraction }
}

/// The masks of every layer of a network.
public struct MaskSet: Sendable, Equatable {
    public var layers: [LayerMask]

    public init(layers: [LayerMask]) { self.layers = layers }

    public static func dense(_ model: ModelSpec) -> MaskSet {
        MaskSet(
            layers: (0..<model.layerCount).map {
                LayerMask.dense(fanIn: model.widths[$0], fanOut: model.widths[$0 + 1])
            })
    }

    /// Every weight kept with probability `density`, every bias kept: for benchmarks and path tests.
    public static func random(_ model: ModelSpec, density: Double, stream: RandomStream) -> MaskSet {
        MaskSet(
            layers: (0..<model.layerCount).map { l in
                var s = stream.derived("random-mask-layer-\(l)")
                let fanIn = model.widths[l], fanOut = model.widths[l + 1]
                return LayerMask(
                    fanIn: fanIn, fanOut: fanOut,
                    weights: (0..<(fanIn * fanOut)).map { _ in s.nextDouble() < density ? 1 : 0 },
                    bias: [UInt8](repeating: 1, count: fanOut))
            })
    }

    public var weightDensities: [Double] { layers.map(\.weightDensity) }

    public var totalWeightDensity: Double {
        Double(layers.reduce(0) { $0 + $1.aliveWeights }) / Double(layers.reduce(0) { $0 + $1.weights.count })
    }

    /// The stop rule's quantity: the smallest connected-unit fraction over hidden layers.
    public var smallestHiddenConnectedFraction: Double {
        layers.dropLast().map(\.connectedFraction).min() ?? 1
    }
}
