/// A problem in a config file, located by file, line, column and key.
package struct ConfigError: Error, CustomStringConvertible, Equatable {
    package var file: String
    package var line: Int?
    package var column: Int?
    package var key: String?
    package var message: String

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    package var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): " + (key.map { "\($0): " } ?? "") + message
    }
}
