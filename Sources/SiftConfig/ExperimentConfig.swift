import SiftDigest
import Foundation
import Yams
import SiftSpec

/// An experiment config read from YAML: the resolved spec, its canonical form and its hash.
///
/// As in open_lth, a field left at its default does not enter the canonical form,
/// so adding an option later keeps every existing hash.
package struct ExperimentConfig: Sendable {
    package var source: String
    package var name: String?
    package var seeds: [UInt64]
    package var spec: ExperimentSpec
    /// Every non-default field, by dotted key.
    package var overrides: [String: ConfigValue]
    /// Every field, defaults included, by dotted key.
    package var resolved: [String: ConfigValue]

    /// `{"key":value,…}` with sorted keys, over the non-default fields.
    package var canonicalJSON: String { Self.canonicalJSON(overrides) }

    /// `{"key":value,…}` over every field, defaults included: what a level task carries, so that a worker
    /// runs exactly this experiment whatever its own defaults are.
    package var resolvedJSON: String { Self.canonicalJSON(resolved) }

    /// SHA-256 of the canonical form, hex.
    package var hash: String { Self.sha256(canonicalJSON) }

    /// The first 16 hex digits: the experiment's name on disk.
    package var shortHash: String { String(hash.prefix(16)) }

    /// The root of every random stream. Keys that say what is done with a network or which path computes
    /// it, not which network it is, stay out: a control starts from its IMP experiment's network, and a
    /// chain with `model.sparse_below: 0` trains the same network as its sparse twin, so the two paths'
    /// agreement can be checked on real chains.
    package var streamRoot: UInt64 {
        let lineage = overrides.filter { !Self.keysOutsideStreams.contains($0.key) }
        // The first 8 bytes of the digest, big-endian: the first 16 hex digits of its text.
        return SHA256.hash(Self.canonicalJSON(lineage)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Keys that choose how a network is computed or read, not which network it is: experiments that
    /// differ only in them draw the same random streams (recalibration reads a trained network again).
    static let keysOutsideStreams: Set<String> = [
        "pruning.control", "model.sparse_below", "train.recalibration_batches",
    ]

    /// Whether `imp` is the IMP experiment this control takes its masks from: every override but the control agrees.
    package func isControlled(by imp: ExperimentConfig) -> Bool {
        guard imp.spec.pruning.control == .none else { return false }
        return overrides.filter { $0.key != "pruning.control" } == imp.overrides
    }

    package func identity(seed: UInt64) -> ChainIdentity {
        ChainIdentity(experiment: shortHash, streamRoot: streamRoot, seed: seed)
    }

    static func canonicalJSON(_ fields: [String: ConfigValue]) -> String {
        "{"
            + fields.sorted { $0.key < $1.key }.map { ConfigValue.quoted($0.key) + ":" + $0.value.canonicalJSON }
            .joined(separator: ",") + "}"
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(text).hexDigits
    }

    // MARK: - Loading

    /// Reads a file holding exactly one experiment. A sweep of several is refused with their names.
    package static func load(path: String) throws -> ExperimentConfig {
        let sweep = try SweepConfig.load(path: path)
        guard sweep.experiments.count == 1 else {
            throw ConfigError(
                file: path,
                message:
                    "is a sweep of \(sweep.experiments.count) experiments (\(sweep.experiments.compactMap(\.name).joined(separator: ", "))); run it with `sift run`"
            )
        }
        return sweep.experiments[0]
    }

    package static func parse(yaml: String, file: String) throws -> ExperimentConfig {
        try parse(node: YAMLSource.compose(yaml, file: file), file: file)
    }

    /// Reads `resolvedJSON` as a worker receives it. Every field must be there and known to this build:
    /// a missing or unknown key is an error, never filled in from this build's defaults.
    package static func parse(resolvedJSON text: String, origin: String) throws -> ExperimentConfig {
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

    /// Builds an experiment from a YAML mapping of sections (metadata keys allowed at the top), with the
    /// schema's keys (a test may pass the table with one more).
    static func parse(
        node root: Node?, file: String, fields: [ConfigField] = ExperimentSchema.fields
    ) throws -> ExperimentConfig {
        var reader = ConfigReader(file: file, fields: fields)
        guard let root else { return try reader.build(source: file) }
        guard case .mapping(let mapping) = root else {
            throw ConfigError(
                file: file, line: root.mark?.line, column: root.mark?.column,
                message: "the top level must be a mapping of sections (data, model, train, pruning)")
        }
        try reader.read(mapping, prefix: "")
        return try reader.build(source: file)
    }

    /// The experiment as YAML that parses back to the same hash: only its non-default fields, by section.
    package var canonicalYAML: String {
        var lines: [String] = []
        if let name { lines.append("name: \(ConfigValue.quoted(name))") }
        lines.append("seeds: [\(seeds.map(String.init).joined(separator: ", "))]")
        var open: [String] = []
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
            let path = key.split(separator: ".").map(String.init)
            let sections = Array(path.dropLast())
            let shared = zip(open, sections).prefix { $0 == $1 }.count
            for (depth, section) in sections.enumerated().dropFirst(shared) {
                lines.append(String(repeating: "  ", count: depth) + "\(section):")
            }
            open = sections
            lines.append(String(repeating: "  ", count: sections.count) + "\(path.last ?? key): \(value.canonicalJSON)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
