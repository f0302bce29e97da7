/// What kind of work a task is: the coordinator names it in each task, and a worker runs it with the executor it
/// has for that kind. The wire carries its name as text, so a worker meeting a kind it lacks can say so.
/// A struct over the name rather than an enum, so that the test bed adds its own kind without the shipped
/// code knowing it.
package struct TaskKind: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    package var rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }

    package init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    package var description: String { rawValue }

    /// An IMP level: trained on the engine from its masks and start state (SiftLevels).
    package static let level = TaskKind(rawValue: "level")
}
