import Foundation
import SiftStore

/// A sweep folder taken by one coordinator (`sift run` or `sift coordinator`): created, its lock held, its
/// store opened and the plan admitted (another sweep or build refused unless `resume` allows it), and the
/// failed levels re-queued when asked. Keep the value alive as long as the coordinator runs: it holds the lock.
struct SweepFolder {
    let lock: StoreLock
    let store: TaskStore
    let storePath: String

    /// `subfolders` are made inside `root` as well (the local workers' logs, say).
    init(
        root: String, subfolders: [String] = [], plan: [PlannedTask], provenance: Provenance, resume: ResumeOptions
    ) throws {
        for folder in [root] + subfolders.map({ "\(root)/\($0)" }) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        lock = try StoreLock(directory: root)
        storePath = "\(root)/sweep.sqlite"
        store = try TaskStore(path: storePath)
        try store.admit(
            plan, provenance: provenance, store: storePath, extending: resume.extend,
            allowingOtherBuild: resume.allowOtherBuild)
        if resume.retryFailed {
            say("retrying: \(try store.retryFailed()) failed or skipped level(s) back in line")
        }
    }
}
