/// The order in which the report's mosaic shows first-layer units and the ablation silences them.
public enum UnitOrder {
    /// Units from the most to the fewest surviving inputs, ties to the lower index.
    public static func mostConnectedFirst(_ inDegrees: [Int]) -> [Int] {
        // Typed closure: inferred, this one expression took the type checker half a second.
        inDegrees.indices.sorted { (a: Int, b: Int) -> Bool in
            let degreeA: Int = inDegrees[a], degreeB: Int = inDegrees[b]
            return degreeA != degreeB ? degreeA > degreeB : a < b
        }
    }
}
