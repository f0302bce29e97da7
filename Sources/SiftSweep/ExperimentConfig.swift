import Crypto
import Foundation
import SiftData
import SiftEngine
import Yams

/// An experiment config read from YAML: the resolved spec, its canonical form and its hash.
///
/// As in open_lth, a field left at its default does not enter the canonical form,
/// so adding an option later keeps every existing hash.
public struct ExperimentConfig: Sendable {
    public var source: String
    public var name: String?
    public var seeds: [UInt64]
    public var spec: ExperimentSpec
    /// Every non-default field, by dotted key.
    public var overrides: [String: ConfigValue]
    /// Every field, defaults included, by dotted key.
    public var resolved: [String: ConfigValue]

    /// `{"key":value,…}` with sorted keys, over the non-default fields.
    public var canonicalJSON: String { Self.canonicalJSON(overrides) }

    /// `{"key":value,…}` over every field, defaults included: what a level task carries, so that a worker
    /// runs exactly this experiment whatever its own defaults are.
    public var resolvedJSON: String { Self.canonicalJSON(resolved) }

    /// SHA-256 of the canonical form, hex.
    public var hash: String { Self.sha256(canonicalJSON) }

    /// The first 16 hex digits: the experiment's name on disk.
    public var shortHash: String { String(hash.prefix(16)) }

    /// Controls share their random streams with the IMP experiment they control, so level 0 is the same network.
    public var streamRoot: UInt64 {
        var lineage = overrides
        lineage.removeValue(forKey: "pruning.control")
        return UInt64(Self.sha256(Self.canonicalJSON(lineage)).prefix(16), radix: 16)!
    }

    public func identity(seed: UInt64) -> ChainIdentity {
        ChainIdentity(experiment: shortHash, streamRoot: streamRoot, seed: seed)
    }

    static func canonicalJSON(_ fields: [String: ConfigValue]) -> String {
        "{" + fields.keys.sorted().map { ConfigValue.quoted($0) + ":" + fields[$0]!.canonicalJSON }.joined(separator: ",") + "}"
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: - Loading

    /// Reads a file holding exactly one experiment. A sweep of several is refused with their names.
    public static func load(path: String) throws -> ExperimentConfig {
        let sweep = try SweepConfig.load(path: path)
        guard sweep.experiments.count == 1 else {
            throw ConfigError(file: path, message: "is a sweep of \(sweep.experiments.count) experiments (\(sweep.experiments.compactMap(\.name).joined(separator: ", "))); run it with `sift run`")
        }
        return sweep.experiments[0]
    }

    public static func parse(yaml: String, file: String) throws -> ExperimentConfig {
        try parse(node: YAMLSource.compose(yaml, file: file), file: file)
    }

    /// Reads `resolvedJSON` as a worker receives it. Every field must be there and known to this build:
    /// a missing or unknown key is an error, never filled in from this build's defaults.
    public static func parse(resolvedJSON text: String, origin: String) throws -> ExperimentConfig {
        guard case .mapping(let mapping)? = try YAMLSource.compose(text, file: origin) else {
            throw ConfigError(file: origin, message: "the settings are not a mapping of dotted keys to values")
        }
        var reader = ConfigReader(file: origin)
        do {
            try reader.readResolved(mapping)
            return try reader.build(source: origin)
        } catch var error as ConfigError {
            // The settings are one line of JSON: a column in it helps nobody, the key does.
            (error.line, error.column) = (nil, nil)
            throw error
        }
    }

    /// Builds an experiment from a YAML mapping of sections (metadata keys allowed at the top).
    static func parse(node root: Node?, file: String) throws -> ExperimentConfig {
        var reader = ConfigReader(file: file)
        guard let root else { return try reader.build(source: file) }
        guard case .mapping(let mapping) = root else {
            throw ConfigError(file: file, line: root.mark?.line, column: root.mark?.column, message: "the top level must be a mapping of sections (data, model, train, pruning)")
        }
        try reader.read(mapping, prefix: "")
        return try reader.build(source: file)
    }

    /// The experiment as YAML that parses back to the same hash: only its non-default fields, by section.
    public var canonicalYAML: String {
        var lines: [String] = []
        if let name { lines.append("name: \(ConfigValue.quoted(name))") }
        lines.append("seeds: [\(seeds.map(String.init).joined(separator: ", "))]")
        var open: [String] = []
        for key in overrides.keys.sorted() {
            let path = key.split(separator: ".").map(String.init)
            let sections = Array(path.dropLast())
            let shared = zip(open, sections).prefix { $0 == $1 }.count
            for (depth, section) in sections.enumerated().dropFirst(shared) {
                lines.append(String(repeating: "  ", count: depth) + "\(section):")
            }
            open = sections
            lines.append(String(repeating: "  ", count: sections.count) + "\(path.last!): \(overrides[key]!.canonicalJSON)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Reading YAML files into Yams nodes, with errors that name the file.
enum YAMLSource {
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, message: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "the file is not UTF-8 text")
        }
        return text
    }

    static func compose(_ yaml: String, file: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(yaml: error, file: file)
        }
    }
}

extension ConfigError {
    init(yaml error: YamlError, file: String) {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            self.init(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            self.init(file: file, line: context.mark.line, column: context.mark.column,
                      message: "key \(duplicates.joined(separator: ", ")) appears twice in one mapping")
        default:
            self.init(file: file, message: "YAML syntax: \(error)")
        }
    }
}

/// Walks the YAML tree, checking every key and value against the schema.
private struct ConfigReader {
    let file: String
    var values: [String: ConfigValue] = [:]
    var marks: [String: Mark] = [:]
    var name: String?
    var seeds: [UInt64] = []

