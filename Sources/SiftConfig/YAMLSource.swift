import Foundation
import Yams

/// Reading YAML files into Yams nodes, with errors that name the file.
enum YAMLSource {
    /// The largest config or sweep file read: a real one is a few kB, and YAML's parser takes seconds and
    /// gigabytes on tens of megabytes.
    static let maximumBytes = 1 << 20

    static func read(_ path: String) throws -> String {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maximumBytes {
            throw ConfigError(
                file: path,
                message:
                    "is \(size) bytes, more than the limit of \(maximumBytes) bytes (1 MiB) for a config or sweep file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(
                file: path,
                message: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        guard data.count <= maximumBytes else {
            throw ConfigError(
                file: path,
                message: "is more than the limit of \(maximumBytes) bytes (1 MiB) for a config or sweep file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "the file is not UTF-8 text")
        }
        return text
    }

    static func compose(_ yaml: String, file: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(yaml: error, file: file)
        }
    }
}

extension ConfigError {
    init(yaml error: YamlError, file: String) {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            self.init(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            self.init(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "key \(duplicates.joined(separator: ", ")) appears twice in one mapping")
        default:
            self.init(file: file, message: "YAML syntax: \(error)")
        }
    }
}
