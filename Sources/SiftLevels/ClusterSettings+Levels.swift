import SiftCluster

extension ClusterSettings {
    /// Limits messages to what the largest result of `tasks` needs.
    package mutating func limitMessages(to tasks: LevelTasks) {
        maximumFrameBytes = tasks.maximumFrameBytes
        maximumMessageBytes = tasks.maximumMessageBytes
    }
}
