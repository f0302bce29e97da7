import Foundation
import SiftCluster
import SiftLevels
import SiftConfig
import SiftFiles
import SiftStore
import SiftTestKit
import SiftWire
import Testing

/// What the coordinator accepts as a level's result: only the files a level of its kind writes, the rewind
/// point from level 0 alone, and numbers where the next level reads numbers. Each check runs on a real
/// level trained by `LevelTaskRunner`, then altered as a leased peer could alter it.
@Suite struct LevelResultTests {
    /// A one-chain sweep with its store, whose levels are trained here one at a time.
    struct Chain {
        let dir: TemporaryDirectory
        let tasks: LevelTasks
        let store: TaskStore

        init() throws {
            dir = try TemporaryDirectory()
            try SyntheticImages.writeArrays(in: dir, train: 96, test: 32)
            let yaml = """
                seeds: [0]
                data: {dataset: arrays, path: \(dir.file("train.npz")), test_path: \(dir.file("test.npz"))}
                model: {arch: 16-8-2}
                train: {epochs: 1, batch: 32}
                pruning: {preset: lth, max_levels: 3}
                """
            let sweep = try SweepConfig.load(path: try dir.write(Array(yaml.utf8), to: "chain.yaml"))
            tasks = LevelTasks(sweep: sweep, layout: SweepLayout(root: dir.file("out")))
            store = try TaskStore(path: dir.file("sweep.sqlite"))
            try store.add(try tasks.plan())
        }

        /// Leases the next level and trains it: the task and the files an honest worker sends.
        func train() throws -> (task: TaskRecord, names: [String], files: [[UInt8]]) {
            let task = try #require(try store.leaseNext(to: LeaseHolder(worker: "w:1", token: "t"), leaseSeconds: 60))
            let prepared = try tasks.prepare(task)
            let assignment = TaskAssignment(
                task: task.id, attempt: task.attempts, lease: "t", kind: TaskKind(rawValue: task.kind),
                parameters: prepared.parameters)
            let (summary, files) = try LevelTaskRunner().run(assignment, attachments: prepared.attachments)
            return (task, try JSONDecoder().decode([String].self, from: Data(summary.utf8)), files)
        }

        /// Stores a result as the coordinator would, and records it.
        func store(_ task: TaskRecord, names: [String], files: [[UInt8]]) throws {
            let summary = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
            let result = TaskResult(
                task: task.id, attempt: task.attempts, lease: "t", digest: TaskDigest.of(files), summary: summary)
            _ = try tasks.store(task, result: result, attachments: files)
            _ = try store.complete(
                task: task.id, attempt: task.attempts, from: LeaseHolder(worker: "w:1", token: "t"),
                digest: result.digest, summary: summary)
        }

        func rejection(_ task: TaskRecord, names: [String], files: [[UInt8]]) -> String {
            do {
                try store(task, names: names, files: files)
                return "accepted"
            } catch let rejected as RejectedResult {
                return rejected.description
            } catch {
                return "not a RejectedResult: \(error)"
            }
        }

        var experiments: String { dir.file("out/experiments") }
    }

    func rewindFiles(under root: String) throws -> [String: Data] {
        let paths =
            FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter {
                $0.contains("/rewind/")
            } ?? []
        return Dictionary(
            uniqueKeysWithValues: try paths.map { ($0, try Data(contentsOf: URL(fileURLWithPath: "\(root)/\($0)"))) })
    }

