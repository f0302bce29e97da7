/// science §6.8: test accuracy after silencing first-layer units, chosen by in-degree.
public struct AblationCurves: Codable, Sendable, Equatable {
    /// Fractions of first-layer units silenced.
    public var fractions: [Double]
    /// Accuracy when the units with the most surviving inputs are silenced first.
    public var most: [Double]
    public var fewest: [Double]
    public var random: [Double]
    /// The paper's curve: the same against the number of units silenced (absent in older levels).
    public var byUnits: UnitCountCurves?

    public static let defaultFractions = [0.1, 0.25, 0.5]

    /// Accuracy against how many units are silenced, in each order.
    public struct UnitCountCurves: Codable, Sendable, Equatable {
        public var units: [Int]
        public var most: [Double]
        public var fewest: [Double]
        public var random: [Double]

        // Memberwise, and public: Swift synthesizes only an internal one.
        public init(units: [Int], most: [Double], fewest: [Double], random: [Double]) {
            self.units = units
            self.most = most
            self.fewest = fewest
            self.random = random
        }

        /// 1, 2, 5, 10, 20, 50, … up to half the layer's units: the small counts, where the most connected
        /// units matter most, spaced evenly on a log axis.
        public static func defaultCounts(units: Int) -> [Int] {
            var counts: [Int] = [], decade = 1
            while true {
                for step in [1, 2, 5] {
                    let count = step * decade
                    if count > units / 2 { return counts }
                    counts.append(count)
                }
                decade *= 10
            }
        }
    }

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(fractions: [Double], most: [Double], fewest: [Double], random: [Double], byUnits: UnitCountCurves?) {
        self.fractions = fractions
        self.most = most
        self.fewest = fewest
        self.random = random
        self.byUnits = byUnits
    }

    enum CodingKeys: String, CodingKey {
        case fractions, most, fewest, random
        case byUnits = "by_units"
    }
}
