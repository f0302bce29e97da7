import Foundation

/// Messages between the coordinator and its workers.
///
/// On the wire a message is: frame 0, a 7-byte header ("SIFT", protocol version as big-endian
/// UInt16, message kind); frame 1, a JSON body; then any binary attachments (masks, weights).
/// A ROUTER socket adds the peer's identity in front.
package enum WireMessage: Equatable, Sendable {
    case ready(WorkerHello)
    case heartbeat(Heartbeat)
    case task(TaskAssignment, attachments: [[UInt8]])
    case result(TaskResult, attachments: [[UInt8]])
    case failure(TaskFailure)
    case acknowledge(TaskReference)
    /// The coordinator takes a lease back (its training stopped moving): the worker drops the task.
    case revoke(TaskReference, reason: String)
    case refuse(Refusal)
    case done
    /// From `sift status --connect`: any peer may ask, and gets a `status` back.
    case statusRequest
    case status(SweepStatus)

    /// 2: leases carry tokens, and a worker answers the coordinator's first heartbeat before it gets a task.
    package static let protocolVersion: UInt16 = 2
    static let magic: [UInt8] = Array("SIFT".utf8)
    /// Largest message accepted: a paper-scale level (3×1024² weights and masks) fits with room to spare.
    package static let maxBytes = 256 << 20
    /// Most frames in a message: a level's result is a frame per file, about 10 a layer with its rewind
    /// point (mask, weights, biases, bias mask, batch norm), plus maps and metrics; SiftConfig refuses
    /// networks deeper than `ModelSpec.maximumLayers` (24) so that every level fits.
    package static let maxFrames = 256

    enum Kind: UInt8 {
        case ready = 1, heartbeat, task, result, failure, acknowledge, refuse, done, statusRequest, status, revoke
    }

    var kind: Kind {
        switch self {
        case .ready: return .ready
        case .heartbeat: return .heartbeat
        case .task: return .task
        case .result: return .result
        case .failure: return .failure
        case .acknowledge: return .acknowledge
        case .revoke: return .revoke
        case .refuse: return .refuse
        case .done: return .done
        case .statusRequest: return .statusRequest
        case .status: return .status
        }
    }

    package var frames: [[UInt8]] {
        let header = Self.magic + [UInt8(Self.protocolVersion >> 8), UInt8(Self.protocolVersion & 0xFF), kind.rawValue]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // These bodies hold strings, integers and finite times: encoding them cannot fail.
        func body<T: Encodable>(_ value: T) -> [UInt8] {
            (try? encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8)
        }
        switch self {
        case .ready(let hello): return [header, body(hello)]
        case .heartbeat(let beat): return [header, body(beat)]
        case let .task(assignment, attachments): return [header, body(assignment)] + attachments
        case let .result(result, attachments): return [header, body(result)] + attachments
        case .failure(let failure): return [header, body(failure)]
        case .acknowledge(let reference): return [header, body(reference)]
        case let .revoke(reference, reason): return [header, body(Revocation(task: reference.task, reason: reason))]
        case .refuse(let refusal): return [header, body(refusal)]
        case .done, .statusRequest: return [header, Array("{}".utf8)]
        case .status(let status): return [header, body(status)]
        }
    }

    /// Parses untrusted frames. Every way they can be wrong is a `WireError`, never a crash.
    package init(frames: [[UInt8]]) throws {
        guard frames.count >= 2 else {
            throw WireError.malformed("expected a header and a body frame, got \(frames.count) frame(s)")
        }
        let header = frames[0]
        guard header.count == 7, Array(header[0..<4]) == Self.magic else {
            throw WireError.malformed("frame 0 is not a Sift header")
        }
        let version = UInt16(header[4]) << 8 | UInt16(header[5])
        guard version == Self.protocolVersion else {
            throw WireError.versionMismatch(peer: version, ours: Self.protocolVersion)
        }
        guard let kind = Kind(rawValue: header[6]) else { throw WireError.unknownKind(header[6]) }
        let body = Data(frames[1])
        let attachments = Array(frames.dropFirst(2))
        guard attachments.isEmpty || kind == .task || kind == .result else {
            throw WireError.malformed("a \(kind) message carries no attachments, got \(attachments.count)")
        }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: body)
            } catch {
                throw WireError.malformed("\(kind) body: \(error)")
            }
        }
        switch kind {
        case .ready: self = .ready(try decode(WorkerHello.self))
        case .heartbeat: self = .heartbeat(try decode(Heartbeat.self))
        case .task: self = .task(try decode(TaskAssignment.self), attachments: attachments)
        case .result: self = .result(try decode(TaskResult.self), attachments: attachments)
        case .failure: self = .failure(try decode(TaskFailure.self))
        case .acknowledge: self = .acknowledge(try decode(TaskReference.self))
        case .revoke:
            let revocation = try decode(Revocation.self)
            self = .revoke(TaskReference(task: revocation.task), reason: revocation.reason)
        case .refuse: self = .refuse(try decode(Refusal.self))
        case .done: self = .done
        case .statusRequest: self = .statusRequest
        case .status: self = .status(try decode(SweepStatus.self))
        }
    }
}

