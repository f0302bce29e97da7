import Foundation
import SiftArtifacts
import SiftData
import SiftEngine
import SiftFiles
import SiftReport
import SiftTestKit
import Testing
import SiftSpec

/// `sift report` over small chains written by the engine, in both the `sift imp` and the sweep layout.
@Suite(.serialized) struct ReportTests {
    static let data = SyntheticImages.split(
        shape: ImageShape(channels: 1, height: 4, width: 4), classes: 4, train: 256, test: 128)

    /// Runs a 3-level chain and writes it under `root`.
    static func writeChain(
        root: String, control: PruningControl, seed: UInt64, name: String, batchNorm: Bool = false
    ) throws {
        var train = TrainSpec()
        train.batchSize = 32
        train.epochs = 1
        var pruning = PruningSpec(preset: .lth)
        pruning.maxLevels = 2
        pruning.control = control
        var model = ModelSpec(widths: [16, 12, 4])
        model.batchNorm = batchNorm
        let spec = ExperimentSpec(data: DataSpec(), model: model, train: train, pruning: pruning)
        let chain = try IMPChain(
            spec: spec, data: data,
            identity: ChainIdentity(experiment: "exp-\(control.rawValue)", streamRoot: 9, seed: seed))
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("{\"name\": \"\(name)\"}".utf8).write(to: URL(fileURLWithPath: "\(root)/experiment.json"))
        try chain.run(onLevel: { try LevelArtifacts.write(root: root, level: $0, model: spec.model) })
    }

    @Test func summarisesASweepLayout() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for (control, name) in [(PruningControl.none, "IMP"), (.random, "random, control")] {
            for seed in [UInt64(0), 1, 2] {
                try Self.writeChain(
                    root: dir.file("experiments/exp-\(control.rawValue)/seed-\(seed)"), control: control, seed: seed,
                    name: name)
            }
        }
        let index = try RunIndex(root: dir.path)
        #expect(index.levels.count == 18)
        #expect(index.experiments.count == 2)
        let folder = try ReportWriter(index: index).write()

        let csv = try String(contentsOfFile: "\(folder)/summary.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 19)
        let header = lines[0].split(separator: ",").map(String.init)
        for column in [
            "experiment", "seed", "level", "density_total", "test_accuracy", "pair_distance_ratio_uniform",
            "pair_distance_ratio_degree", "pair_distance_z_degree", "mean_pair_distance", "gyration_radius_mean",
            "gyration_ratio_degree", "ipr_mean", "participation_ratio_mean", "connected_fraction",
        ] {
            #expect(header.contains(column), "summary.csv lacks \(column)")
        }
        #expect(csv.contains("\"random, control\""), "a label with a comma is quoted")

        let summary = try JSONDecoder().decode(
            Summary.self, from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/summary.json")))
        let imp = try #require(summary.experiments.first { $0.label == "IMP" })
        let level2 = try #require(imp.levels.first { $0.level == 2 })
        #expect(level2.seeds.sorted() == [0, 1, 2])
        let accuracies = index.levels.filter { $0.experiment == imp.experiment && $0.level == 2 }.map(
            \.metrics.training.testAccuracy)
        let accuracy = try #require(level2.columns["test_accuracy"])
        #expect(abs(accuracy.mean - accuracies.reduce(0, +) / 3) < 1e-12)
        #expect(accuracy.n == 3 && accuracy.ci95 != nil)
        #expect(summary.comparisons.contains { $0.level == 2 && $0.column == "pair_distance_ratio_degree" })

        let html = try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("data:image/png;base64,"))
        for reference in ["src=\"http", "href=\"http", "<link", "@import", "<script src"] {
            #expect(!html.contains(reference), "the page must load nothing from outside: found \(reference)")
        }
        #expect(html.contains("random, control"))
        #expect(
            html.contains("class=\"pick\"") && html.contains("<input type=\"checkbox\" data-experiment=\"1\" checked>"),
            "a reader picks which experiments the charts show")
        #expect(html.contains("<g data-experiment=\"0\">") && html.contains("<g data-experiment=\"1\">"))
    }

    /// A batch-normalised chain: both accuracies in summary.csv and in the chart, and the nearly constant inputs
    /// per layer in a table; a chain without batch norm has neither.
    @Test func showsBatchNormsTwoAccuraciesAndNearlyConstantInputs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeChain(
            root: dir.file("experiments/exp-bn/seed-0"), control: .none, seed: 0, name: "normalised", batchNorm: true)
        let index = try RunIndex(root: dir.path)
        let training = try #require(index.levels.first?.metrics.training)
        #expect(training.testAccuracyRecalibrated != nil && training.nearConstantInputs?.count == 2)
        let folder = try ReportWriter(index: index).write()
        let csv = try String(contentsOfFile: "\(folder)/summary.csv", encoding: .utf8).split(separator: "\n")
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let column = try #require(header.firstIndex(of: "test_accuracy_recalibrated"))
        #expect(header.contains("near_constant_inputs_layer_1"))
        #expect(
            csv.dropFirst().allSatisfy { !$0.split(separator: ",", omittingEmptySubsequences: false)[column].isEmpty })
        let html = try String(contentsOfFile: "\(folder)/index.html", encoding: .utf8)
        #expect(html.contains("normalised (running averages)") && html.contains("normalised (recalibrated)"))
        #expect(html.contains("Batch norm: nearly constant inputs"))

        let plain = try TemporaryDirectory()
        defer { plain.remove() }
        try Self.writeChain(root: plain.path, control: .none, seed: 0, name: "plain")
        let plainIndex = try RunIndex(root: plain.path)
        #expect(
            plainIndex.levels.allSatisfy {
                $0.metrics.training.testAccuracyRecalibrated == nil && $0.metrics.training.nearConstantInputs == nil
            })
        let plainHTML = try String(
            contentsOfFile: "\(try ReportWriter(index: plainIndex).write())/index.html", encoding: .utf8)
        #expect(!plainHTML.contains("recalibrated") && !plainHTML.contains("nearly constant"))
    }

    @Test func readsASiftImpOutputAndSkipsBrokenLevels() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeChain(root: dir.path, control: .none, seed: 4, name: "single")
        try FileManager.default.createDirectory(atPath: dir.file("level-9"), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir.file("level-9/metrics.json")))
        let index = try RunIndex(root: dir.path)
        #expect(index.levels.count == 3)
        #expect(index.problems.count == 1 && index.problems[0].contains("level-9"))
        try ReportWriter(index: index).write()
        #expect(
            try String(contentsOfFile: dir.file("report/index.html"), encoding: .utf8).contains("could not be read"))
        #expect(throws: ReportError.self) { try RunIndex(root: dir.file("level-9")) }
    }

    /// Renders the page in headless Chromium and checks the screenshot is not blank; reported as skipped without Chromium.
    @Test(.enabled(if: HeadlessChromium.path != nil, "chromium is not installed (apt-get install chromium)"))
    func rendersInHeadlessChromium() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeChain(root: dir.path, control: .none, seed: 0, name: "render")
        let folder = try ReportWriter(index: RunIndex(root: dir.path)).write()
        let image = try HeadlessChromium.screenshot(
            "\(folder)/index.html", to: dir.file("shot.png"), scratch: dir.file("chromium"))
        #expect(image.width == 1200)
        #expect(image.inkFraction > 0.03, "screenshot looks blank: \(image.inkFraction)")
    }
}
