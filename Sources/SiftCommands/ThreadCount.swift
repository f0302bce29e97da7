import ArgumentParser
import SiftCluster

/// A worker's `--threads`: a fixed count, or `auto`, its share of the node's cores among the workers that
/// are running a level (`NodeCores`), recounted while it runs. The bytes are the same either way.
enum ThreadCount: ExpressibleByArgument, Equatable, CustomStringConvertible {
    case fixed(Int)
    case auto

    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let count = Int(argument) else { return nil }
        self = .fixed(count)
    }

    var description: String {
        switch self {
        case .fixed(let count): String(count)
        case .auto: "auto"
        }
    }

    var defaultValueDescription: String { description }

    func validate() throws {
        if case .fixed(let count) = self { try OptionBounds.check(count, in: OptionBounds.threads, "--threads") }
    }
}