/// Why a message was dropped.
package enum WireError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case versionMismatch(peer: UInt16, ours: UInt16)
    case unknownKind(UInt8)

    package var description: String {
        switch self {
        case .malformed(let reason): return "malformed message: \(reason)"
        case let .versionMismatch(peer, ours): return "protocol version \(peer), this side speaks \(ours)"
        case .unknownKind(let kind): return "unknown message kind \(kind)"
        }
    }
}

/// A worker introducing itself.
package struct WorkerHello: Codable, Equatable, Sendable {
    package var host: String
    package var pid: Int32
    package var cores: Int
    /// The engine build; a worker whose build differs from the coordinator's is refused.
    package var build: String
    /// A task still running from before a reconnect, so it is not handed another.
    package var task: TaskReference?
    package var attempt: Int?
    /// The lease token of that task: without it the claim is ignored.
    package var lease: String?

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(host: String, pid: Int32, cores: Int, build: String) {
        self.host = host
        self.pid = pid
        self.cores = cores
        self.build = build
    }

    /// What makes this introduction unacceptable, if anything: fields a real worker cannot send.
    package var problem: String? {
        if host.isEmpty || host.count > 255 || host.contains(where: { $0.isWhitespace || $0.isNewline }) {
            return "READY with an unusable host name"
        }
        if pid <= 0 { return "READY with pid \(pid)" }
        if cores < 1 || cores > 1 << 16 { return "READY with \(cores) cores" }
        if build.isEmpty || build.count > 255 { return "READY without a usable build identifier" }
        if let attempt, attempt < 1 { return "READY naming attempt \(attempt)" }
        if (task == nil) != (attempt == nil) || (task == nil) != (lease == nil) {
            return "READY naming a task without its attempt and lease, or the reverse"
        }
        return nil
    }
}

/// A revoked lease, on the wire.
struct Revocation: Codable {
    var task: String
    var reason: String
}

