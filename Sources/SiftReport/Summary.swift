import Foundation
import SiftArtifacts

/// Aggregates over seeds per (experiment, level), and comparisons between experiments at matched levels (science §7).
package struct Summary: Codable, Sendable {
    package struct Level: Codable, Sendable {
        package var level: Int
        package var seeds: [UInt64]
        /// Every column, summarised over seeds, by name.
        package var columns: [String: SampleSummary]

        package subscript(_ column: MetricColumn) -> SampleSummary? { columns[column.name] }
    }

    package struct Experiment: Codable, Sendable {
        package var experiment: String
        package var label: String
        package var control: String
        package var levels: [Level]
    }

    package struct Comparison: Codable, Sendable {
        package var a: String
        package var b: String
        package var level: Int
        package var column: String
        package var meanA: Double
        package var meanB: Double
        /// Nil when a side has one seed or no spread.
        package var welch: WelchComparison?
    }

    package var experiments: [Experiment]
    package var comparisons: [Comparison]

    /// Per-row columns of summary.csv after the identifying ones, in order.
    package static let valueColumns = MetricColumn.training + MetricColumn.locality + [MetricColumn.connectedFraction]
    /// Columns compared between experiments in the report's table.
    package static let comparedColumns: [MetricColumn] = [
        .testAccuracy, .pairDistanceRatioDegree, .pairDistanceRatioUniform, .gyrationRatioDegree,
        .participationRatioMean,
    ]

    package init(_ index: RunIndex) {
        let layerColumns = Self.layerColumns(index)
        let diverged = Set(index.divergedLevels.map { "\($0.experiment)/\($0.seed)" })
        experiments = index.experiments.map { experiment in
            let all = index.levels.filter { $0.experiment == experiment }
            // A diverged chain says nothing about the question at any of its levels: it is left out of every statistic.
            let records = all.filter { !diverged.contains("\($0.experiment)/\($0.seed)") }
            let levels = Set(records.map(\.level)).sorted().map { level -> Level in
                let rows = records.filter { $0.level == level }
                var columns: [String: SampleSummary] = [:]
                for column in Self.valueColumns + layerColumns {
                    columns[column.name] = SampleSummary(rows.compactMap { $0.scalars[column.name] })
                }
                return Level(level: level, seeds: rows.map(\.seed), columns: columns)
            }
            return Experiment(
                experiment: experiment, label: index.label(experiment),
                control: all.first?.metrics.training.control ?? "none", levels: levels)
        }
        var comparisons: [Comparison] = []
        for (i, a) in experiments.enumerated() {
            for b in experiments[(i + 1)...] {
                for levelA in a.levels {
                    guard let levelB = b.levels.first(where: { $0.level == levelA.level }) else { continue }
                    for column in Self.comparedColumns {
                        guard let sa = levelA[column], let sb = levelB[column] else { continue }
                        comparisons.append(
                            Comparison(
                                a: a.experiment, b: b.experiment, level: levelA.level, column: column.name,
                                meanA: sa.mean, meanB: sb.mean, welch: WelchComparison(sa, sb)))
                    }
                }
            }
        }
        self.comparisons = comparisons
    }

    /// density_layer_<l> and connected_fraction_layer_<l> for every layer seen, and the effective-mask
    /// figures of every deeper hidden layer (1 … layers − 2; the last layer is the output).
    static func layerColumns(_ index: RunIndex) -> [MetricColumn] {
        let layers = index.levels.map(\.metrics.training.densityLayers.count).max() ?? 0
        let deeper = layers > 2 ? Array(1...(layers - 2)) : []
        let normalised = index.levels.contains { $0.metrics.training.nearConstantInputs != nil }
        return (0..<layers).map(MetricColumn.density(layer:)) + (0..<layers).map(MetricColumn.connectedFraction(layer:))
            + deeper.flatMap { l in
                EffectiveLayerMetrics.figureNames.map { MetricColumn(EffectiveLayerMetrics.column($0, layer: l)) }
            }
            + (normalised ? (0..<layers).map(MetricColumn.nearConstantInputs(layer:)) : [])
    }

    /// One row per (experiment, seed, level); empty cells where a value is undefined. The last column,
    /// `diverged`, is 1 on every row of a chain that diverged (left out of summary.json's statistics).
    package static func csv(_ index: RunIndex) -> String {
        let columns = valueColumns + layerColumns(index)
        var lines = [
            (["experiment", "label", "control", "seed", "level"] + columns.map(\.name) + ["diverged"])
                .joined(separator: ",")
        ]
        for record in index.levels {
            var cells = [
                record.experiment, csvField(index.label(record.experiment)), record.metrics.training.control,
                String(record.seed), String(record.level),
            ]
            cells += columns.map { record.scalars[$0.name].map { "\($0)" } ?? "" }
            cells.append(index.diverged(record.experiment, seed: record.seed) ? "1" : "0")
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
