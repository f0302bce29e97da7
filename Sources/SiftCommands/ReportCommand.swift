import Foundation
import ArgumentParser
import SiftReport
import SiftStore
import SiftConfig

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise every level of every chain under DIR into DIR/report/.",
        discussion: """
            Reads `sift imp` outputs (DIR/level-<k>/) and sweeps (DIR/experiments/<hash>/seed-<s>/level-<k>/). \
            Writes summary.csv (one row per experiment, seed and level), summary.json (means, 95 % intervals \
            and Welch comparisons at matched levels) and index.html (self-contained: open it in any browser). \
            A sweep still running gets a page marked partial, with the time and the levels done and pending; \
            `sift run` and `sift coordinator` rewrite it themselves every --report-every seconds.
            """)

    @Argument(help: "Folder holding the runs.") var directory: String
    @Option(parsing: .upToNextOption, help: "Levels whose unit mosaics are drawn (default: middle and last).")
    var mosaicLevels: [Int] = []
    @Option(help: "Folder to write the report into (default: DIR/report; give another for runs on a read-only disk).")
    var out: String?

    func run() throws {
        let storePath = "\(directory)/sweep.sqlite"
        let store =
            FileManager.default.fileExists(atPath: storePath) ? try TaskStore(path: storePath, readingOnly: true) : nil
        let (folder, index, completeness) = try SweepReport.write(
            root: directory, store: store,
            mosaicLevels: mosaicLevels.isEmpty ? nil : mosaicLevels, to: out)
        for problem in index.problems { FileHandle.standardError.write(Data("warning: skipped \(problem)\n".utf8)) }
        var line =
            "report: \(folder)/index.html (\(index.levels.count) levels of \(Set(index.levels.map(\.experiment)).count) experiment(s))"
        if let completeness, completeness.isPartial {
            line +=
                "; partial: the sweep is still running (\(completeness.running) running, \(completeness.waiting) waiting)"
        }
        print(line)
    }
}