    init(file: String) { self.file = file }

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
                guard case .mapping(let inner) = valueNode else { throw error(valueNode, key, "must be a mapping of settings") }
                try read(inner, prefix: key)
            } else if let field = ExperimentSchema.byKey[key] {
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
            guard ExperimentSchema.byKey[key] != nil else {
                throw error(keyNode, key, "unknown setting: this worker's build does not have it; run the coordinator's build")
            }
            given[key] = valueNode
        }
        let missing = ExperimentSchema.fields.map(\.key).filter { given[$0] == nil }
        if let first = missing.first {
            throw error(nil, first, "missing" + (missing.count > 1 ? " (with \(missing.count - 1) more)" : "")
                        + ": a task carries every setting, so the coordinator runs another build")
        }
        var parsed: [String: ConfigValue] = [:]
        for field in ExperimentSchema.fields {
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
        for field in ExperimentSchema.fields {
            if let value = parsed[field.key], value != field.defaultValue(preset) { values[field.key] = value }
        }
    }

    func suggestion(for key: String) -> String {
        let section = key.split(separator: ".").dropLast().joined(separator: ".")
        let siblings = ExperimentSchema.fields.map(\.key).filter { $0.hasPrefix(section + ".") && !section.isEmpty }
        if siblings.isEmpty { return "; sections are data, model, train and pruning" }
        return "; known keys here: " + siblings.map { String($0.dropFirst(section.count + 1)) }.joined(separator: ", ")
    }

    mutating func readMetadata(_ key: String, _ node: Node) throws {
        switch key {
        case "name", "description":
            guard let text = node.scalar?.string else { throw error(node, key, "must be text") }
            if key == "name" { name = text }
        default:
            let items: [Node]
            if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
            seeds = try items.map { item in
                guard let s = item.scalar?.string, let seed = UInt64(s) else { throw error(item, key, "seeds must be non-negative integers") }
                return seed
            }
            guard !seeds.isEmpty else { throw error(node, key, "needs at least one seed") }
            // A repeated seed would be one chain counted twice in every statistic.
            if let repeated = seeds.enumerated().first(where: { seeds[..<$0.offset].contains($0.element) })?.element {
                throw error(node, key, "seed \(repeated) is listed twice")
            }
        }
    }

