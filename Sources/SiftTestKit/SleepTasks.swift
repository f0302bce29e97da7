import Foundation
import SiftArtifacts
import SiftCluster
import SiftStore
import SiftConfig
import SiftWire

/// The test-only task kind: sleep for a while and return the task's name. Used by protocol,
/// fault-injection and dispatch-throughput tests, where training would only add noise.
package enum SleepTasks {
    package static let kind = TaskKind(rawValue: "sleep")

    /// `chains` chains of `levels` tasks each, level k needing level k−1, as a sweep's plan would be.
    package static func plan(chains: Int, levels: Int, milliseconds: Int) -> [PlannedTask] {
        (0..<chains).flatMap { chain in
            (0..<levels).map { level in
                PlannedTask(
                    id: "sleep-\(chain)/\(level)", experiment: "sleep-\(chain)", seed: 0, level: level,
                    kind: kind.rawValue,
                    parameters: "{\"ms\":\(milliseconds)}", dependsOn: level > 0 ? ["sleep-\(chain)/\(level - 1)"] : [])
            }
        }
    }

    /// Writes a sleep task's result files to ROOT/sleep/<task>, as a level's are written: a load test's
    /// stand-in for the coordinator's real disk work.
    package static func store(_ task: TaskRecord, attachments: [[UInt8]], root: String) throws {
        var files = NamedFiles()
        for (index, bytes) in attachments.enumerated() { files.add("part-\(index)", bytes) }
        try files.write(to: "\(root)/sleep/\(task.id.replacingOccurrences(of: "/", with: "-"))")
    }

    /// Runs a sleep task: its only attachment is the task's name, so digests differ per task.
    package static func run(_ assignment: TaskAssignment) throws -> (summary: String, attachments: [[UInt8]]) {
        struct Parameters: Decodable { var ms: Int }
        let parameters = try JSONDecoder().decode(Parameters.self, from: Data(assignment.parameters.utf8))
        if parameters.ms > 0 { usleep(UInt32(parameters.ms) * 1000) }
        // One line per execution, so fault tests can count how often a task ran.
        FileHandle.standardError.write(Data("executed \(assignment.task) attempt \(assignment.attempt)\n".utf8))
        return ("{\"slept_ms\":\(parameters.ms)}", [Array(assignment.task.utf8)])
    }
}
