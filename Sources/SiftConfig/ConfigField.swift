import SiftSpec

/// One key an experiment config may set, declared once: its dotted path, what it accepts, its default
/// (a function of the pruning preset, since presets differ), the line `sift config keys` prints, and
/// where its value goes in the spec. The parser, the canonical form and hash, the defaults digest,
/// `config keys` and the engine's spec are all read from the table of these (`ExperimentSchema`).
struct ConfigField: Sendable {
    enum Kind: Sendable {
        case bool
        /// A whole number within these bounds: every count a config sets has a ceiling, so no setting can ask
        /// for an allocation or a loop that overflows.
        case int(ClosedRange<Int>)
        case double(check: @Sendable (Double) -> String?)
        case choice([String])
        case string
        case doubles(check: @Sendable (Double) -> String?)
        /// A positive integer, or else a file path.
        case intOrPath
        case architecture
    }

    let key: String
    let kind: Kind
    let help: String
    let defaultValue: @Sendable (PruningPreset) -> ConfigValue
    /// Puts a value of this field's kind into the spec being built.
    let apply: @Sendable (ConfigValue, inout SpecDraft) throws -> Void
    /// What an unset value stands for, where another key decides it (`sift config keys` prints this).
    var unsetMeans: String? = nil
}

// Typed declarations: each reads its value as its own type, so no field can be read as another's.
extension ConfigField {
    static func bool(
        _ key: String, _ help: String, default value: @escaping @Sendable (PruningPreset) -> Bool,
        _ apply: @escaping @Sendable (inout SpecDraft, Bool) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .bool, help: help, defaultValue: { .bool(value($0)) },
            apply: { v, draft in apply(&draft, try v.boolValue()) })
    }

    /// The ceiling of a whole number whose declaration names none: far above any real setting, far below overflow.
    static let defaultMaximum = 1_000_000_000

    static func int(
        _ key: String, minimum: Int, maximum: Int = defaultMaximum, _ help: String,
        default value: @escaping @Sendable (PruningPreset) -> Int,
        _ apply: @escaping @Sendable (inout SpecDraft, Int) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .int(minimum...maximum), help: help, defaultValue: { .int(value($0)) },
            apply: { v, draft in apply(&draft, try v.intValue()) })
    }

    static func double(
        _ key: String, _ check: @escaping @Sendable (Double) -> String?, _ help: String,
        default value: @escaping @Sendable (PruningPreset) -> Double,
        _ apply: @escaping @Sendable (inout SpecDraft, Double) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .double(check: check), help: help, defaultValue: { .double(value($0)) },
            apply: { v, draft in apply(&draft, try v.doubleValue()) })
    }

    /// One of an enumeration's raw values.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ type: Value.Type, _ help: String, default value: @escaping @Sendable (PruningPreset) -> Value,
        _ apply: @escaping @Sendable (inout SpecDraft, Value) -> Void
    ) -> ConfigField where Value.RawValue == String {
        ConfigField(
            key: key, kind: .choice(Value.allCases.map(\.rawValue)), help: help,
            defaultValue: { .string(value($0).rawValue) },
            apply: { v, draft in
                let text = try v.stringValue()
                guard let choice = Value(rawValue: text) else {
                    throw ConfigValue.Mismatch(
                        expected: Value.allCases.map(\.rawValue).joined(separator: ", "), value: v)
                }
                apply(&draft, choice)
            })
    }

    /// A whole number that may be left unset (nil).
    static func optionalInt(
        _ key: String, minimum: Int, maximum: Int = defaultMaximum, _ help: String,
        _ apply: @escaping @Sendable (inout SpecDraft, Int?) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .int(minimum...maximum), help: help, defaultValue: { _ in .null },
            apply: { v, draft in apply(&draft, v == .null ? nil : try v.intValue()) })
    }

    /// A number that may be left unset, whose value then follows other keys (`unsetMeans` says how).
    static func optionalDouble(
        _ key: String, _ check: @escaping @Sendable (Double) -> String?, _ help: String,
        unsetMeans: String, _ apply: @escaping @Sendable (inout SpecDraft, Double?) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .double(check: check), help: help, defaultValue: { _ in .null },
            apply: { v, draft in apply(&draft, v == .null ? nil : try v.doubleValue()) }, unsetMeans: unsetMeans)
    }

    /// Text that may be left unset (a path).
    static func optionalString(
        _ key: String, _ help: String,
        _ apply: @escaping @Sendable (inout SpecDraft, String?) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .string, help: help, defaultValue: { _ in .null },
            apply: { v, draft in apply(&draft, try v.optionalString()) })
    }

    /// A list of numbers, each checked, that may be left unset where `value` is nil.
    static func doubles(
        _ key: String, _ check: @escaping @Sendable (Double) -> String?, _ help: String, default value: [Double]?,
        _ apply: @escaping @Sendable (inout SpecDraft, [Double]?) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .doubles(check: check), help: help,
            defaultValue: { _ in value.map { .doubles($0) } ?? .null },
            apply: { v, draft in apply(&draft, try v.optionalDoubles()) })
    }

    /// Layer widths joined by '-'.
    static func architecture(
        _ key: String, _ help: String, default value: String,
        _ apply: @escaping @Sendable (inout SpecDraft, [Int]) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .architecture, help: help, defaultValue: { _ in .string(value) },
            apply: { v, draft in
                guard let widths = ModelSpec.parseWidths(try v.stringValue()) else {
                    throw ConfigValue.Mismatch(expected: "widths joined by '-'", value: v)
                }
                apply(&draft, widths)
            })
    }

    /// A positive integer or a path, or unset.
    static func intOrPath(
        _ key: String, _ help: String,
        _ apply: @escaping @Sendable (inout SpecDraft, Reclass?) -> Void
    ) -> ConfigField {
        ConfigField(
            key: key, kind: .intOrPath, help: help, defaultValue: { _ in .null },
            apply: { v, draft in
                switch v {
                case .null: apply(&draft, nil)
                case .int(let k): apply(&draft, .modulo(k))
                case .string(let path): apply(&draft, .mapping(path: path))
                default: throw ConfigValue.Mismatch(expected: "a class modulus or a mapping file", value: v)
                }
            })
    }
}