/// How far a worker's task has come: its training's step, rate and loss, so the coordinator can show
/// progress and tell a slow level from a hung one. The wire's copy of the engine's
/// `TrainingProgress.Snapshot` (SiftWire does not link the engine).
package struct TaskProgress: Codable, Equatable, Sendable {
    /// Where a task is: the wire's copy of the engine's `TrainingProgress.Phase`, sent as its name.
    package enum Phase: String, Codable, Equatable, Sendable {
        /// Loading data and building the network.
        case preparing
        case training
        /// Training is over; the level is being measured.
        case measuring
    }

    package var phase: Phase
    package var step: Int
    package var steps: Int
    package var epoch: Int
    package var epochs: Int
    package var loss: Double?
    package var stepsPerSecond: Double?
    /// Seconds since the step counter (or the phase) last changed, on the worker's clock.
    package var secondsSinceChange: Double

    package init(
        phase: Phase, step: Int, steps: Int, epoch: Int, epochs: Int, loss: Double?, stepsPerSecond: Double?,
        secondsSinceChange: Double
    ) {
        self.phase = phase
        self.step = step
        self.steps = steps
        self.epoch = epoch
        self.epochs = epochs
        // JSON has no NaN or infinity: a value that is not finite is left out, not sent.
        self.loss = loss.flatMap { $0.isFinite ? $0 : nil }
        self.stepsPerSecond = stepsPerSecond.flatMap { $0.isFinite ? $0 : nil }
        self.secondsSinceChange = secondsSinceChange.isFinite ? secondsSinceChange : 0
    }

    /// As the store keeps it.
    package var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The fraction of the level's training done, in [0, 1].
    package var fraction: Double { steps > 0 ? min(max(Double(step) / Double(steps), 0), 1) : 0 }

    /// Seconds of training left at the measured rate, if there is one.
    package var secondsLeft: Double? {
        guard let rate = stepsPerSecond, rate > 0, phase == .training else { return nil }
        return Double(max(steps - step, 0)) / rate
    }
}

/// Liveness, both ways; a worker names the task it is running.
///
/// The coordinator's first heartbeat to a new peer carries a `challenge`; the peer earns its first task
/// by sending it back as `answer`, which proves it reads its socket (a READY alone costs nothing to forge).
package struct Heartbeat: Codable, Equatable, Sendable {
    package var task: String?
    package var challenge: String?
    package var answer: String?
    /// The named task's progress.
    package var progress: TaskProgress?
    /// A round-trip probe: the coordinator sends a heartbeat back with the same text as soon as it has
    /// committed what came with this one (the lease renewal), so the round trip measures its loop.
    package var echo: String?

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(
        task: String? = nil, challenge: String? = nil, answer: String? = nil, progress: TaskProgress? = nil,
        echo: String? = nil
    ) {
        self.task = task
        self.challenge = challenge
        self.answer = answer
        self.progress = progress
        self.echo = echo
    }
}

/// One task: the coordinator's whole instruction, so no shared filesystem is needed.
package struct TaskAssignment: Codable, Equatable, Sendable {
    package var task: String
    package var attempt: Int
    /// The lease's unguessable token: the coordinator accepts a result or failure only with it.
    package var lease: String
    package var kind: TaskKind
    /// Kind-specific parameters as JSON text (for a level: the experiment config, seed, level).
    package var parameters: String

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(task: String, attempt: Int, lease: String, kind: TaskKind, parameters: String) {
        self.task = task
        self.attempt = attempt
        self.lease = lease
        self.kind = kind
        self.parameters = parameters
    }
}

package struct TaskResult: Codable, Equatable, Sendable {
    package var task: String
    package var attempt: Int
    /// The token of the lease this answers.
    package var lease: String
    /// SHA-256 (hex) over the attachments, checked on arrival.
    package var digest: String
    package var summary: String

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(task: String, attempt: Int, lease: String, digest: String, summary: String) {
        self.task = task
        self.attempt = attempt
        self.lease = lease
        self.digest = digest
        self.summary = summary
    }
}

package struct TaskFailure: Codable, Equatable, Sendable {
    /// Who is at fault: the task fails at once; the host's failures are retried on another worker;
    /// a task declined (the worker was busy or stopping) goes back to the queue.
    package enum Cause: String, Codable, Sendable {
        case task, host, declined
    }

    package var task: String
    package var attempt: Int
    /// The token of the lease this answers.
    package var lease: String
    package var error: String
    package var cause: Cause

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(task: String, attempt: Int, lease: String, error: String, cause: Cause) {
        self.task = task
        self.attempt = attempt
        self.lease = lease
        self.error = error
        self.cause = cause
    }
}

