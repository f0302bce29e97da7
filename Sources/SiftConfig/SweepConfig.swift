import Foundation
import Yams

/// A sweep: a base experiment, named variants and grids over any field, and seeds (open_lth style).
///
/// ```yaml
/// name: controls
/// seeds: [0, 1, 2]
/// base:     { model: { arch: 784-512-10 }, pruning: { max_levels: 13 } }
/// variants: { natural: {}, scrambled: { data: { scramble: true } } }
/// grid:     { train.lr: [0.05, 0.1] }      # cartesian product, dotted keys
/// ```
/// A file without `base`, `variants` or `grid` is a sweep of one experiment.
package struct SweepConfig: Sendable {
    package var source: String
    package var name: String?
    package var seeds: [UInt64]
    /// Expanded experiments, named after their variant and grid values, in file order.
    package var experiments: [ExperimentConfig]
    /// SHA-256 (hex) of the file's text, which the store keeps with the sweep.
    package var digest: String = ""

    static let sweepKeys: Set<String> = ["base", "variants", "grid"]
    /// More experiments than this are refused before they are expanded (a few hundred bytes of grid can
    /// ask for millions); a sweep raises it with `max_experiments:`.
    package static let defaultMaxExperiments = 1000
    /// What `max_experiments:` may raise the limit to.
    package static let maxExperimentsCeiling = 100_000
    /// The most level tasks (experiments × seeds × levels) a sweep may plan: each is a row in the store and
    /// an entry in the coordinator's plan.
    package static let maximumTasks = 1_000_000

    package static func load(path: String) throws -> SweepConfig {
        try parse(yaml: YAMLSource.read(path), file: path)
    }

    package static func parse(yaml: String, file: String) throws -> SweepConfig {
        var sweep = try expand(yaml: yaml, file: file)
        sweep.digest = ExperimentConfig.sha256(yaml)
        return sweep
    }

    static func expand(yaml: String, file: String) throws -> SweepConfig {
        guard let root = try YAMLSource.compose(yaml, file: file) else {
            throw ConfigError(
                file: file,
                message:
                    "is empty; an experiment needs at least its model (model: {arch: …}): see Configs/quickstart.yaml")
        }
        guard case .mapping(let top) = root, top.keys.contains(where: { sweepKeys.contains($0.string ?? "") }) else {
            let single = try ExperimentConfig.parse(node: root, file: file)
            return try SweepConfig(source: file, name: single.name, seeds: single.seeds, experiments: [single])
                .checkingPlanSize()
        }
        func error(_ node: Node?, _ key: String?, _ message: String) -> ConfigError {
            ConfigError(file: file, line: node?.mark?.line, column: node?.mark?.column, key: key, message: message)
        }
        var metadata: [(Node, Node)] = [], base = Node([(Node, Node)]())
        var variants: [(String, Node)] = [], grid: [(String, Node, [Node])] = []
        var name: String?
        var maxExperiments = defaultMaxExperiments
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "name", "description", "seeds":
                metadata.append((keyNode, value))
                if key == "name" { name = value.string }
            case "max_experiments":
                guard let text = value.string, let limit = Int(text), limit > 0 else {
                    throw error(value, key, "must be a positive whole number")
                }
                guard limit <= maxExperimentsCeiling else {
                    throw error(value, key, "must be at most \(maxExperimentsCeiling), got \(limit)")
                }
                maxExperiments = limit
            case "base":
                guard value.mapping != nil else {
                    throw error(value, key, "must be a mapping of sections (data, model, train, pruning)")
                }
                base = value
            case "variants":
                guard let mapping = value.mapping else {
                    throw error(value, key, "must map variant names to overrides")
                }
                for (variantName, overrides) in mapping {
                    guard let label = variantName.string else {
                        throw error(variantName, key, "variant names must be text")
                    }
                    if overrides == Node("~") || overrides.string == "" || overrides.mapping != nil {
                        variants.append((label, overrides.mapping != nil ? overrides : Node([(Node, Node)]())))
                    } else {
                        throw error(
                            overrides, "variants.\(label)",
                            "must be a mapping of overrides, e.g. { data: { scramble: true } }")
                    }
                }
            case "grid":
                guard let mapping = value.mapping else {
                    throw error(value, key, "must map dotted keys to lists of values")
                }
                for (fieldNode, values) in mapping {
                    guard let field = fieldNode.string else {
                        throw error(fieldNode, key, "grid keys must be dotted names like train.lr")
                    }
                    guard case .sequence(let list) = values, !list.isEmpty else {
                        throw error(values, "grid.\(field)", "must be a non-empty list of values")
                    }
                    grid.append((field, fieldNode, Array(list)))
                }
            case "data", "model", "train", "pruning":
                throw error(keyNode, key, "in a sweep, experiment sections go under base: (or into a variant)")
            default:
                throw error(
                    keyNode, key,
                    "unknown key; a sweep has name, description, seeds, max_experiments, base, variants and grid")
            }
        }
        if variants.isEmpty { variants = [(name ?? "experiment", Node([(Node, Node)]()))] }
        var count = variants.count
        for (_, _, values) in grid {
            let (product, overflow) = count.multipliedReportingOverflow(by: values.count)
            count = overflow ? Int.max : product
        }
        guard count <= maxExperiments else {
            let sizes = ([variants.count] + grid.map(\.2.count)).map(String.init).joined(separator: " × ")
            throw ConfigError(
                file: file,
                message:
                    "expands to \(count == Int.max ? "more than \(Int.max)" : String(count)) experiments (\(sizes)), "
                    + "more than the limit of \(maxExperiments); set max_experiments: in the sweep to allow more")
        }

        // Every combination of grid values, each a list of (dotted key, value node).
        var combinations: [[(String, Node, Mark?)]] = [[]]
        for (field, fieldNode, values) in grid {
            combinations = combinations.flatMap { partial in values.map { partial + [(field, $0, fieldNode.mark)] } }
        }
        var experiments: [ExperimentConfig] = []
        var seen: [String: String] = [:]
        for (label, overrides) in variants {
            for combination in combinations {
                var node = merge(base, overrides)
                for (field, value, mark) in combination {
                    node = setting(
                        node, path: field.split(separator: ".").map(String.init)[...], to: value, keyMark: mark)
                }
                node = Node(metadata.filter { $0.0.string != "name" } + (node.mapping.map { Array($0) } ?? []))
                var experiment = try ExperimentConfig.parse(node: node, file: file)
                let suffix = combination.map { "\($0.0)=\($0.1.string ?? "…")" }.joined(separator: " ")
                let experimentName = suffix.isEmpty ? label : "\(label) \(suffix)"
                experiment.name = experimentName
                if let earlier = seen[experiment.hash] {
                    throw ConfigError(
                        file: file,
                        message:
                            "'\(experimentName)' and '\(earlier)' are the same experiment (hash \(experiment.shortHash)); remove one"
                    )
                }
                seen[experiment.hash] = experimentName
                experiments.append(experiment)
            }
        }
        return try SweepConfig(source: file, name: name, seeds: experiments[0].seeds, experiments: experiments)
            .checkingPlanSize()
    }

    /// The sweep, if its plan (every experiment's levels for every seed) stays within `maximumTasks`.
    func checkingPlanSize() throws -> SweepConfig {
        var tasks = 0
        for experiment in experiments {
            tasks += (experiment.spec.pruning.maxLevels + 1) * experiment.seeds.count
            guard tasks <= Self.maximumTasks else {
                throw ConfigError(
                    file: source,
                    message:
                        "plans more than \(Self.maximumTasks) level tasks (experiments × seeds × (pruning.max_levels + 1)), the limit; split it into several sweeps"
                )
            }
        }
        return self
    }

    /// Mappings merge key by key; anything else in `overlay` replaces `base`.
    static func merge(_ base: Node, _ overlay: Node) -> Node {
        guard let baseMapping = base.mapping, let overlayMapping = overlay.mapping else { return overlay }
        var pairs = Array(baseMapping)
        for (key, value) in overlayMapping {
            if let i = pairs.firstIndex(where: { $0.key == key }) {
                pairs[i] = (key, merge(pairs[i].value, value))
            } else {
                pairs.append((key, value))
            }
        }
        return Node(pairs.map { ($0.key, $0.value) })
    }

    /// `node` with the value at a dotted path replaced, creating sections as needed.
    /// New keys carry `keyMark` (the grid line), so errors about them point at the sweep file.
    static func setting(_ node: Node, path: ArraySlice<String>, to value: Node, keyMark: Mark?) -> Node {
        guard let head = path.first else { return value }
        var pairs = node.mapping.map { Array($0).map { ($0.key, $0.value) } } ?? []
        if let i = pairs.firstIndex(where: { $0.0.string == head }) {
            pairs[i].1 = setting(pairs[i].1, path: path.dropFirst(), to: value, keyMark: keyMark)
        } else {
            let key = Node.scalar(Node.Scalar(head, .implicit, .any, keyMark))
            pairs.append((key, setting(Node([(Node, Node)]()), path: path.dropFirst(), to: value, keyMark: keyMark)))
        }
        return Node(pairs)
    }
}