    func parse(_ node: Node, _ field: ConfigField) throws -> ConfigValue {
        let key = field.key
        func scalar() throws -> String {
            guard let s = node.scalar?.string else { throw error(node, key, "must be a single value, not a list or mapping") }
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
        case .int(let minimum):
            let text = try scalar()
            guard let v = Int(text) else { throw error(node, key, "must be a whole number, got '\(text)'") }
            guard v >= minimum else { throw error(node, key, "must be at least \(minimum), got \(v)") }
            return .int(v)
        case .double(let check):
            return .double(try number(try scalar(), check))
        case .choice(let options):
            let text = try scalar()
            guard options.contains(text) else { throw error(node, key, "must be one of \(options.joined(separator: ", ")), got '\(text)'") }
            return .string(text)
        case .string:
            return .string(try scalar())
        case .doubles(let check):
            let items: [Node]
            if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
            guard !items.isEmpty else { throw error(node, key, "needs at least one number") }
            return .doubles(try items.map { item in
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
                throw error(node, key, "must be widths joined by '-', input first and classes last, e.g. 784-1024-10; got '\(text)'")
            }
            return .string(text)
        }
    }

    /// Resolves every field (set or default), checks the combinations, and builds the spec.
    func build(source: String) throws -> ExperimentConfig {
        let preset = PruningPreset(rawValue: values["pruning.preset"]?.string ?? "paper")!
        var resolved: [String: ConfigValue] = [:]
        var overrides: [String: ConfigValue] = [:]
        for field in ExperimentSchema.fields {
            let fallback = field.defaultValue(preset)
            let value = values[field.key] ?? fallback
            resolved[field.key] = value
            if value != fallback { overrides[field.key] = value }
        }
        let spec = try makeSpec(resolved)
        return ExperimentConfig(source: source, name: name, seeds: seeds.isEmpty ? [0] : seeds, spec: spec, overrides: overrides,
                                resolved: resolved)
    }

    /// Bytes a worker holds per weight while it trains: weights, gradient, rewind copy and the
    /// sparse path's values (4 bytes each), the mask (1) and slack for the optimizer's state.
    static let bytesPerWeight = 24

    /// An architecture whose training would not fit this machine's memory is refused here, before a
    /// store is written or a worker allocates it.
    func checkFitsInMemory(_ model: ModelSpec) throws {
        var weights = 0, overflow = false
        for (fanIn, fanOut) in zip(model.widths, model.widths.dropFirst()) {
            let (layer, o1) = fanIn.multipliedReportingOverflow(by: fanOut)
            let (sum, o2) = weights.addingReportingOverflow(layer)
            (weights, overflow) = (sum, overflow || o1 || o2)
        }
        let (bytes, o3) = weights.multipliedReportingOverflow(by: Self.bytesPerWeight)
        let memory = ProcessInfo.processInfo.physicalMemory
        guard overflow || o3 || UInt64(bytes) > memory else { return }
        let key = "model.arch"
        throw ConfigError(file: file, line: marks[key]?.line, column: marks[key]?.column, key: key,
                          message: "\(model.architecture) has \(overflow ? "too many" : String(weights)) weights, about "
                              + (overflow || o3 ? "more memory than any machine has" : "\(bytes >> 30) GiB")
                              + " to train; this machine has \(memory >> 30) GiB")
    }

    /// The image size and class count of `data`, where they are known without reading it (not for arrays,
    /// nor for classes remapped by a file).
    static func knownShape(of data: DataSpec) -> (name: String, values: Int, classes: Int?)? {
        var shape: (name: String, values: Int, classes: Int?)
        switch data.source {
        case .fashionMNIST: shape = ("fashion_mnist images (28×28)", 784, 10)
        case .mnist: shape = ("mnist images (28×28)", 784, 10)
        case .cifar10(_, let grayscale): shape = grayscale ? ("grayscale cifar10 images (32×32)", 1024, 10) : ("cifar10 images (32×32×3)", 3072, 10)
        case .nlgp(let nlgp): shape = ("nlgp images (\(nlgp.side)×\(nlgp.side))", nlgp.side * nlgp.side, nlgp.correlationLengths.count)
        case .arrays: return nil
        }
        switch data.transforms.reclass {
        case .modulo(let k)?: shape.classes = shape.classes.map { min($0, k) }
        case .mapping?: shape.classes = nil
        case nil: break
        }
        return shape
    }

    /// An architecture whose input or output does not fit the data is refused here, at its line,
    /// rather than by every worker at level 0.
    func checkFitsData(_ model: ModelSpec, _ data: DataSpec) throws {
        guard let shape = Self.knownShape(of: data) else { return }
        let key = "model.arch", inputs = model.widths[0], outputs = model.widths[model.widths.count - 1]
        func refuse(_ message: String) -> ConfigError {
            ConfigError(file: file, line: marks[key]?.line, column: marks[key]?.column, key: key, message: message)
        }
        if inputs != shape.values {
            throw refuse("\(model.architecture) takes \(inputs) inputs, but \(shape.name) have \(shape.values) values; start it with \(shape.values)")
        }
        if let classes = shape.classes, outputs < classes {
            throw refuse("\(model.architecture) has \(outputs) outputs, but the data have \(classes) classes; end it with \(classes)")
        }
    }

    func requireOnly(_ key: String, when condition: Bool, _ reason: String) throws {
        if values[key] != nil && !condition {
            throw ConfigError(file: file, line: marks[key]?.line, column: marks[key]?.column, key: key, message: reason)
        }
    }

    func makeSpec(_ v: [String: ConfigValue]) throws -> ExperimentSpec {
        let dataset = v["data.dataset"]!.string!
        for key in v.keys where key.hasPrefix("data.nlgp.") {
            try requireOnly(key, when: dataset == "nlgp", "applies only when data.dataset is nlgp")
        }
        try requireOnly("data.test_path", when: dataset == "arrays", "applies only when data.dataset is arrays")
        try requireOnly("data.grayscale", when: dataset == "cifar10", "applies only when data.dataset is cifar10")
        try requireOnly("data.path", when: dataset != "nlgp", "nlgp data is generated; it reads no path")

        func path(_ key: String) throws -> String {
            guard let p = v[key]?.string else {
                throw ConfigError(file: file, key: key, message: "is required when data.dataset is \(dataset)")
            }
            return p
        }
        var data = DataSpec()
        switch dataset {
        case "fashion_mnist": data.source = .fashionMNIST(directory: v["data.path"]?.string)
        case "mnist": data.source = .mnist(directory: try path("data.path"))
        case "cifar10": data.source = .cifar10(directory: try path("data.path"), grayscale: v["data.grayscale"]!.bool)
        case "arrays": data.source = .arrays(train: try path("data.path"), test: try path("data.test_path"))
        default:
            var nlgp = NLGPSettings()
            nlgp.side = v["data.nlgp.side"]!.int
            nlgp.correlationLengths = v["data.nlgp.xi"]!.doubles!
            nlgp.gain = v["data.nlgp.gain"]!.double
            nlgp.periodic = v["data.nlgp.periodic"]!.bool
            nlgp.cloneClasses = v["data.nlgp.clone"]!.bool
                ? Set(nlgp.correlationLengths.indices) : Set((v["data.nlgp.clone_classes"]!.doubles ?? []).map { Int($0) })
            if let bad = nlgp.cloneClasses.first(where: { $0 >= nlgp.correlationLengths.count }) {
                throw ConfigError(file: file, line: marks["data.nlgp.clone_classes"]?.line, column: marks["data.nlgp.clone_classes"]?.column,
                                  key: "data.nlgp.clone_classes", message: "class \(bad) does not exist: data.nlgp.xi defines \(nlgp.correlationLengths.count) classes")
            }
            nlgp.trainCount = v["data.nlgp.train_size"]!.int
            nlgp.testCount = v["data.nlgp.test_size"]!.int
            data.source = .nlgp(nlgp)
        }
        data.transforms.normalization = Normalization(rawValue: v["data.normalization"]!.string!)!
        data.transforms.scramble = v["data.scramble"]!.bool
        data.transforms.shuffleLabels = v["data.shuffle_labels"]!.bool
        data.transforms.gaussianClone = v["data.gaussian_clone"]!.bool
        data.transforms.subsetFraction = v["data.subset"]!.double
        switch v["data.reclass"]! {
        case .int(let k): data.transforms.reclass = .modulo(k)
        case .string(let p): data.transforms.reclass = .mapping(path: p)
        default: data.transforms.reclass = nil
        }

        var model = ModelSpec(widths: ModelSpec.parseWidths(v["model.arch"]!.string!)!)
        try checkFitsInMemory(model)
        try checkFitsData(model, data)
        model.activation = Activation(rawValue: v["model.activation"]!.string!)!
        model.batchNorm = v["model.batch_norm"]!.bool
        model.batchNormEpsilon = v["model.batch_norm_eps"]!.double
        model.batchNormDecay = v["model.batch_norm_decay"]!.double
        model.initScheme = InitScheme(rawValue: v["model.init"]!.string!)!
        model.loss = LossKind(rawValue: v["model.loss"]!.string!)!
        model.sparseBelow = v["model.sparse_below"]!.double

        var train = TrainSpec()
        train.optimizer = OptimizerKind(rawValue: v["train.optimizer"]!.string!)!
        train.learningRate = v["train.lr"]!.double
        train.momentum = v["train.momentum"]!.double
        train.adamBeta1 = v["train.adam_beta1"]!.double
        train.adamBeta2 = v["train.adam_beta2"]!.double
        train.adamEpsilon = v["train.adam_eps"]!.double
        train.batchSize = v["train.batch"]!.int
        train.epochs = v["train.epochs"]!.int
        train.sampling = BatchSampling(rawValue: v["train.sampling"]!.string!)!
        train.evalEveryEpochs = v["train.eval_every"]!.int

        var pruning = PruningSpec(preset: PruningPreset(rawValue: v["pruning.preset"]!.string!)!)
        pruning.scope = PruningScope(rawValue: v["pruning.scope"]!.string!)!
        pruning.rate = v["pruning.rate"]!.double
        pruning.layerRates = v["pruning.layer_rates"]!.doubles
        pruning.outputRate = v["pruning.output_rate"]!.double
        pruning.pruneBiases = v["pruning.prune_biases"]!.bool
        pruning.rewindStep = v["pruning.rewind_step"]!.int
        pruning.maxLevels = v["pruning.max_levels"]!.int
        pruning.stopConnectedFraction = v["pruning.stop_fraction"]!.double
        pruning.control = PruningControl(rawValue: v["pruning.control"]!.string!)!
        if let rates = pruning.layerRates, rates.count != model.layerCount {
            let mark = marks["pruning.layer_rates"]
            throw ConfigError(file: file, line: mark?.line, column: mark?.column, key: "pruning.layer_rates",
                              message: "has \(rates.count) rates but model.arch \(model.architecture) has \(model.layerCount) layers")
        }
        if pruning.scope == .global && pruning.layerRates != nil {
            throw ConfigError(file: file, key: "pruning.layer_rates", message: "does not apply to global pruning; set pruning.rate")
        }
        return ExperimentSpec(data: data, model: model, train: train, pruning: pruning)
    }
}
