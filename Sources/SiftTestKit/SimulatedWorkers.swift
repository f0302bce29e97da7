import Foundation
import SiftCluster
import SiftWire
import Synchronization

/// Many workers in one process, each a `ScriptedPeer` on a DEALER socket speaking the real protocol, for
/// measuring what one coordinator holds (`sift-testbed bench-coordinator`). A worker says READY, answers its challenge, takes a
/// task, heartbeats it every interval with a round-trip probe, and returns a result of the given size
/// when its turn comes: turns are staggered so that results reach the coordinator at a steady rate.
package final class SimulatedWorkers: Sendable {
    package struct Settings: Sendable {
        package var workers: Int
        /// Threads the sockets are spread over.
        package var threads: Int
        package var resultBytes: Int
        /// Results per second over the whole cluster.
        package var resultsPerSecond: Double
        package var heartbeatInterval: Double
        /// The coordinator's build identifier (a worker of another build is refused).
        package var build: String

        package init(
            workers: Int, threads: Int, resultBytes: Int, resultsPerSecond: Double, heartbeatInterval: Double,
            build: String
        ) {
            self.workers = workers
            self.threads = threads
            self.resultBytes = resultBytes
            self.resultsPerSecond = resultsPerSecond
            self.heartbeatInterval = heartbeatInterval
            self.build = build
        }
    }

    /// What the workers saw.
    package struct Tally: Sendable {
        /// Heartbeat round trips: when each probe was sent (seconds from the start) and how long it took.
        package var roundTrips: [(sent: Double, seconds: Double)] = []
        /// Seconds from the start until the last worker took its first task: the ramp, when every worker
        /// joins at once, after which the cluster runs in its steady state.
        package var rampSeconds: Double?
        package var tasksTaken = 0
        package var resultsSent = 0
        package var resultsAcknowledged = 0
        /// Leases taken back (revoked) or refusals: none should happen to a worker that keeps heartbeating.
        package var revoked = 0
        package var refused = 0

        mutating func merge(_ other: Tally) {
            roundTrips += other.roundTrips
            if let ramp = other.rampSeconds { rampSeconds = max(rampSeconds ?? 0, ramp) }
            tasksTaken += other.tasksTaken
            resultsSent += other.resultsSent
            resultsAcknowledged += other.resultsAcknowledged
            revoked += other.revoked
            refused += other.refused
        }
    }

    private let settings: Settings
    private let endpoint: String
    /// One context for every worker: libzmq allows 1,023 sockets a context unless told more.
    private let context: ZeroMQContext
    /// The one result every worker sends: level-sized, in parts of at most 4 MiB (as a level's files are),
    /// with its digest computed once.
    private let attachments: [[UInt8]]
    private let digest: String

    package init(settings: Settings, endpoint: String) {
        self.settings = settings
        self.endpoint = endpoint
        OpenFileLimit.raiseToHardLimit()
        context = ZeroMQContext(maximumSockets: Int32(clamping: settings.workers + 64))
        let part = 4 << 20
        attachments = stride(from: 0, to: max(settings.resultBytes, 1), by: part).map { start in
            [UInt8](
                repeating: UInt8(truncatingIfNeeded: start >> 20),
                count: min(part, max(settings.resultBytes, 1) - start))
        }
        digest = TaskDigest.of(attachments)
    }

    /// Runs every worker for `seconds`, then closes their sockets.
    package func run(seconds: Double) throws -> Tally {
        let total = Mutex(Tally())
        let failure = Mutex<String?>(nil)
        let start = Date()
        // One thread a lane, all at once (concurrentPerform would run no more lanes than there are cores).
        let finished = DispatchSemaphore(value: 0)
        for lane in 0..<settings.threads {
            Thread {
                do {
                    let tally = try self.runLane(lane, start: start, seconds: seconds)
                    total.withLock { $0.merge(tally) }
                } catch {
                    failure.withLock { $0 = "\(error)" }
                }
                finished.signal()
            }.start()
        }
        for _ in 0..<settings.threads { finished.wait() }
        if let message = failure.withLock({ $0 }) { throw SimulationError(message: message) }
        return total.withLock { $0 }
    }

    package struct SimulationError: Error, CustomStringConvertible {
        package var message: String
        package var description: String { "simulated workers: \(message)" }
    }

    private struct Worker {
        let index: Int
        /// The peer, and its socket for polling.
        let peer: ScriptedPeer
        let socket: ZeroMQSocket
        var task: TaskAssignment?
        var due = 0.0
        var nextBeat = 0.0
        var hasTakenATask = false
        var resultSent = false
    }

    private func runLane(_ lane: Int, start: Date, seconds: Double) throws -> Tally {
        var tally = Tally()
        var workers = try stride(from: lane, to: settings.workers, by: settings.threads).map { index -> Worker in
            let link = try DealerLink(context, endpoint: endpoint, lingerMilliseconds: 0)
            let peer = try ScriptedPeer(link, pid: Int32(index + 1), host: "simulated", build: settings.build)
            return Worker(
                index: index, peer: peer, socket: link.socket,
                nextBeat: settings.heartbeatInterval * Double(index % 100) / 100)
        }
        defer { for worker in workers { worker.socket.close() } }
        let sockets = workers.map(\.socket)
        // A task is held this long, so that N workers return results at the given rate; a worker's first
        // task is held in proportion to its index, so the results start at that rate at once.
        let holding = Double(settings.workers) / settings.resultsPerSecond
        var waitingForFirstTask = workers.count
        while Date().timeIntervalSince(start) < seconds {
            let ready = try ZeroMQSocket.poll(sockets, timeout: 5)
            let now = Date().timeIntervalSince(start)
            for k in workers.indices where ready[k] {
                // The peer answers challenges; the heartbeats come back too, for their round-trip probes.
                for message in try workers[k].peer.inbox(heartbeats: true) {
                    switch message {
                    case .heartbeat(let beat):
                        if let echo = beat.echo, let sent = Double(echo) { tally.roundTrips.append((sent, now - sent)) }
                    case let .task(assignment, _):
                        tally.tasksTaken += 1
                        workers[k].task = assignment
                        workers[k].resultSent = false
                        let first = !workers[k].hasTakenATask
                        if first {
                            workers[k].hasTakenATask = true
                            waitingForFirstTask -= 1
                            if waitingForFirstTask == 0 { tally.rampSeconds = now }
                        }
                        workers[k].due =
                            now + (first ? Double(workers[k].index + 1) / settings.resultsPerSecond : holding)
                    case .acknowledge:
                        tally.resultsAcknowledged += 1
                        workers[k].task = nil
                    case .revoke:
                        tally.revoked += 1
                        workers[k].task = nil
                    case .refuse:
                        tally.refused += 1
                    default:
                        break
                    }
                }
            }
            for k in workers.indices {
                if now >= workers[k].nextBeat {
                    workers[k].nextBeat = now + settings.heartbeatInterval
                    let beat = Heartbeat(task: workers[k].task?.task, echo: String(now))
                    // A full queue (the coordinator not reading) loses this beat, as it would a real worker's.
                    try? workers[k].socket.send(WireMessage.heartbeat(beat).frames, waiting: false)
                }
                if let task = workers[k].task, !workers[k].resultSent, now >= workers[k].due {
                    let result = TaskResult(
                        task: task.task, attempt: task.attempt, lease: task.lease, digest: digest, summary: "{}")
                    try workers[k].peer.send(.result(result, attachments: attachments))
                    tally.resultsSent += 1
                    // Like a real worker, it names the task in its heartbeats until the result is acknowledged.
                    workers[k].resultSent = true
                }
            }
        }
        return tally
    }
}
