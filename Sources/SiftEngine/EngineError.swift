/// A spec and data that do not go together, caught when a chain is set up.
public enum EngineError: Error, CustomStringConvertible {
    case incompatible(field: String, reason: String)

    public var description: String {
        switch self {
        case let .incompatible(field, reason): return "\(field): \(reason)"
        }
    }
}
