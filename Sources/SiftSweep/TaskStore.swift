import Foundation
import GRDB

/// Where a task stands. `blocked` waits for its dependencies; `skipped` depends on a task that failed for good.
public enum TaskState: String, Codable, CaseIterable, Sendable {
    case blocked, queued, leased, done, failed, skipped
}

/// A task to enter into the store: one unit of work and the tasks it needs first.
public struct PlannedTask: Sendable, Equatable {
    public var id: String
    public var experiment: String
    public var seed: UInt64
    public var level: Int
    public var kind: String
    public var parameters: String
    public var dependsOn: [String]

    public init(id: String, experiment: String, seed: UInt64, level: Int, kind: String, parameters: String, dependsOn: [String]) {
        self.id = id
        self.experiment = experiment
        self.seed = seed
        self.level = level
        self.kind = kind
        self.parameters = parameters
        self.dependsOn = dependsOn
    }
}

/// A task as the store holds it.
public struct TaskRecord: Sendable, Equatable, FetchableRecord {
    public var id: String
    public var experiment: String
    public var seed: UInt64
    public var level: Int
    public var kind: String
    public var parameters: String
    public var state: TaskState
    /// Leases handed out so far; the current lease's attempt number.
    public var attempts: Int
    public var worker: String?
    public var leaseExpires: Double?
    public var error: String?
    public var digest: String?

    public init(row: Row) throws {
        id = row["id"]
        experiment = row["experiment"]
        seed = UInt64(row["seed"] as Int64)
        level = row["level"]
        kind = row["kind"]
        parameters = row["parameters"]
        state = TaskState(rawValue: row["state"]) ?? .failed
        attempts = row["attempts"]
        worker = row["worker"]
        leaseExpires = row["lease_expires"]
        error = row["error"]
        digest = row["digest"]
    }
}

/// What became of a result handed to the store.
public enum CompletionOutcome: Equatable, Sendable {
    /// First valid result: stored, dependants released.
    case recorded
    /// The task was already done: acknowledge and ignore.
    case duplicate
    /// From a lease that is no longer current (expired and handed on): acknowledge and ignore.
    case stale
    case unknownTask
}

