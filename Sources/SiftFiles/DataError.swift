/// Why a dataset could not be read. Every case names the file at fault.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, hint: String)
    case unreadable(path: String, reason: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case badFormat(path: String, reason: String)
    case inconsistent(path: String, reason: String)
    case invalidOption(name: String, reason: String)
    /// A file Sift writes (a report, a level) could not be written: the system's own words.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path, hint):
            return "dataset file not found: \(path). \(hint)"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .truncated(path, expected, actual):
            return "\(path) is truncated: expected \(expected) bytes, found \(actual)"
        case let .badFormat(path, reason):
            return "\(path) is not a valid file: \(reason)"
        case let .inconsistent(path, reason):
            return "\(path) does not match its companion file: \(reason)"
        case let .invalidOption(name, reason):
            return "invalid data option '\(name)': \(reason)"
        case let .unwritable(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