/// An error that says whether the task or the worker's host is at fault.
package protocol AttributedError: Error {
    var cause: TaskFailure.Cause { get }
}

package struct TaskReference: Codable, Equatable, Sendable {
    package var task: String
    package init(task: String) { self.task = task }
}

package struct Refusal: Codable, Equatable, Sendable {
    package var reason: String
    package init(reason: String) { self.reason = reason }
}

/// A sweep's health: levels by state, workers, failures. Built from the store or sent by a live coordinator.
package struct SweepStatus: Codable, Equatable, Sendable {
    package struct Worker: Codable, Equatable, Sendable {
        package var name: String
        package var cores: Int
        package var task: String?
        package var secondsSinceHeartbeat: Double
        package var alive: Bool
        /// Why it gets no task for now (set aside after failures on its host), if so.
        package var setAside: String?

        // Memberwise, and package-wide: Swift synthesizes only an internal one.
        package init(
            name: String, cores: Int, task: String?, secondsSinceHeartbeat: Double, alive: Bool, setAside: String? = nil
        ) {
            self.name = name
            self.cores = cores
            self.task = task
            self.secondsSinceHeartbeat = secondsSinceHeartbeat
            self.alive = alive
            self.setAside = setAside
        }
    }

    /// A level that failed for good, or whose training diverged, with why and where.
    package struct Failure: Codable, Equatable, Sendable {
        package var task: String
        package var attempts: Int
        package var error: String
        /// The worker (host:pid) of the last failed attempt, when one is known.
        package var worker: String?

        // Memberwise, and package-wide: Swift synthesizes only an internal one.
        package init(task: String, attempts: Int, error: String, worker: String? = nil) {
            self.task = task
            self.attempts = attempts
            self.error = error
            self.worker = worker
        }
    }

    /// A level being run, with what its worker last reported of it.
    package struct Running: Codable, Equatable, Sendable {
        package var task: String
        package var worker: String?
        package var progress: TaskProgress?

        // Memberwise, and package-wide: Swift synthesizes only an internal one.
        package init(task: String, worker: String?, progress: TaskProgress?) {
            self.task = task
            self.worker = worker
            self.progress = progress
        }
    }

    /// Task counts by state name.
    package var counts: [String: Int]
    package var finished: Bool
    package var workers: [Worker]
    package var failures: [Failure]
    /// Chains that ended with a non-finite training: the diverged level and its step and loss.
    package var diverged: [Failure]
    package var running: [Running]
    /// Seconds until every level is settled, from measured level times and the workers at hand; nil
    /// until a level time is known.
    package var secondsLeft: Double?
    /// Whether `secondsLeft` is an upper bound: some levels are costed as a shallower depth, the deepest
    /// measured, and deeper levels train faster (nil from a coordinator of an earlier build).
    package var secondsLeftIsUpperBound: Bool?
    /// Finished levels whose files were found missing or unreadable and that are computed again, newest first
    /// (nil from a coordinator of an earlier build).
    package var recomputed: [Failure]?
    /// Levels that reused a finished level instead of training (a control's level 0 is its IMP experiment's).
    package var reused: Int?

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(
        counts: [String: Int], finished: Bool, workers: [Worker], failures: [Failure], diverged: [Failure] = [],
        running: [Running] = [], secondsLeft: Double? = nil, secondsLeftIsUpperBound: Bool? = nil,
        recomputed: [Failure]? = nil, reused: Int? = nil
    ) {
        self.secondsLeftIsUpperBound = secondsLeftIsUpperBound
        self.recomputed = recomputed
        self.reused = reused
        self.counts = counts
        self.finished = finished
        self.workers = workers
        self.failures = failures
        self.diverged = diverged
        self.running = running
        self.secondsLeft = secondsLeft
    }
}
