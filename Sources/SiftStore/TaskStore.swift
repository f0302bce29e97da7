import Foundation
import GRDB

/// The sweep's durable state: SQLite in WAL mode through GRDB. Every change is committed
/// before the caller acts on it, so a coordinator killed at any moment restarts from here.
package final class TaskStore: Sendable {
    let database: any DatabaseWriter

    /// Opens (creating if need be) the store at `path` for a coordinator, migrating it to this build's schema.
    /// `readingOnly` opens it as `sift status` and `sift report` need it, even on a read-only disk: no
    /// migration, no lock file, no write; SQLite then reads the committed state as it stands (`immutable`).
    package init(path: String, readingOnly: Bool = false) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        if readingOnly {
            configuration.readonly = true
            do {
                // A folder we cannot write to has no room for SQLite's shared-memory file: read it as immutable.
                let immutable =
                    access(
                        (path as NSString).deletingLastPathComponent.isEmpty
                            ? "." : (path as NSString).deletingLastPathComponent, W_OK) != 0
                database = try DatabaseQueue(
                    path: immutable ? "file:\(path)?immutable=1" : path, configuration: configuration)
            } catch let error as DatabaseError {
                throw Failed(path: path, action: "open", reason: Self.reason(error))
            }
            try checkIntegrity(path: path)
            return
        }
        // WAL with synchronous=NORMAL: a commit survives the coordinator being killed at any moment
        // (SIGKILL, OOM), though not a power cut in the last instant; it spares an fsync per commit.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        // Two processes opening a new store at once (a coordinator and `sift status`, say) must not both
        // create its tables: migrations run under an exclusive lock of a file beside the store. (Not the
        // store itself: closing another descriptor of it would drop SQLite's own POSIX locks.)
        let guardFile = open(path + ".migrate-lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if guardFile >= 0 { flock(guardFile, LOCK_EX) }
        defer { if guardFile >= 0 { flock(guardFile, LOCK_UN); close(guardFile) } }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch let error as DatabaseError {
            throw Failed(path: path, action: "open", reason: Self.reason(error))
        }
        try checkIntegrity(path: path)
    }

    /// A SQLite error, with the store's file and what was being done: a full disk, a corrupt page, a
    /// locked or unreadable file.
    package struct Failed: Error, CustomStringConvertible {
        package var path: String
        package var action: String
        package var reason: String
        package var description: String { "cannot \(action) the store \(path): \(reason)" }
    }

    static func reason(_ error: DatabaseError) -> String {
        "\(error.message ?? "SQLite error") (SQLite code \(error.resultCode.rawValue))"
    }

    /// Every read goes through here, so that an error names the store.
    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch let error as DatabaseError {
            throw Failed(path: database.path, action: "read", reason: Self.reason(error))
        }
    }

    /// Every write goes through here, so that a full disk reads as one, naming the store.
    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw Failed(
                path: database.path, action: "write",
                reason: "No space left on device (SQLite: \(error.message ?? "database or disk is full"))")
        } catch let error as DatabaseError {
            throw Failed(path: database.path, action: "write", reason: Self.reason(error))
        }
    }

    /// A damaged store, found when it is opened: better refused than read as other states.
    package struct Damaged: Error, CustomStringConvertible {
        package var path: String
        package var problems: [String]
        package var description: String {
            "\(path) is damaged: " + problems.prefix(5).joined(separator: "; ")
                + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
                + ". Keep a copy, then restore the file or start the sweep in a new folder (its finished levels are in experiments/)"
        }
    }

    /// SQLite's own check of pages and indexes, then every task row's state and counters.
    private func checkIntegrity(path: String) throws {
        let states = TaskState.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let problems: [String] = try read { db in
            // integrity_check, not quick_check: a flipped byte in a row's key leaves every page well formed
            // and only disagrees with the row's index entry. It costs 0.8 s at 300,000 tasks (measured here).
            let pages = try String.fetchAll(db, sql: "PRAGMA integrity_check(20)").filter { $0 != "ok" }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, state, attempts, host_failures, lost_leases FROM task
                    WHERE state NOT IN (\(states)) OR attempts < 0 OR host_failures < 0 OR lost_leases < 0
                       OR (state = 'leased' AND attempts < 1)
                    """
            ).map { row -> String in
                let id: String = row["id"], state: String = row["state"]
                return "task \(id) has state '\(state)', attempts \(row["attempts"] as Int? ?? -1)"
            }
            return pages + rows
        }
        guard problems.isEmpty else { throw Damaged(path: path, problems: problems) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
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
            try db.execute(
                sql: """
                    CREATE TABLE worker (name TEXT PRIMARY KEY, cores INTEGER NOT NULL, task TEXT, last_seen REAL NOT NULL, alive INTEGER NOT NULL);
                    """)
        }
        migrator.registerMigration("v3-queue-order") { db in
            // Leasing takes the first queued task in (level, experiment, seed) order: an index seek, not a sort.
            try db.execute(sql: "CREATE INDEX task_queue ON task(state, level, experiment, seed)")
        }
        migrator.registerMigration("v4-failure-policy") { db in
            // Each failure kind has its own budget; every lease and every failure is kept, with its worker,
            // so a late result can be matched to the lease it answers and a failure names its host.
            try db.execute(
                sql: """
                    ALTER TABLE task ADD COLUMN host_failures INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE task ADD COLUMN lost_leases INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE lease (task TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL, started REAL NOT NULL,
                        PRIMARY KEY (task, attempt));
                    CREATE TABLE failure (task TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT, cause TEXT NOT NULL,
                        error TEXT NOT NULL, at REAL NOT NULL);
                    CREATE INDEX failure_task ON failure(task);
                    CREATE INDEX failure_worker ON failure(worker, cause);
                    ALTER TABLE worker ADD COLUMN note TEXT;
                    UPDATE task SET state = 'unneeded' WHERE state = 'skipped' AND error LIKE 'not needed%';
                    """)
        }
        migrator.registerMigration("v5-provenance") { db in
            // A lease is bound to its token and, under CURVE, to its worker's key; every result keeps the build
            // that made it; the store keeps the sweep file's digest and the build that last ran it.
            try db.execute(
                sql: """
                    ALTER TABLE lease ADD COLUMN token TEXT;
                    ALTER TABLE lease ADD COLUMN key TEXT;
                    ALTER TABLE task ADD COLUMN build TEXT;
                    CREATE TABLE provenance (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v6-progress") { db in
            // The latest progress a leased task's worker reported (JSON), and when it arrived.
            try db.execute(
                sql: """
                    ALTER TABLE task ADD COLUMN progress TEXT;
                    ALTER TABLE task ADD COLUMN progress_at REAL;
                    """)
        }
        migrator.registerMigration("v7-worker-trouble") { db in
            // Each worker's failures in a row and set-aside term, so that a restarted coordinator does not
            // hand a set-aside worker the tasks it keeps failing.
            try db.execute(
                sql: """
                    CREATE TABLE trouble (worker TEXT PRIMARY KEY, failures_in_a_row INTEGER NOT NULL,
                        times_set_aside INTEGER NOT NULL, set_aside_until REAL, last_error TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v8-failure-host") { db in
            // The host each failure happened on: a task's own failure, as one host reports it, stands only
            // once a second host agrees, and the task is leased elsewhere meanwhile.
            try db.execute(
                sql: """
                    ALTER TABLE failure ADD COLUMN host TEXT;
                    CREATE INDEX failure_host ON failure(host, cause);
                    """)
        }
        migrator.registerMigration("v9-recoveries") { db in
            // Finished levels whose files were found missing or unreadable, and sent back to be computed again.
            try db.execute(sql: "CREATE TABLE recovery (task TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL)")
        }
        return migrator
    }

    /// The host of a worker named `host:pid`, as the coordinator names its workers.
    package static func host(ofWorker name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[..<colon])
    }

    /// A worker as the coordinator last saw it.
    package struct WorkerRow: Sendable, Equatable {
        package var name: String
        package var cores: Int
        package var task: String?
        package var lastSeen: Date
        package var alive: Bool
        /// Why the coordinator gives this worker no task for now (set aside after host failures).
        package var note: String?

        // Memberwise, and package-wide: Swift synthesizes only an internal one.
        package init(name: String, cores: Int, task: String?, lastSeen: Date, alive: Bool, note: String? = nil) {
            self.name = name
            self.cores = cores
            self.task = task
            self.lastSeen = lastSeen
            self.alive = alive
            self.note = note
        }
    }

    /// Replaces the worker list (the coordinator writes it about once per heartbeat interval).
    package func recordWorkers(_ workers: [WorkerRow]) throws {
        try write { db in
            try db.execute(sql: "UPDATE worker SET alive = 0, task = NULL")
            for w in workers {
                try db.execute(
                    sql: """
                        INSERT INTO worker (name, cores, task, last_seen, alive, note) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT(name) DO UPDATE SET cores = excluded.cores, task = excluded.task,
                            last_seen = excluded.last_seen, alive = excluded.alive, note = excluded.note
                        """,
                    arguments: [w.name, w.cores, w.task, w.lastSeen.timeIntervalSince1970, w.alive ? 1 : 0, w.note])
            }
        }
    }

    package func workers() throws -> [WorkerRow] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM worker ORDER BY alive DESC, name").map { row in
                WorkerRow(
                    name: row["name"], cores: row["cores"], task: row["task"],
                    lastSeen: Date(timeIntervalSince1970: row["last_seen"]), alive: (row["alive"] as Int) != 0,
                    note: row["note"])
            }
        }
    }

    /// Every worker's record of trouble, by worker name.
    package func troubles() throws -> [String: WorkerTrouble] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM trouble")
            return Dictionary(
                rows.map { row in
                    let until: Double? = row["set_aside_until"]
                    return (
                        row["worker"] as String,
                        WorkerTrouble(
                            failuresInARow: row["failures_in_a_row"], timesSetAside: row["times_set_aside"],
                            setAsideUntil: until.map(Date.init(timeIntervalSince1970:)), lastError: row["last_error"])
                    )
                }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// A sweep file that is not the one the store was made with.
    package struct SweepMismatch: Error, CustomStringConvertible {
        package var store: String
        package var sweep: String
        package var missing: [String]
        package var added: [String]
        package var description: String {
            var text = "\(sweep) is not the sweep \(store) was made with:"
            if !missing.isEmpty {
                text +=
                    " the store holds \(missing.count) experiment(s) it does not define (\(missing.prefix(3).joined(separator: ", ")))"
            }
            if !added.isEmpty {
                text +=
                    (missing.isEmpty ? "" : ";")
                    + " it defines \(added.count) experiment(s) the store does not hold (\(added.prefix(3).joined(separator: ", ")))"
            }
            text += ". Nothing was written. Use the sweep file this folder was made with, or another --out"
            if missing.isEmpty { text += "; to add the new experiments to this sweep, pass --extend" }
            return text
        }
    }

    /// A binary of another build than the one that ran the store: its results could differ byte for byte.
    package struct BuildMismatch: Error, CustomStringConvertible {
        package var store: String
        package var recorded: String
        package var running: String
        package var description: String {
            "\(store) was run by build \(recorded); this binary is build \(running). Levels of two builds may differ, "
                + "so nothing was written. Run the sweep with the build that started it, or pass --allow-other-build "
                + "to go on with this one (every level records the build that made it)"
        }
    }

    /// The build that last ran this store and the sweep file it was made from, if recorded.
    package func provenance() throws -> Provenance? {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, value FROM provenance")
            let values = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["value"] as String) })
            guard let file = values["sweep_file"], let digest = values["sweep_digest"], let build = values["build"]
            else { return nil }
            return Provenance(sweepFile: file, sweepDigest: digest, build: build)
        }
    }

    /// Enters a sweep's plan: into a new store, or again into the store it made (a restart adds nothing).
    /// A plan with other experiments than the store's is refused before anything is written, unless
    /// `extending` and it keeps every experiment the store holds: then only its new tasks are added.
    /// So is a build other than the one that last ran the store, unless `allowingOtherBuild`.
    package func admit(
        _ tasks: [PlannedTask], provenance: Provenance, store path: String, extending: Bool,
        allowingOtherBuild: Bool = false, now: Date = Date()
    ) throws {
        let held = Set(try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT experiment FROM task") })
        let planned = Set(tasks.map(\.experiment))
        if !held.isEmpty && held != planned {
            let missing = held.subtracting(planned).sorted(), added = planned.subtracting(held).sorted()
            guard extending && missing.isEmpty else {
                throw SweepMismatch(store: path, sweep: provenance.sweepFile, missing: missing, added: added)
            }
        }
        if let recorded = try self.provenance()?.build, recorded != provenance.build, !allowingOtherBuild {
            throw BuildMismatch(store: path, recorded: recorded, running: provenance.build)
        }
        try write { db in
            for (name, value) in [
                ("sweep_file", provenance.sweepFile), ("sweep_digest", provenance.sweepDigest),
                ("build", provenance.build),
            ] {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO provenance (name, value) VALUES (?, ?)", arguments: [name, value])
            }
        }
        try add(tasks, now: now)
    }

    /// Enters tasks not yet in the store (a restart re-adds the same plan harmlessly).
    package func add(_ tasks: [PlannedTask], now: Date = Date()) throws {
        try write { db in
            for task in tasks {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO task (id, experiment, seed, level, kind, parameters, state, updated)
                        VALUES (?, ?, ?, ?, ?, ?, 'blocked', ?)
                        """,
                    arguments: [
                        task.id, task.experiment, Int64(task.seed), task.level, task.kind, task.parameters,
                        now.timeIntervalSince1970,
                    ])
                for needed in task.dependsOn {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO dependency (task, needs) VALUES (?, ?)",
                        arguments: [task.id, needed])
                }
            }
            try Self.release(db)
        }
    }

    /// Settles as `state` every blocked task that depends on a task in one of `states` (SQL literals), down the
    /// whole chain of its dependants.
    private static func settle(_ db: Database, as state: String, error: String, after states: String) throws {
        // A cached statement: this runs in every transaction that settles a task.
        let statement = try db.cachedStatement(
            sql: """
                UPDATE task SET state = ?, error = ?
                WHERE state = 'blocked' AND EXISTS (SELECT 1 FROM dependency d JOIN task n ON n.id = d.needs
                                                   WHERE d.task = task.id AND n.state IN (\(states)))
                """)
        repeat {
            try statement.execute(arguments: [state, error])
        } while db.changesCount > 0
    }

    /// Blocked tasks whose dependencies are all done become queued; those with a failed or skipped one
    /// are skipped, and those with a diverged or unneeded one are not needed, down the whole chain of dependants.
    static func release(_ db: Database) throws {
        try settle(db, as: "skipped", error: "depends on a task that failed", after: "'failed', 'skipped'")
        try settle(
            db, as: "unneeded", error: "not needed: a level it depends on ended its chain",
            after: "'diverged', 'unneeded'")
        try db.cachedStatement(
            sql: """
                UPDATE task SET state = 'queued'
                WHERE state = 'blocked' AND NOT EXISTS (SELECT 1 FROM dependency d JOIN task n ON n.id = d.needs
                                                       WHERE d.task = task.id AND n.state != 'done')
                """
        ).execute()
    }

    /// Runs `body` in one write transaction: every change in it is committed together, or none is.
    /// The coordinator batches a burst of messages this way, and answers them after the commit.
    package func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try write { db in try body(Transaction(db: db)) }
    }

    /// The task changes of one transaction.
    package struct Transaction {
        let db: Database

        package func task(_ id: String) throws -> TaskRecord? {
            try TaskRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM task WHERE id = ?"), arguments: [id])
        }

        /// Hands the oldest queued task (lowest level first) to `worker`, as attempt `attempts + 1`.
        /// A task that already failed on this worker is left for another worker while there is another task
        /// to take. One that this worker's host said fails for its own inputs is left for another host
        /// altogether while `otherHostsAlive`: only a second host's word may fail it.
        package func leaseNext(
            to holder: LeaseHolder, leaseSeconds: Double, otherHostsAlive: Bool = false,
            now: Date = Date()
        ) throws -> TaskRecord? {
            let worker = holder.worker, host = TaskStore.host(ofWorker: worker)
            let fresh = try String.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id FROM task WHERE state = 'queued'
                          AND id NOT IN (SELECT task FROM failure WHERE worker = ? AND cause = 'host')
                          AND id NOT IN (SELECT task FROM failure WHERE host = ? AND cause = 'task')
                        ORDER BY level, experiment, seed LIMIT 1
                        """), arguments: [worker, host])
            // Asked only when no fresh task is left, as the lease path runs for every idle worker.
            func fallback() throws -> String? {
                otherHostsAlive
                    ? try String.fetchOne(
                        db.cachedStatement(
                            sql: """
                                SELECT id FROM task WHERE state = 'queued' AND id NOT IN (SELECT task FROM failure WHERE host = ? AND cause = 'task')
                                ORDER BY level, experiment, seed LIMIT 1
                                """), arguments: [host])
                    : try String.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT id FROM task WHERE state = 'queued' ORDER BY level, experiment, seed LIMIT 1"))
            }
            guard let id = try fresh ?? fallback() else { return nil }
            try db.cachedStatement(
                sql: """
                    UPDATE task SET state = 'leased', attempts = attempts + 1, worker = ?, lease_expires = ?, updated = ?,
                        progress = NULL, progress_at = NULL WHERE id = ?
                    """
            ).execute(arguments: [worker, now.timeIntervalSince1970 + leaseSeconds, now.timeIntervalSince1970, id])
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO lease (task, attempt, worker, started, token, key)
                    SELECT id, attempts, worker, ?, ?, ? FROM task WHERE id = ?
                    """
            ).execute(arguments: [now.timeIntervalSince1970, holder.token, holder.key, id])
            return try task(id)
        }

        /// Extends a live lease (a heartbeat from the worker running it).
        package func renew(task: String, attempt: Int, leaseSeconds: Double, now: Date = Date()) throws {
            try db.cachedStatement(
                sql: "UPDATE task SET lease_expires = ? WHERE id = ? AND state = 'leased' AND attempts = ?"
            ).execute(arguments: [now.timeIntervalSince1970 + leaseSeconds, task, attempt])
        }

        /// Keeps the latest progress of a live lease (a heartbeat's), as JSON.
        package func recordProgress(task: String, attempt: Int, progress: String, now: Date) throws {
            try db.cachedStatement(
                sql: "UPDATE task SET progress = ?, progress_at = ? WHERE id = ? AND state = 'leased' AND attempts = ?"
            )
            .execute(arguments: [progress, now.timeIntervalSince1970, task, attempt])
        }

        /// Whether `holder` is the peer lease `attempt` of `task` went to, under this coordinator or an
        /// earlier one: same worker name and token, and the same CURVE key if the lease recorded one.
        package func holds(_ holder: LeaseHolder, task: String, attempt: Int) throws -> Bool {
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT worker, token, key FROM lease WHERE task = ? AND attempt = ?"),
                    arguments: [task, attempt])
            else { return false }
            let key: String? = row["key"]
            return row["worker"] == holder.worker && row["token"] == holder.token && (key == nil || key == holder.key)
        }

        /// What a result for lease `attempt` of `task` from `holder` would become: `.recorded` while the task
        /// still waits for one (queued or leased), `attempt` is its most recent lease and `holder` proves it
        /// held that lease, even if the lease was lost since (the work is done, and redoing it would give the same bytes).
        package func verdict(task: String, attempt: Int, from holder: LeaseHolder) throws -> CompletionOutcome {
            guard let record = try self.task(task) else { return .unknownTask }
            guard try holds(holder, task: task, attempt: attempt) else { return .wrongLease }
            if record.state == .done || record.state == .diverged { return .duplicate }
            guard record.state == .queued || record.state == .leased, record.attempts == attempt else { return .stale }
            return .recorded
        }

        /// Records a result if its `verdict` is `.recorded`, with the `build` that made it. `ending` settles
        /// the rest of the task's chain (same experiment and seed, later levels).
        package func complete(
            task: String, attempt: Int, from holder: LeaseHolder, build: String? = nil, digest: String,
            summary: String, ending: ChainEnding = .continues, now: Date = Date()
        ) throws -> CompletionOutcome {
            let verdict = try verdict(task: task, attempt: attempt, from: holder)
            guard verdict == .recorded, let record = try self.task(task) else { return verdict }
            var state = TaskState.done, note: String?
            if case .diverged(let reason) = ending { state = .diverged; note = reason }
            try db.cachedStatement(
                sql: """
                    UPDATE task SET state = ?, digest = ?, summary = ?, worker = NULL, lease_expires = NULL, error = ?, updated = ?,
                        build = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [state.rawValue, digest, summary, note, now.timeIntervalSince1970, build, task])
            if ending != .continues {
                let reason =
                    state == .diverged
                    ? "not needed: the chain diverged at \(task)" : "not needed: the chain ended at \(task)"
                try db.cachedStatement(
                    sql: """
                        UPDATE task SET state = 'unneeded', error = ?
                        WHERE experiment = ? AND seed = ? AND level > ? AND state IN ('blocked', 'queued')
                        """
                ).execute(arguments: [reason, record.experiment, Int64(record.seed), record.level])
            }
            try TaskStore.release(db)
            return .recorded
        }

        /// Sends finished tasks whose results are gone (their files deleted or damaged) back to be computed
        /// again, each with the reason kept for `sift status`, together with every task that depends on them,
        /// directly or not, and is done, diverged, not needed or queued: those were derived from the lost
        /// results, or are to be. Tasks leased now keep their lease. Returns every task sent back.
        @discardableResult
        package func recompute(_ lost: [(task: String, reason: String)], now: Date) throws -> [String] {
            var sentBack: [String] = []
            var frontier = lost.map(\.task)
            var seen = Set(frontier)
            while let id = frontier.popLast() {
                try db.cachedStatement(
                    sql: """
                        UPDATE task SET state = 'blocked', digest = NULL, summary = NULL, error = NULL, build = NULL, worker = NULL,
                            lease_expires = NULL, updated = ? WHERE id = ? AND state IN ('done', 'diverged', 'unneeded', 'queued')
                        """
                ).execute(arguments: [now.timeIntervalSince1970, id])
                if db.changesCount > 0 { sentBack.append(id) }
                for dependant in try String.fetchAll(
                    db.cachedStatement(sql: "SELECT task FROM dependency WHERE needs = ?"), arguments: [id])
                where seen.insert(dependant).inserted {
                    frontier.append(dependant)
                }
            }
            for (task, reason) in lost {
                try db.cachedStatement(sql: "INSERT INTO recovery (task, reason, at) VALUES (?, ?, ?)")
                    .execute(arguments: [task, reason, now.timeIntervalSince1970])
            }
            try TaskStore.release(db)
            return sentBack
        }

        /// How often `task`'s results were found lost and sent back.
        package func recoveries(of task: String) throws -> Int {
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM recovery WHERE task = ?"), arguments: [task])
                ?? 0
        }

        /// Returns a task just leased to the state it had before (blocked, since an input it needs was found lost).
        package func unlease(task: String, attempt: Int, now: Date) throws {
            try db.cachedStatement(
                sql: """
                    UPDATE task SET state = 'blocked', worker = NULL, lease_expires = NULL, updated = ? WHERE id = ? AND state = 'leased' AND attempts = ?
                    """
            ).execute(arguments: [now.timeIntervalSince1970, task, attempt])
            try TaskStore.release(db)
        }

        /// Returns a leased task to the queue at no cost, attempt kept (its worker never rejoined a restarted
        /// coordinator: not its fault, nor the task's). A result its worker still sends is accepted.
        package func releaseLease(task: String, now: Date) throws {
            try db.cachedStatement(
                sql: """
                    UPDATE task SET state = 'queued', worker = NULL, lease_expires = NULL, updated = ? WHERE id = ? AND state = 'leased'
                    """
            ).execute(arguments: [now.timeIntervalSince1970, task])
        }

        /// Whether any task waits in the queue.
        package func hasQueuedTask() throws -> Bool {
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM task WHERE state = 'queued')"))
                ?? false
        }

        /// The hosts that have said `task` fails for its own inputs.
        package func taskFailureHosts(of task: String) throws -> Set<String> {
            Set(
                try String.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT DISTINCT host FROM failure WHERE task = ? AND cause = 'task' AND host IS NOT NULL"),
                    arguments: [task]))
        }

        /// An attempt that ended without a result, counted against its cause's budget: back to the queue,
        /// or failed for good. A task-caused failure fails it at once, unless `awaitingAnotherHost` (only one
        /// host has said so, and another is alive to try): then it goes back to the queue, for another host.
        /// Only the current lease counts; returns the new state.
        @discardableResult
        package func fail(
            task: String, attempt: Int, cause: FailureCause, error: String, limits: RetryLimits,
            awaitingAnotherHost: Bool = false, now: Date = Date()
        ) throws -> TaskState? {
            guard let record = try self.task(task),
                record.state == .leased, record.attempts == attempt
            else { return nil }
            try db.cachedStatement(
                sql: "INSERT INTO failure (task, attempt, worker, host, cause, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            .execute(arguments: [
                task, attempt, record.worker, record.worker.map(TaskStore.host(ofWorker:)), cause.rawValue, error,
                now.timeIntervalSince1970,
            ])
            let state: TaskState, message: String
            switch cause {
            case .task where awaitingAnotherHost:
                (state, message) = (.queued, "\(error) (one host says so; another host will try it)")
            case .task:
                (state, message) = (.failed, error)
            case .host:
                let count = record.hostFailures + 1
                state = count >= limits.hostFailures ? .failed : .queued
                if state == .failed {
                    // The same worker may have failed it more than once, when no other could take it. The
                    // last `count` host failures are this budget's (a retry of failed tasks starts a new one).
                    let workers =
                        try Int.fetchOne(
                            db.cachedStatement(
                                sql: """
                                    SELECT COUNT(DISTINCT worker) FROM (SELECT worker FROM failure WHERE task = ? AND cause = 'host'
                                        ORDER BY rowid DESC LIMIT ?)
                                    """), arguments: [task, count]) ?? count
                    message = "failed \(count) times, on \(workers) worker(s); last: \(error)"
                } else {
                    message = error
                }
            case .lostLease:
                let count = record.lostLeases + 1
                state = count >= limits.lostLeases ? .failed : .queued
                message =
                    state == .failed ? "\(count) workers died or fell silent while holding it; last: \(error)" : error
            }
            try db.cachedStatement(
                sql: """
                    UPDATE task SET state = ?, error = ?, worker = NULL, lease_expires = NULL, updated = ?,
                        host_failures = host_failures + ?, lost_leases = lost_leases + ?
                    WHERE id = ?
                    """
            ).execute(arguments: [
                state.rawValue, message, now.timeIntervalSince1970,
                cause == .host ? 1 : 0, cause == .lostLease ? 1 : 0, task,
            ])
            try TaskStore.release(db)
            return state
        }

        /// Keeps `worker`'s record of trouble.
        package func record(_ trouble: WorkerTrouble, of worker: String) throws {
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO trouble (worker, failures_in_a_row, times_set_aside, set_aside_until, last_error)
                    VALUES (?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                worker, trouble.failuresInARow, trouble.timesSetAside,
                trouble.setAsideUntil?.timeIntervalSince1970, trouble.lastError,
            ])
        }

        /// Leases past their end (the worker stopped renewing them), with the worker that held each.
        package func expiredLeases(now: Date) throws -> [(task: String, attempt: Int, worker: String?)] {
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id, attempts, worker FROM task WHERE state = 'leased' AND lease_expires < ?"),
                arguments: [now.timeIntervalSince1970]
            ).map { ($0["id"], $0["attempts"], $0["worker"]) }
        }
    }

    /// On a coordinator restart the leases of the previous one stand until `until`, so that their workers,
    /// still training, can rejoin and finish them rather than see them handed to another worker. Returns the
    /// tasks so held; the coordinator returns those whose worker never rejoined with `releaseLease`.
    @discardableResult
    package func holdLeasesForRejoin(until: Date) throws -> [String] {
        try write { db in
            let held = try String.fetchAll(db, sql: "SELECT id FROM task WHERE state = 'leased' ORDER BY id")
            try db.execute(
                sql: "UPDATE task SET lease_expires = ? WHERE state = 'leased'",
                arguments: [until.timeIntervalSince1970])
            return held
        }
    }

    package func counts() throws -> [TaskState: Int] {
        try read { db in
            var counts: [TaskState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM task GROUP BY state") {
                if let state = TaskState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Puts failed tasks, and the tasks skipped because of them, back in line with fresh failure budgets;
    /// finished levels stay. Returns how many tasks were re-queued or unblocked.
    @discardableResult
    package func retryFailed(now: Date = Date()) throws -> Int {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE task SET state = 'blocked', host_failures = 0, lost_leases = 0, error = NULL, worker = NULL,
                        lease_expires = NULL, updated = ? WHERE state IN ('failed', 'skipped')
                    """, arguments: [now.timeIntervalSince1970])
            let count = db.changesCount
            try Self.release(db)
            return count
        }
    }

    /// One attempt that ended without a result.
    package struct FailureRecord: Sendable, Equatable {
        package var task: String
        package var attempt: Int
        package var worker: String?
        package var cause: FailureCause
        package var error: String
    }

    /// Every failed attempt of `task`, oldest first.
    package func failures(of task: String) throws -> [FailureRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM failure WHERE task = ? ORDER BY at, rowid", arguments: [task]).map
            {
                FailureRecord(
                    task: $0["task"], attempt: $0["attempt"], worker: $0["worker"],
                    cause: FailureCause(rawValue: $0["cause"]) ?? .host, error: $0["error"])
            }
        }
    }

    /// The mean seconds a finished level took, by level: from its last lease to its result.
    package func measuredLevelSeconds() throws -> [Int: Double] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.level AS level, AVG(t.updated - l.started) AS seconds FROM task t
                    JOIN lease l ON l.task = t.id AND l.attempt = t.attempts
                    WHERE t.state = 'done' AND t.updated >= l.started GROUP BY t.level
                    """)
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["level"] as Int, $0["seconds"] as Double) })
        }
    }

    /// Finished tasks that reused another task's result rather than computing their own (their planned
    /// parameters name it under "reuses": a control's level 0, which is its IMP experiment's).
    package func reusedCount() throws -> Int {
        try read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) FROM task WHERE state = 'done' AND json_extract(parameters, '$.reuses') IS NOT NULL"
            ) ?? 0
        }
    }

    /// Finished tasks whose results should be on disk: done and diverged.
    package func finishedTasks() throws -> [TaskRecord] {
        try read { db in
            try TaskRecord.fetchAll(db, sql: "SELECT * FROM task WHERE state IN ('done', 'diverged') ORDER BY id")
        }
    }

    /// The latest finished tasks found lost and sent back, newest first, with why.
    package func recoveries(limit: Int = 20) throws -> [(task: String, reason: String, at: Date)] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT task, reason, at FROM recovery ORDER BY at DESC, rowid DESC LIMIT ?",
                arguments: [limit]
            ).map {
                ($0["task"], $0["reason"], Date(timeIntervalSince1970: $0["at"]))
            }
        }
    }

    /// Tasks still to run or running: queued, blocked and leased.
    package func pendingTasks() throws -> [TaskRecord] {
        try read { db in
            try TaskRecord.fetchAll(
                db,
                sql:
                    "SELECT * FROM task WHERE state IN ('queued', 'blocked', 'leased') ORDER BY experiment, seed, level"
            )
        }
    }

    /// Nothing left to run or wait for.
    package func isFinished() throws -> Bool {
        try read { db in
            try
                !(Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM task WHERE state IN ('queued', 'leased', 'blocked'))")
                ?? false)
        }
    }

    package func task(_ id: String) throws -> TaskRecord? {
        try read { db in try TaskRecord.fetchOne(db, sql: "SELECT * FROM task WHERE id = ?", arguments: [id]) }
    }

    package func tasks(in state: TaskState) throws -> [TaskRecord] {
        try read { db in
            try TaskRecord.fetchAll(
                db, sql: "SELECT * FROM task WHERE state = ? ORDER BY id", arguments: [state.rawValue])
        }
    }
}
