import Foundation
import SiftArtifacts

/// One level of one chain found on disk.
package struct LevelRecord: Sendable {
    package var directory: String
    package var metrics: LevelMetrics
    /// The numeric figures of metrics.json by key, for columns looked up by name.
    package var scalars: [String: Double]

    package var experiment: String { metrics.training.experiment }
    package var seed: UInt64 { metrics.training.seed }
    package var level: Int { metrics.training.level }
}

/// Every level of every chain under a folder: `sift imp` outputs (DIR/level-k/) and sweeps
/// (DIR/experiments/<hash>/seed-<s>/level-k/) alike.
package struct RunIndex: Sendable {
    package var root: String
    package var levels: [LevelRecord]
    /// Readable names of experiments, from experiment.json where present, else the hash.
    package var labels: [String: String]
    /// Level folders that could not be read, with why; reported, never fatal.
    package var problems: [String]

    package init(root: String) throws {
        self.root = root
        var levels: [LevelRecord] = [], names: [String: String] = [:], problems: [String] = []
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue,
            let walker = FileManager.default.enumerator(atPath: root)
        else {
            throw ReportError.unreadable(path: root, reason: "no such folder")
        }
        while let relative = walker.nextObject() as? String {
            let parts = relative.split(separator: "/")
            guard parts.last == "metrics.json", parts.count >= 2,
                parts[parts.count - 2].hasPrefix(LevelArtifacts.folderPrefix),
                !parts.contains(where: { $0 == ReportWriter.folderName || $0.hasPrefix(".") })
            else { continue }
            let levelDirectory = (root as NSString).appendingPathComponent(
                (relative as NSString).deletingLastPathComponent)
            let path = (root as NSString).appendingPathComponent(relative)
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                let metrics = try JSONDecoder().decode(LevelMetrics.self, from: data)
                let t = metrics.training
                var scalars = metrics.locality?.scalars ?? [:]
                scalars[MetricColumn.densityTotal.name] = t.densityTotal
                scalars[MetricColumn.testAccuracy.name] = t.testAccuracy
                scalars[MetricColumn.bestTestAccuracy.name] = t.bestTestAccuracy
                scalars[MetricColumn.testAccuracyRecalibrated.name] = t.testAccuracyRecalibrated
                for (l, count) in (t.nearConstantInputs ?? []).enumerated() {
                    scalars[MetricColumn.nearConstantInputs(layer: l).name] = Double(count)
                }
                scalars[MetricColumn.trainLoss.name] = t.trainLoss
                for (l, density) in t.densityLayers.enumerated() {
                    scalars[MetricColumn.density(layer: l).name] = density
                }
                levels.append(LevelRecord(directory: levelDirectory, metrics: metrics, scalars: scalars))
                if names[metrics.training.experiment] == nil, let name = Self.experimentName(near: levelDirectory) {
                    names[metrics.training.experiment] = name
                }
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        guard !levels.isEmpty else {
            throw ReportError.empty(path: root, problems: problems)
        }
        self.levels = levels.sorted { ($0.experiment, $0.seed, $0.level) < ($1.experiment, $1.seed, $1.level) }
        self.problems = problems
        // A name shared by two experiments gets the hash appended, so labels stay unique.
        var labels: [String: String] = [:]
        let experiments = Set(levels.map(\.experiment))
        for experiment in experiments {
            let name = names[experiment] ?? experiment
            let clash = experiments.contains { $0 != experiment && (names[$0] ?? $0) == name }
            labels[experiment] = clash ? "\(name) (\(experiment.prefix(8)))" : name
        }
        self.labels = labels
    }

    /// `name` from experiment.json in the chain folder or the experiment folder above it.
    static func experimentName(near levelDirectory: String) -> String? {
        var folder = (levelDirectory as NSString).deletingLastPathComponent
        for _ in 0..<2 {
            let path = (folder as NSString).appendingPathComponent("experiment.json")
            if let data = FileManager.default.contents(atPath: path),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let name = json["name"] as? String, !name.isEmpty
            {
                return name
            }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// The diverged level of each chain whose training diverged (its chain ends there).
    package var divergedLevels: [LevelRecord] { levels.filter { $0.metrics.training.diverged == true } }

    /// Whether the chain (experiment, seed) diverged at some level; such chains are left out of the seed statistics.
    package func diverged(_ experiment: String, seed: UInt64) -> Bool {
        divergedLevels.contains { $0.experiment == experiment && $0.seed == seed }
    }

    /// Experiments in a stable order: by label, numbers in it compared as numbers (variant-2 before variant-10).
    package var experiments: [String] {
        Set(levels.map(\.experiment)).sorted { a, b in
            let (x, y) = (label(a), label(b))
            return x == y ? a < b : NaturalOrder.precedes(x, y)
        }
    }

    package func label(_ experiment: String) -> String { labels[experiment] ?? experiment }
}

package enum ReportError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case empty(path: String, problems: [String])

    package var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .empty(path, problems):
            return "no level-*/metrics.json under \(path); run `sift imp` or a sweep into it first"
                + (problems.isEmpty ? "" : ". Unreadable: " + problems.joined(separator: "; "))
        }
    }
}
