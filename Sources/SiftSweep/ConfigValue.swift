import Foundation

/// A parsed config value, with the one spelling the canonical form uses.
public enum ConfigValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case doubles([Double])

    /// JSON text; doubles in Swift's shortest round-trip form, so 0.3 and 0.30 agree.
    public var canonicalJSON: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return Self.number(d)
        case .string(let s): return Self.quoted(s)
        case .doubles(let list): return "[" + list.map(Self.number).joined(separator: ",") + "]"
        }
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) + ".0" : "\(d)"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    var bool: Bool { if case .bool(let b) = self { return b }; return false }
    var int: Int { if case .int(let i) = self { return i }; return 0 }
    var double: Double {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return 0
        }
    }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var doubles: [Double]? { if case .doubles(let d) = self { return d }; return nil }
}
