import ArgumentParser
import Foundation
import SiftCluster
import SiftLevels
import SiftCommands
import SiftTestKit
import Synchronization

struct CoordinatorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-coordinator",
        abstract: "A simulated cluster against a real coordinator: how many workers and results per second it holds.",
        discussion: """
            Starts `sift-testbed coordinator` on sleep tasks that write their results to disk as levels do, then --workers \
            simulated workers (DEALER sockets in a few threads, speaking the real protocol) that heartbeat every \
            second with a round-trip probe and return --result-mib results at --results-per-second over the cluster. \
            Prints one JSON line: heartbeat round trips (p50, p99), lease expiries (all false: every worker keeps \
            heartbeating), results acknowledged per second, and the coordinator's CPU and resident memory.
            """)

    @Option(help: "Simulated workers.") var workers = 100
    @Option(help: "Threads the simulated workers are spread over.") var threads = 4
    @Option(help: "Size of each result, MiB (a 784-1024-1024-1024-10 level with its rewind point is about 26).")
    var resultMib = 15.0
    @Option(help: "Results per second over the whole cluster.") var resultsPerSecond = 2.0
    @Option(help: "Seconds to run.") var seconds = 60.0

    struct Figures: Encodable {
        var workers: Int
        var seconds: Double
        var resultMib: Double
        var resultsPerSecondTarget: Double
        var resultsAcknowledgedPerSecond: Double
        /// Seconds until every worker held its first task: all of them join at once, a harder start than a real cluster's.
        var rampSeconds: Double?
        /// Round trips of the heartbeats sent after the ramp: the steady state.
        var heartbeatRoundTripP50Ms: Double?
        var heartbeatRoundTripP99Ms: Double?
        var heartbeatRoundTrips: Int
        /// The same over the whole run, the ramp included.
        var heartbeatRoundTripP99MsWithRamp: Double?
        var falseLeaseExpiries: Int
        var revoked: Int
        var refused: Int
        var coordinatorCPUPercent: Double
        var coordinatorRSSMiBStart: Double
        var coordinatorRSSMiBEnd: Double
        var coordinatorRSSMiBPeak: Double
        /// Resident memory in each quarter of the run (the median of its samples, once a second): flat once every
        /// worker is known and the store's caches are warm, if memory does not grow with the number of results.
        var coordinatorRSSMiBByQuarter: [Double]
        var storeCommitsPerSecond: Double?
        /// Everything the coordinator wrote (the results' files and the store), per second.
        var diskWriteMiBPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case workers, seconds, revoked, refused
            case resultMib = "result_mib"
            case resultsPerSecondTarget = "results_per_second_target"
            case resultsAcknowledgedPerSecond = "results_acknowledged_per_second"
            case heartbeatRoundTripP50Ms = "heartbeat_round_trip_p50_ms"
            case heartbeatRoundTripP99Ms = "heartbeat_round_trip_p99_ms"
            case heartbeatRoundTrips = "heartbeat_round_trips"
            case rampSeconds = "ramp_seconds"
            case heartbeatRoundTripP99MsWithRamp = "heartbeat_round_trip_p99_ms_with_ramp"
            case falseLeaseExpiries = "false_lease_expiries"
            case coordinatorCPUPercent = "coordinator_cpu_percent"
            case coordinatorRSSMiBStart = "coordinator_rss_mib_start"
            case coordinatorRSSMiBEnd = "coordinator_rss_mib_end"
            case coordinatorRSSMiBPeak = "coordinator_rss_mib_peak"
            case coordinatorRSSMiBByQuarter = "coordinator_rss_mib_by_quarter"
            case storeCommitsPerSecond = "store_commits_per_second"
            case diskWriteMiBPerSecond = "disk_write_mib_per_second"
        }
    }

    func run() throws {
        try OptionBounds.check(workers, in: 1...10_000, "--workers")
        try OptionBounds.check(threads, in: OptionBounds.threads, "--threads")
        try OptionBounds.check(resultMib, in: 0...256, "--result-mib")
        try OptionBounds.check(resultsPerSecond, in: 0.001...10_000, "--results-per-second")
        try OptionBounds.check(seconds, in: 0.1...86_400, "--seconds")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sift-bench-coordinator-\(getpid())")
            .path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let logPath = "\(folder)/coordinator.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        // Enough tasks that no worker runs out: one each, plus every result the run can return.
        let tasks = workers + Int(resultsPerSecond * seconds * 2) + 10
        let coordinator = Process()
        coordinator.executableURL = thisExecutable
        coordinator.arguments = [
            "coordinator", "--out", "\(folder)/out", "--bind", "tcp://127.0.0.1:0",
            "--sleep-tasks", String(tasks), "--sleep-write", "--parent", String(getpid()),
        ]
        coordinator.standardOutput = log
        coordinator.standardError = log
        // The coordinator stops when this process is gone, however it ends (a SIGTERM from `timeout`, say).
        try coordinator.run()
        defer { if coordinator.isRunning { coordinator.terminate(); coordinator.waitUntilExit() } }
        let endpoint = try waitForEndpoint(logPath, coordinator: coordinator)

        let pid = coordinator.processIdentifier
        let startCPU = cpuSeconds(pid), startRSS = residentMiB(pid), startWritten = writtenMiB(pid)
        let wallStart = Date()
        // Resident memory once a second (8 times a quarter in runs under 32 s), by quarter of the run. A single
        // sample jumps by whole results in flight (15 MiB each), so each quarter reports its median.
        let samples = Mutex<[[Double]]>(Array(repeating: [], count: 4))
        let samplerDone = Mutex(false)
        let sampler = Thread { [seconds] in
            let interval = min(1, seconds / 32)
            var tick = interval
            while tick < seconds {
                Thread.sleep(until: wallStart.addingTimeInterval(tick))
                let quarter = min(3, Int(4 * tick / seconds)), rss = self.residentMiB(pid)
                if rss > 0 { samples.withLock { $0[quarter].append(rss) } }
                tick += interval
            }
            samplerDone.withLock { $0 = true }
        }
        sampler.start()
        let simulation = SimulatedWorkers(
            settings: .init(
                workers: workers, threads: threads, resultBytes: Int(resultMib * 1_048_576),
                resultsPerSecond: resultsPerSecond, heartbeatInterval: 1,
                build: SiftBuild.identifier),
            endpoint: endpoint)
        let tally = try simulation.run(seconds: seconds)
        let wall = Date().timeIntervalSince(wallStart)
        let cpu = cpuSeconds(pid) - startCPU, endRSS = residentMiB(pid), peakRSS = peakResidentMiB(pid)
        let written = writtenMiB(pid) - startWritten
        coordinator.terminate()
        coordinator.waitUntilExit()
        while !samplerDone.withLock({ $0 }) { usleep(10_000) }

        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let expiries = text.split(separator: "\n").filter { $0.contains("expired") || $0.contains("fell silent") }.count
        // The coordinator's last line: "…, store commits N in T s".
        var commitRate: Double?
        if let range = text.range(of: "store commits ", options: .backwards) {
            let words = text[range.upperBound...].split(separator: " ")
            if words.count >= 3, let commits = Double(words[0]), let span = Double(words[2]), span > 0 {
                commitRate = commits / span
            }
        }
        let ramp = tally.rampSeconds ?? .infinity
        let steady = tally.roundTrips.filter { $0.sent > ramp }.map(\.seconds)
        let all = tally.roundTrips.map(\.seconds)
        func milliseconds(_ p: Double, of trips: [Double]) -> Double? {
            Self.percentile(p, of: trips).map { $0 * 1000 }
        }
        let figures = Figures(
            workers: workers, seconds: wall, resultMib: resultMib, resultsPerSecondTarget: resultsPerSecond,
            resultsAcknowledgedPerSecond: Double(tally.resultsAcknowledged) / wall,
            rampSeconds: tally.rampSeconds,
            heartbeatRoundTripP50Ms: milliseconds(0.5, of: steady),
            heartbeatRoundTripP99Ms: milliseconds(0.99, of: steady),
            heartbeatRoundTrips: steady.count, heartbeatRoundTripP99MsWithRamp: milliseconds(0.99, of: all),
            falseLeaseExpiries: expiries, revoked: tally.revoked,
            refused: tally.refused, coordinatorCPUPercent: 100 * cpu / wall,
            coordinatorRSSMiBStart: startRSS, coordinatorRSSMiBEnd: endRSS, coordinatorRSSMiBPeak: peakRSS,
            coordinatorRSSMiBByQuarter: samples.withLock { $0 }.compactMap { Self.percentile(0.5, of: $0) },
            storeCommitsPerSecond: commitRate,
            diskWriteMiBPerSecond: written / wall)
        try printJSONLine(figures)
    }

    /// The endpoint the coordinator announces once it listens (port 0 resolved).
    private func waitForEndpoint(_ logPath: String, coordinator: Process) throws -> String {
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8),
                let range = text.range(of: "listening on ")
            {
                let rest = text[range.upperBound...]
                if let end = rest.firstIndex(where: { $0 == " " || $0 == ";" || $0 == "\n" }) {
                    return String(rest[..<end])
                }
            }
            guard coordinator.isRunning else { throw CommandFailure("the coordinator exited; its log: \(logPath)") }
            usleep(50_000)
        }
        throw CommandFailure("the coordinator did not start listening within 30 s; its log: \(logPath)")
    }

    /// The value below which a fraction `p` of `values` lies (nearest rank), or nil for none.
    private static func percentile(_ p: Double, of values: [Double]) -> Double? {
        let sorted = values.sorted()
        return sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))]
    }

    /// User and system CPU seconds of a process, from /proc/<pid>/stat.
    private func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 0, utime 11, stime 12 (fields 14 and 15 of proc(5)).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private func residentMiB(_ pid: Int32) -> Double { procField("status", "VmRSS:", pid) / 1024 }
    private func peakResidentMiB(_ pid: Int32) -> Double { procField("status", "VmHWM:", pid) / 1024 }
    /// Bytes the process has caused to be written to storage, in MiB.
    private func writtenMiB(_ pid: Int32) -> Double { procField("io", "write_bytes:", pid) / 1_048_576 }

    /// The number after `name` on its line of /proc/<pid>/<file> ("VmRSS:   1234 kB"), or 0.
    private func procField(_ file: String, _ name: String, _ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let value = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return value
    }
}