/// The sweep's durable state: SQLite in WAL mode through GRDB. Every change is committed
/// before the caller acts on it, so a coordinator killed at any moment restarts from here.
public final class TaskStore: @unchecked Sendable {
    let database: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // WAL with synchronous=NORMAL: a commit survives the coordinator being killed at any moment
        // (SIGKILL, OOM), though not a power cut in the last instant; it spares an fsync per commit.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE task (
                    id TEXT PRIMARY KEY, experiment TEXT NOT NULL, seed INTEGER NOT NULL, level INTEGER NOT NULL,
                    kind TEXT NOT NULL, parameters TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                    worker TEXT, lease_expires REAL, error TEXT, digest TEXT, summary TEXT, updated REAL NOT NULL);
                CREATE INDEX task_state ON task(state);
                CREATE TABLE dependency (task TEXT NOT NULL REFERENCES task(id), needs TEXT NOT NULL REFERENCES task(id),
                    PRIMARY KEY (task, needs));
                CREATE INDEX dependency_needs ON dependency(needs);
                """)
        }
        migrator.registerMigration("v2-workers") { db in
            try db.execute(sql: """
                CREATE TABLE worker (name TEXT PRIMARY KEY, cores INTEGER NOT NULL, task TEXT, last_seen REAL NOT NULL, alive INTEGER NOT NULL);
                """)
        }
        migrator.registerMigration("v3-queue-order") { db in
            // Leasing takes the first queued task in (level, experiment, seed) order: an index seek, not a sort.
            try db.execute(sql: "CREATE INDEX task_queue ON task(state, level, experiment, seed)")
        }
        return migrator
    }

    /// A worker as the coordinator last saw it.
    public struct WorkerRow: Sendable, Equatable {
        public var name: String
        public var cores: Int
        public var task: String?
        public var lastSeen: Date
        public var alive: Bool

        public init(name: String, cores: Int, task: String?, lastSeen: Date, alive: Bool) {
            self.name = name
            self.cores = cores
            self.task = task
            self.lastSeen = lastSeen
            self.alive = alive
        }
    }

    /// Replaces the worker list (the coordinator writes it about once per heartbeat interval).
    public func recordWorkers(_ workers: [WorkerRow]) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE worker SET alive = 0, task = NULL")
            for w in workers {
                try db.execute(sql: """
                    INSERT INTO worker (name, cores, task, last_seen, alive) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET cores = excluded.cores, task = excluded.task,
                        last_seen = excluded.last_seen, alive = excluded.alive
                    """, arguments: [w.name, w.cores, w.task, w.lastSeen.timeIntervalSince1970, w.alive ? 1 : 0])
            }
        }
    }

    public func workers() throws -> [WorkerRow] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM worker ORDER BY alive DESC, name").map { row in
                WorkerRow(name: row["name"], cores: row["cores"], task: row["task"],
                          lastSeen: Date(timeIntervalSince1970: row["last_seen"]), alive: (row["alive"] as Int) != 0)
            }
        }
    }

    /// Enters tasks not yet in the store (a restart re-adds the same plan harmlessly).
    public func add(_ tasks: [PlannedTask], now: Date = Date()) throws {
        try database.write { db in
            for task in tasks {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO task (id, experiment, seed, level, kind, parameters, state, updated)
                    VALUES (?, ?, ?, ?, ?, ?, 'blocked', ?)
                    """, arguments: [task.id, task.experiment, Int64(task.seed), task.level, task.kind, task.parameters, now.timeIntervalSince1970])
                for needed in task.dependsOn {
                    try db.execute(sql: "INSERT OR IGNORE INTO dependency (task, needs) VALUES (?, ?)", arguments: [task.id, needed])
                }
            }
            try Self.release(db)
        }
    }

    /// Blocked tasks whose dependencies are all done become queued; those with a failed or skipped one
    /// are skipped, down the whole chain of dependants.
    static func release(_ db: Database) throws {
        repeat {
            try db.cachedStatement(sql: """
                UPDATE task SET state = 'skipped', error = 'depends on a task that failed'
                WHERE state = 'blocked' AND EXISTS (SELECT 1 FROM dependency d JOIN task n ON n.id = d.needs
                                                   WHERE d.task = task.id AND n.state IN ('failed', 'skipped'))
                """).execute()
        } while db.changesCount > 0
        try db.cachedStatement(sql: """
            UPDATE task SET state = 'queued'
            WHERE state = 'blocked' AND NOT EXISTS (SELECT 1 FROM dependency d JOIN task n ON n.id = d.needs
                                                   WHERE d.task = task.id AND n.state != 'done')
            """).execute()
    }

    /// Runs `body` in one write transaction: every change in it is committed together, or none is.
    /// The coordinator batches a burst of messages this way, and answers them after the commit.
    public func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try database.write { db in try body(Transaction(db: db)) }
    }

    @discardableResult
    public func leaseNext(worker: String, leaseSeconds: Double, now: Date = Date()) throws -> TaskRecord? {
        try transaction { try $0.leaseNext(worker: worker, leaseSeconds: leaseSeconds, now: now) }
    }

    public func renew(task: String, attempt: Int, leaseSeconds: Double, now: Date = Date()) throws {
        try transaction { try $0.renew(task: task, attempt: attempt, leaseSeconds: leaseSeconds, now: now) }
    }

    public func complete(task: String, attempt: Int, digest: String, summary: String, endsChain: Bool = false,
                         now: Date = Date()) throws -> CompletionOutcome {
        try transaction { try $0.complete(task: task, attempt: attempt, digest: digest, summary: summary, endsChain: endsChain, now: now) }
    }

    @discardableResult
    public func fail(task: String, attempt: Int, error: String, maxAttempts: Int, now: Date = Date()) throws -> TaskState? {
        try transaction { try $0.fail(task: task, attempt: attempt, error: error, maxAttempts: maxAttempts, now: now) }
    }

    /// The task changes of one transaction.
    public struct Transaction {
        let db: Database

        public func task(_ id: String) throws -> TaskRecord? {
            try TaskRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM task WHERE id = ?"), arguments: [id])
        }

        /// Hands the oldest queued task (lowest level first) to `worker`, as attempt `attempts + 1`.
        public func leaseNext(worker: String, leaseSeconds: Double, now: Date = Date()) throws -> TaskRecord? {
            guard let id = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM task WHERE state = 'queued' ORDER BY level, experiment, seed LIMIT 1")) else {
                return nil
            }
            try db.cachedStatement(sql: """
                UPDATE task SET state = 'leased', attempts = attempts + 1, worker = ?, lease_expires = ?, updated = ? WHERE id = ?
                """).execute(arguments: [worker, now.timeIntervalSince1970 + leaseSeconds, now.timeIntervalSince1970, id])
            return try task(id)
        }

        /// Extends a live lease (a heartbeat from the worker running it).
        public func renew(task: String, attempt: Int, leaseSeconds: Double, now: Date = Date()) throws {
            try db.cachedStatement(sql: "UPDATE task SET lease_expires = ? WHERE id = ? AND state = 'leased' AND attempts = ?").execute(arguments: [now.timeIntervalSince1970 + leaseSeconds, task, attempt])
        }

        /// Records a result if it answers the current lease; anything else is a duplicate or stale.
        /// `endsChain` marks the rest of the task's chain (same experiment and seed, later levels) as not needed.
        public func complete(task: String, attempt: Int, digest: String, summary: String, endsChain: Bool = false,
                             now: Date = Date()) throws -> CompletionOutcome {
            guard let record = try self.task(task) else { return .unknownTask }
            if record.state == .done { return .duplicate }
            guard record.state == .leased, record.attempts == attempt else { return .stale }
            try db.cachedStatement(sql: """
                UPDATE task SET state = 'done', digest = ?, summary = ?, worker = NULL, lease_expires = NULL, error = NULL, updated = ?
                WHERE id = ?
                """).execute(arguments: [digest, summary, now.timeIntervalSince1970, task])
            if endsChain {
                try db.cachedStatement(sql: """
                    UPDATE task SET state = 'skipped', error = ?
                    WHERE experiment = ? AND seed = ? AND level > ? AND state IN ('blocked', 'queued')
                    """).execute(arguments: ["not needed: the chain ended at \(task)", record.experiment, Int64(record.seed), record.level])
            }
            try TaskStore.release(db)
            return .recorded
        }

        /// A failed attempt: back to the queue, or failed for good after `maxAttempts`. Returns the new state.
        @discardableResult
        public func fail(task: String, attempt: Int, error: String, maxAttempts: Int, now: Date = Date()) throws -> TaskState? {
            guard let record = try self.task(task),
                  record.state == .leased, record.attempts == attempt else { return nil }
            let state: TaskState = record.attempts >= maxAttempts ? .failed : .queued
            try db.cachedStatement(sql: "UPDATE task SET state = ?, error = ?, worker = NULL, lease_expires = NULL, updated = ? WHERE id = ?").execute(arguments: [state.rawValue, error, now.timeIntervalSince1970, task])
            try TaskStore.release(db)
            return state
        }
    }

    /// Leases whose worker fell silent count as failed attempts. Returns the tasks concerned.
    public func expireLeases(maxAttempts: Int, now: Date = Date()) throws -> [String] {
        let expired = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, attempts, worker FROM task WHERE state = 'leased' AND lease_expires < ?",
                             arguments: [now.timeIntervalSince1970])
        }
        for row in expired {
            let worker: String? = row["worker"]
            try fail(task: row["id"], attempt: row["attempts"], error: "lease expired: worker \(worker ?? "?") fell silent",
                     maxAttempts: maxAttempts, now: now)
        }
        return expired.map { $0["id"] }
    }

    /// On a coordinator restart no lease is live: every leased task returns to the queue, attempt kept.
    @discardableResult
    public func releaseAllLeases(now: Date = Date()) throws -> Int {
        try database.write { db in
            try db.execute(sql: "UPDATE task SET state = 'queued', worker = NULL, lease_expires = NULL, updated = ? WHERE state = 'leased'",
                           arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func counts() throws -> [TaskState: Int] {
        try database.read { db in
            var counts: [TaskState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM task GROUP BY state") {
                if let state = TaskState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Nothing left to run or wait for.
    public func isFinished() throws -> Bool {
        try database.read { db in
            try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM task WHERE state IN ('queued', 'leased', 'blocked'))")!
        }
    }

    public func task(_ id: String) throws -> TaskRecord? {
        try database.read { db in try TaskRecord.fetchOne(db, sql: "SELECT * FROM task WHERE id = ?", arguments: [id]) }
    }

    public func tasks(in state: TaskState) throws -> [TaskRecord] {
        try database.read { db in try TaskRecord.fetchAll(db, sql: "SELECT * FROM task WHERE state = ? ORDER BY id", arguments: [state.rawValue]) }
    }
}
