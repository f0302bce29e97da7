import Foundation
import Yams
import SiftSpec

/// Walks the YAML tree, checking every key and value against the schema.
struct ConfigReader {
    let file: String
    /// The keys it knows: the experiment schema, or a table a test extends.
    let fields: [ConfigField]
    let byKey: [String: ConfigField]
    var values: [String: ConfigValue] = [:]
    var marks: [String: Mark] = [:]
    var name: String?
    var seeds: [UInt64] = []

    init(file: String, fields: [ConfigField] = ExperimentSchema.fields) {
        self.file = file
        self.fields = fields
        byKey = Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0) })
    }

    func error(_ node: Node?, _ key: String?, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, column: node?.mark?.column, key: key, message: message)
    }

    mutating func read(_ mapping: Node.Mapping, prefix: String) throws {
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.scalar?.string else { throw error(keyNode, nil, "keys must be plain names") }
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            guard seen.insert(name).inserted else { throw error(keyNode, key, "appears twice") }
            if prefix.isEmpty, ExperimentSchema.metadataKeys.contains(name) {
                try readMetadata(key, valueNode)
            } else if ExperimentSchema.sections.contains(key) {
                guard case .mapping(let inner) = valueNode else {
                    throw error(valueNode, key, "must be a mapping of settings")
                }
                try read(inner, prefix: key)
            } else if let field = byKey[key] {
                values[key] = try parse(valueNode, field)
                marks[key] = valueNode.mark
            } else {
                throw error(keyNode, key, "unknown key" + suggestion(for: key))
            }
        }
    }

    /// Takes a flat mapping of every field (a task's settings). Only the values that differ from this
    /// build's defaults are kept as set, so the combination checks read them as a config file's.
    mutating func readResolved(_ mapping: Node.Mapping) throws {
        var given: [String: Node] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw error(keyNode, nil, "keys must be dotted names") }
            guard byKey[key] != nil else {
                throw error(
                    keyNode, key, "unknown setting: this worker's build does not have it; run the coordinator's build")
            }
            given[key] = valueNode
        }
        let missing = fields.map(\.key).filter { given[$0] == nil }
        if let first = missing.first {
            throw error(
                nil, first,
                "missing" + (missing.count > 1 ? " (with \(missing.count - 1) more)" : "")
                    + ": a task carries every setting, so the coordinator runs another build")
        }
        var parsed: [String: ConfigValue] = [:]
        for field in fields {
            guard let node = given[field.key] else { continue }
            if node.scalar?.style == .plain && node.string == "null" {
                guard PruningPreset.allCases.contains(where: { field.defaultValue($0) == .null }) else {
                    throw error(node, field.key, "cannot be null")
                }
                parsed[field.key] = .null
            } else {
                parsed[field.key] = try parse(node, field)
            }
        }
        guard let presetName = parsed["pruning.preset"]?.string, let preset = PruningPreset(rawValue: presetName) else {
            throw error(nil, "pruning.preset", "must name a preset")
        }
        for field in fields {
            if let value = parsed[field.key], value != field.defaultValue(preset) { values[field.key] = value }
        }
    }

    func suggestion(for key: String) -> String {
        let section = key.split(separator: ".").dropLast().joined(separator: ".")
        let siblings = fields.map(\.key).filter { $0.hasPrefix(section + ".") && !section.isEmpty }
        if siblings.isEmpty { return "; sections are data, model, train and pruning" }
        return "; known keys here: " + siblings.map { String($0.dropFirst(section.count + 1)) }.joined(separator: ", ")
    }

    /// The most seeds one config may list: each is a chain of every experiment.
    static let maximumSeeds = 10_000

    mutating func readMetadata(_ key: String, _ node: Node) throws {
        switch key {
        case "name", "description":
            guard let text = node.scalar?.string else { throw error(node, key, "must be text") }
            if key == "name" { name = text }
        default:
            let items: [Node]
            if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
            seeds = try items.map { item in
                guard let s = item.scalar?.string, let seed = UInt64(s), seed <= UInt64(Int64.max) else {
                    // The store keeps seeds as SQLite integers (signed 64-bit).
                    throw error(
                        item, key,
                        "seeds must be whole numbers from 0 to \(Int64.max), got '\(item.scalar?.string ?? "a list")'")
                }
                return seed
            }
            guard !seeds.isEmpty else { throw error(node, key, "needs at least one seed") }
            guard seeds.count <= Self.maximumSeeds else {
                throw error(node, key, "lists \(seeds.count) seeds, more than the limit of \(Self.maximumSeeds)")
            }
            // A repeated seed would be one chain counted twice in every statistic.
            if let repeated = seeds.enumerated().first(where: { seeds[..<$0.offset].contains($0.element) })?.element {
                throw error(node, key, "seed \(repeated) is listed twice")
            }
        }
    }

    func parse(_ node: Node, _ field: ConfigField) throws -> ConfigValue {
        let key = field.key
        func scalar() throws -> String {
            guard let s = node.scalar?.string else {
                throw error(node, key, "must be a single value, not a list or mapping")
            }
            return s
        }
        func number(_ text: String, _ check: (Double) -> String?) throws -> Double {
            guard let v = Double(text), v.isFinite else { throw error(node, key, "must be a number, got '\(text)'") }
            if let problem = check(v) { throw error(node, key, "\(problem), got \(text)") }
            return v
        }
        switch field.kind {
        case .bool:
            switch try scalar().lowercased() {
            case "true", "yes", "on": return .bool(true)
            case "false", "no", "off": return .bool(false)
            case let other: throw error(node, key, "must be true or false, got '\(other)'")
            }
        case .int(let range):
            let text = try scalar()
            guard let v = Int(text) else {
                let tooLarge = text.allSatisfy { $0.isNumber || $0 == "-" } && !text.isEmpty
                throw error(
                    node, key,
                    tooLarge
                        ? "must be at most \(range.upperBound), got \(text)" : "must be a whole number, got '\(text)'")
            }
            guard v >= range.lowerBound else {
                throw error(node, key, "must be at least \(range.lowerBound), got \(v)")
            }
            guard v <= range.upperBound else { throw error(node, key, "must be at most \(range.upperBound), got \(v)") }
            return .int(v)
        case .double(let check):
            return .double(try number(try scalar(), check))
        case .choice(let options):
            let text = try scalar()
            guard options.contains(text) else {
                throw error(node, key, "must be one of \(options.joined(separator: ", ")), got '\(text)'")
            }
            return .string(text)
        case .string:
            return .string(try scalar())
        case .doubles(let check):
            let items: [Node]
            if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
            guard !items.isEmpty else { throw error(node, key, "needs at least one number") }
            return .doubles(
                try items.map { item in
                    guard let s = item.scalar?.string else { throw error(item, key, "list entries must be numbers") }
                    return try number(s, check)
                })
        case .intOrPath:
            let text = try scalar()
            if let k = Int(text) {
                guard k > 0 else { throw error(node, key, "a class modulus must be positive, got \(k)") }
                return .int(k)
            }
            return .string(text)
        case .architecture:
            let text = try scalar()
            guard ModelSpec.parseWidths(text) != nil else {
                throw error(
                    node, key,
                    "must be widths joined by '-', input first and classes last, e.g. 784-1024-10; got '\(text)'")
            }
            return .string(text)
        }
    }

    /// Resolves every field (set or default), builds the spec from the schema's table, and checks the
    /// combinations no single field can.
    func build(source: String) throws -> ExperimentConfig {
        let presetValue = values["pruning.preset"] ?? .string(PruningPreset.paper.rawValue)
        guard let preset = presetValue.string.flatMap(PruningPreset.init(rawValue:)) else {
            throw error(
                nil, "pruning.preset",
                "must be one of \(PruningPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var resolved: [String: ConfigValue] = [:]
        var overrides: [String: ConfigValue] = [:]
        var draft = SpecDraft(preset: preset)
        for field in fields {
            let fallback = field.defaultValue(preset)
            let value = values[field.key] ?? fallback
            resolved[field.key] = value
            if value != fallback { overrides[field.key] = value }
            do {
                try field.apply(value, &draft)
            } catch let mismatch as ConfigValue.Mismatch {
                let mark = marks[field.key]
                throw ConfigError(
                    file: file, line: mark?.line, column: mark?.column, key: field.key,
                    message: "must be \(mismatch.expected), got \(mismatch.value.canonicalJSON)")
            }
        }
        let spec = try assemble(draft)
        return ExperimentConfig(
            source: source, name: name, seeds: seeds.isEmpty ? [0] : seeds, spec: spec, overrides: overrides,
            resolved: resolved)
    }

    func requireOnly(_ key: String, when condition: Bool, _ reason: String) throws {
        if values[key] != nil && !condition {
            throw ConfigError(file: file, line: marks[key]?.line, column: marks[key]?.column, key: key, message: reason)
        }
    }

    /// The spec from the applied fields: the data source from the dataset and its settings, and the
    /// checks across fields (keys that apply to one dataset only, layer rates against layers, memory, data shape).
    func assemble(_ draft: SpecDraft) throws -> ExperimentSpec {
        let dataset = draft.dataset
        for key in values.keys where key.hasPrefix("data.nlgp.") {
            try requireOnly(key, when: dataset == .nlgp, "applies only when data.dataset is nlgp")
        }
        try requireOnly("data.test_path", when: dataset == .arrays, "applies only when data.dataset is arrays")
        try requireOnly("data.grayscale", when: dataset == .cifar10, "applies only when data.dataset is cifar10")
        try requireOnly("data.path", when: dataset != .nlgp, "nlgp data is generated; it reads no path")
        try requireOnly(
            "train.epochs", when: values["train.steps"] == nil,
            "is exclusive with train.steps: a level's length is one or the other")
        try requireOnly(
            "train.eval_every", when: values["train.eval_every_steps"] == nil,
            "is exclusive with train.eval_every_steps")

        func required(_ key: String, _ value: String?) throws -> String {
            guard let value else {
                throw ConfigError(file: file, key: key, message: "is required when data.dataset is \(dataset.rawValue)")
            }
            return value
        }
        var data = DataSpec()
        data.transforms = draft.transforms
        switch dataset {
        case .fashionMNIST: data.source = .fashionMNIST(directory: draft.path)
        case .mnist: data.source = .mnist(directory: try required("data.path", draft.path))
        case .cifar10:
            data.source = .cifar10(directory: try required("data.path", draft.path), grayscale: draft.grayscale)
        case .arrays:
            data.source = .arrays(
                train: try required("data.path", draft.path), test: try required("data.test_path", draft.testPath))
        case .nlgp:
            var nlgp = draft.nlgp
            nlgp.cloneClasses =
                draft.cloneEveryClass
                ? Set(nlgp.correlationLengths.indices) : Set((draft.cloneClasses ?? []).map { Int($0) })
            if let bad = nlgp.cloneClasses.first(where: { $0 >= nlgp.correlationLengths.count }) {
                let key = "data.nlgp.clone_classes"
                throw ConfigError(
                    file: file, line: marks[key]?.line, column: marks[key]?.column, key: key,
                    message:
                        "class \(bad) does not exist: data.nlgp.xi defines \(nlgp.correlationLengths.count) classes")
            }
            data.source = .nlgp(nlgp)
        }

        var model = draft.model
        model.widths = draft.widths
        model.sparseBelow = draft.sparseBelow ?? ModelSpec.defaultSparseBelow(batch: draft.train.batchSize)
        try checkFitsInMemory(model)
        try checkFitsOneMessage(model)
        try checkFitsData(model, data)
        let pruning = draft.pruning
        if let rates = pruning.layerRates, rates.count != model.layerCount {
            let mark = marks["pruning.layer_rates"]
            throw ConfigError(
                file: file, line: mark?.line, column: mark?.column, key: "pruning.layer_rates",
                message: "has \(rates.count) rates but model.arch \(model.architecture) has \(model.layerCount) layers")
        }
        if pruning.scope == .global && pruning.layerRates != nil {
            throw ConfigError(
                file: file, key: "pruning.layer_rates", message: "does not apply to global pruning; set pruning.rate")
        }
        return ExperimentSpec(data: data, model: model, train: draft.train, pruning: pruning)
    }
}