    @Test func onlyLevelZeroMayWriteTheRewindPoint() throws {
        let chain = try Chain()
        defer { chain.dir.remove() }
        let level0 = try chain.train()
        #expect(level0.names.contains("rewind-weights-0.npy"))
        try chain.store(level0.task, names: level0.names, files: level0.files)
        let rewind = try rewindFiles(under: chain.experiments)
        #expect(rewind.count == 4, "\(rewind.keys)")

        // Level 1's true files plus a whole forged rewind point (level 0's, every weight 0.5), as a leased peer sent them.
        let level1 = try chain.train()
        var forgedNames: [String] = [], forgedFiles: [[UInt8]] = []
        for (name, bytes) in zip(level0.names, level0.files) where name.hasPrefix("rewind-") {
            let array = try NumpyArray.parse(bytes, path: name)
            forgedNames.append(name)
            forgedFiles.append(
                name.hasPrefix("rewind-weights-")
                    ? NumpyArray(float32: [Float](repeating: 0.5, count: array.count), shape: array.shape).encoded()
                    : bytes)
        }
        let text = chain.rejection(level1.task, names: level1.names + forgedNames, files: level1.files + forgedFiles)
        #expect(
            text.contains("carries a file named 'rewind-weights-0.npy': only level 0 makes the rewind point"), "\(text)"
        )
        #expect(try rewindFiles(under: chain.experiments) == rewind, "the rewind point is untouched")
        #expect(chain.rejection(level1.task, names: level1.names, files: level1.files) == "accepted")
    }

    @Test func aResultCarriesExactlyALevelsFiles() throws {
        let chain = try Chain()
        defer { chain.dir.remove() }
        let level0 = try chain.train()
        let extra = chain.rejection(level0.task, names: level0.names + ["notes.txt"], files: level0.files + [[1]])
        #expect(extra.contains("carries a file named 'notes.txt': no level of 16-8-2 writes it"), "\(extra)")
        let index = try #require(level0.names.firstIndex(of: "sc_map.npy"))
        var names = level0.names, files = level0.files
        names.remove(at: index)
        files.remove(at: index)
        #expect(chain.rejection(level0.task, names: names, files: files).contains("lacks sc_map.npy"))
        let twice = chain.rejection(
            level0.task, names: level0.names + ["bias-0.npy"], files: level0.files + [level0.files[0]])
        #expect(twice.contains("carries bias-0.npy twice"), "\(twice)")
        let noRewind = level0.names.indices.filter { !level0.names[$0].hasPrefix("rewind-") }
        let withoutRewind = chain.rejection(
            level0.task, names: noRewind.map { level0.names[$0] }, files: noRewind.map { level0.files[$0] })
        #expect(withoutRewind.contains("carries no rewind point"), "\(withoutRewind)")
    }

    /// A level whose input level was deleted after it was recorded names that level as lost, so the
    /// coordinator computes it again instead of failing the level that needed it; a rerun finds it too.
    @Test func aDeletedLevelIsFoundLostNotBlamedOnAWorker() throws {
        let chain = try Chain()
        defer { chain.dir.remove() }
        let level0 = try chain.train()
        try chain.store(level0.task, names: level0.names, files: level0.files)
        let chainFolder = try #require(
            FileManager.default.enumerator(atPath: chain.experiments)?.compactMap { $0 as? String }
                .first { $0.hasSuffix("/level-0") })
        try FileManager.default.removeItem(atPath: "\(chain.experiments)/\(chainFolder)")
        let level1 = try #require(
            try chain.store.leaseNext(to: LeaseHolder(worker: "w:1", token: "t"), leaseSeconds: 60))
        #expect {
            _ = try chain.tasks.prepare(level1)
        } throws: { error in
            (error as? LostLevel)?.task == level0.task.id
        }
        let finished = try chain.store.finishedTasks()
        #expect(finished.map(\.id) == [level0.task.id])
        #expect(chain.tasks.lostFiles(of: finished[0])?.hasSuffix("/level-0 is missing") == true)
        var notes: [String] = []
        try chain.tasks.recomputeLostLevels(in: chain.store) { notes.append($0) }
        #expect(
            notes.last
                == "1 finished level(s) found missing on disk; 1 level(s) sent back to the queue, the levels after them included"
        )
        #expect(try chain.store.task(level0.task.id)?.state == .queued)
    }

    @Test func weightsThatAreNotNumbersAreRefusedUnlessTheLevelDiverged() throws {
        let chain = try Chain()
        defer { chain.dir.remove() }
        let level0 = try chain.train()
        try chain.store(level0.task, names: level0.names, files: level0.files)
        let level1 = try chain.train()
        var files = level1.files
        let index = try #require(level1.names.firstIndex(of: "weights-0.npy"))
        files[index] = NumpyArray(float32: [Float](repeating: .nan, count: 16 * 8), shape: [16, 8]).encoded()
        let text = chain.rejection(level1.task, names: level1.names, files: files)
        #expect(text.contains("holds NaN or infinity in weights-0.npy but does not say it diverged"), "\(text)")
    }
}
