import ArgumentParser
import SiftConfig

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect experiment configs.", subcommands: [Keys.self, Show.self])

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every config key with its default and meaning.")
        @Flag(help: "Print a Markdown table.") var markdown = false

        func run() {
            let rows = ConfigKeyReference.all
            if markdown {
                print("| key | default | meaning |\n|---|---|---|")
                for r in rows {
                    print("| `\(r.key)` | \(r.defaultText.replacingOccurrences(of: "|", with: "\\|")) | \(r.help) |")
                }
            } else {
                let width = rows.map(\.key.count).max() ?? 0
                for r in rows {
                    print(
                        r.key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + r.help
                            + "  [default \(r.defaultText)]")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a config or sweep and print each experiment's hash, canonical form and every setting.")
        @Argument(help: "Experiment or sweep config (YAML).") var config: String

        func run() throws {
            let sweep = try SweepConfig.load(path: config)
            for experiment in sweep.experiments {
                print("experiment: \(experiment.shortHash)" + (experiment.name.map { "  (\($0))" } ?? ""))
                print("  hash:      \(experiment.hash)")
                print("  seeds:     \(experiment.seeds.map(String.init).joined(separator: ", "))")
                print("  canonical: \(experiment.canonicalJSON)")
                print("  settings (every key; * where it differs from the default):")
                let width = ConfigKeyReference.all.map(\.key.count).max() ?? 0
                for row in ConfigKeyReference.all {
                    guard let value = experiment.resolved[row.key] else { continue }
                    let mark = experiment.overrides[row.key] == nil ? " " : "*"
                    let meaning = value == .null ? row.unsetMeans.map { "  (unset: \($0))" } ?? "" : ""
                    print(
                        "    \(mark) \(row.key.padding(toLength: width, withPad: " ", startingAt: 0))  \(value.canonicalJSON)\(meaning)"
                    )
                }
            }
        }
    }
}
