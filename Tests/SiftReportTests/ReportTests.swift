import Foundation
import SiftArtifacts
import SiftFiles
import SiftReport
import SiftTestKit
import Testing

/// `sift report` over level folders as the engine writes them (`Fixtures/`, read-only: each test reads a copy),
/// in both the `sift imp` and the sweep layout.
@Suite(.serialized) struct ReportTests {
    /// A copy of the fixture `name` in a fresh temporary folder (the report writes into the folder it reads).
    static func fixture(_ name: String) throws -> TemporaryDirectory {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let dir = try TemporaryDirectory()
        try FileManager.default.removeItem(atPath: dir.path)
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(name).path, toPath: dir.path)
        return dir
    }

    @Test func summarisesASweepLayout() throws {
        let dir = try Self.fixture("sweep")
        defer { dir.remove() }
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
        let dir = try Self.fixture("batch-norm")
        defer { dir.remove() }
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

        let plain = try Self.fixture("plain")
        defer { plain.remove() }
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
        let dir = try Self.fixture("plain")
        defer { dir.remove() }
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
        let dir = try Self.fixture("plain")
        defer { dir.remove() }
        let folder = try ReportWriter(index: RunIndex(root: dir.path)).write()
        let image = try HeadlessChromium.screenshot(
            "\(folder)/index.html", to: dir.file("shot.png"), scratch: dir.file("chromium"))
        #expect(image.width == 1200)
        #expect(image.inkFraction > 0.03, "screenshot looks blank: \(image.inkFraction)")
    }
}
