/// The in-degree histogram of a layer with its binomial null (science §6.7).
public struct InDegreeHistogram: Codable, Sendable, Equatable {
    /// counts[k]: units with exactly k surviving inputs, k = 0…max observed or expected.
    public var counts: [Int]
    /// Units expected with k inputs if every weight survived independently with the layer's density.
    public var binomialExpected: [Double]

    enum CodingKeys: String, CodingKey {
        case counts
        case binomialExpected = "binomial_expected"
    }

    public init(counts: [Int], binomialExpected: [Double]) {
        self.counts = counts
        self.binomialExpected = binomialExpected
    }
}
