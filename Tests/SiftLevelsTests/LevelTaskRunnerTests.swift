import Foundation
import SiftCluster
import SiftLevels
import SiftConfig
import SiftWire
import Testing

/// The worker's side of a level task: it runs exactly the settings it is sent, or fails the task.
@Suite struct LevelTaskRunnerTests {
    func assignment(settings: String) throws -> TaskAssignment {
        let parameters: [String: Any] = [
            "settings": settings, "experiment": "0123456789abcdef", "streamRoot": 7, "seed": 0,
            "level": 0, "isLast": false, "files": [String](),
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: parameters), as: UTF8.self)
        return TaskAssignment(
            task: "0123456789abcdef/seed-0/level-0", attempt: 1, lease: "t", kind: LevelTasks.kind, parameters: json)
    }

    @Test func aTaskWithoutANeededKeyFailsAsTheTasksOwnFault() throws {
        let settings = try ExperimentConfig.parse(yaml: "model: { arch: 784-16-10 }\n", file: "x.yaml").resolvedJSON
        for broken in [
            settings.replacingOccurrences(of: "\"train.batch\":128,", with: ""),
            settings.replacingOccurrences(of: "{", with: "{\"model.dropout\":0.5,"),
        ] {
            #expect(broken != settings)
            #expect {
                _ = try LevelTaskRunner().run(try assignment(settings: broken), attachments: [])
            } throws: { error in
                // Not a host failure: another worker of this build would fail it the same way.
                (error as? AttributedError) == nil && "\(error)".hasPrefix("task 0123456789abcdef/seed-0/level-0: ")
                    && ("\(error)".contains("train.batch: missing")
                        || "\(error)".contains("model.dropout: unknown setting"))
            }
        }
    }
}
