/// Channels, height and width of one image; inputs are flattened channel-major, row-major (science §2).
public struct ImageShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var size: Int { channels * height * width }
    public var description: String { "\(channels)x\(height)x\(width)" }

    /// Parses "CxHxW" or "HxW".
    public init?(parsing text: String) {
        let parts = text.split(separator: "x").compactMap { Int($0) }
        guard parts.count == text.split(separator: "x").count, parts.allSatisfy({ $0 > 0 }) else { return nil }
        switch parts.count {
        case 2: self.init(channels: 1, height: parts[0], width: parts[1])
        case 3: self.init(channels: parts[0], height: parts[1], width: parts[2])
        default: return nil
        }
    }
}
