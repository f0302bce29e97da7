import Foundation

/// A parsed config value, with the one spelling the canonical form uses.
package enum ConfigValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case doubles([Double])

    /// JSON text; doubles in Swift's shortest round-trip form, so 0.3 and 0.30 agree.
    package var canonicalJSON: String {
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
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A value of another type than its field's: the reader never lets one through, so this only
    /// guards the spec's assembly against a table and a parser that disagree.
    struct Mismatch: Error {
        var expected: String
        var value: ConfigValue
    }

    func boolValue() throws -> Bool {
        guard case .bool(let b) = self else { throw Mismatch(expected: "true or false", value: self) }
        return b
    }

    func intValue() throws -> Int {
        guard case .int(let i) = self else { throw Mismatch(expected: "a whole number", value: self) }
        return i
    }

    func doubleValue() throws -> Double {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw Mismatch(expected: "a number", value: self)
        }
    }

    func stringValue() throws -> String {
        guard case .string(let s) = self else { throw Mismatch(expected: "text", value: self) }
        return s
    }

    /// Text, or nothing for `null`.
    func optionalString() throws -> String? {
        if case .null = self { return nil }
        return try stringValue()
    }

    /// A list of numbers, or nothing for `null`.
    func optionalDoubles() throws -> [Double]? {
        switch self {
        case .null: return nil
        case .doubles(let list): return list
        default: throw Mismatch(expected: "a list of numbers", value: self)
        }
    }

    /// For choices, and for `string` in the reader's checks.
    var string: String? { if case .string(let s) = self { return s }; return nil }
}
