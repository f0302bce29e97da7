import ArgumentParser

/// The `sift` command line; the `sift` executable only runs it.
package struct SiftCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "sift",
        abstract: "Does iterative magnitude pruning turn a fully connected network into a convolutional one?",
        discussion: """
            Sift trains fully connected networks, prunes them level by level (IMP), and measures whether the \
            surviving first-layer connections become local in the image.
            """,
        subcommands: [
            RunCommand.self, StatusCommand.self, ImpCommand.self, ReportCommand.self, CoordinatorCommand.self,
            WorkerCommand.self, KeygenCommand.self, MetricsCommand.self, ConfigCommand.self, BenchCommand.self,
        ])
}
