/// A problem in a config file, located by file, line, column and key.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var key: String?
    public var message: String

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): " + (key.map { "\($0): " } ?? "") + message
    }
}
