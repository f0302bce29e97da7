import ArgumentParser
import Foundation
import SiftReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise every level of every chain under DIR into DIR/report/.",
        discussion: """
        Reads `sift imp` outputs (DIR/level-<k>/) and sweeps (DIR/experiments/<hash>/seed-<s>/level-<k>/). \
        Writes summary.csv (one row per experiment, seed and level), summary.json (means, 95 % intervals \
        and Welch comparisons at matched levels) and index.html (self-contained: open it in any browser).
        """)

    @Argument(help: "Folder holding the runs.") var directory: String
    @Option(parsing: .upToNextOption, help: "Levels whose unit mosaics are drawn (default: middle and last).") var mosaicLevels: [Int] = []

    func run() throws {
        let index = try RunIndex(root: directory)
        let folder = try ReportWriter(index: index, mosaicLevels: mosaicLevels.isEmpty ? nil : mosaicLevels).write()
        for problem in index.problems { FileHandle.standardError.write(Data("warning: skipped \(problem)\n".utf8)) }
        print("report: \(folder)/index.html (\(index.levels.count) levels of \(Set(index.levels.map(\.experiment)).count) experiment(s))")
    }
}
