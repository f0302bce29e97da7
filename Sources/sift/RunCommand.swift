import ArgumentParser
import Dispatch
import Foundation
import SiftSweep

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every chain of a sweep on this machine, several at a time.",
        discussion: """
        Expands the sweep (variants × grid × seeds) and runs each chain as a `sift imp` child process, \
        writing OUT/experiments/<hash>/seed-<s>/level-<k>/ and a log.txt per chain. Chains already \
        complete are skipped, so running the same command again resumes. Then run `sift report OUT`.
        """)

    @Argument(help: "Sweep or experiment config (YAML).") var config: String
    @Option(help: "Chains run at once (default: the number of cores).") var workers: Int?
    @Option(help: "Output folder (default: runs/<sweep name>).") var out: String?
    @Option(help: "BLAS threads per chain.") var threads = 1

    func run() throws {
        let sweep = try SweepConfig.load(path: config)
        let stem = ((config as NSString).lastPathComponent as NSString).deletingPathExtension
        let root = out ?? "runs/\(sweep.name.map { $0.replacingOccurrences(of: " ", with: "-") } ?? stem)"
        let layout = SweepLayout(root: root)
        var chains: [ChainPool.Chain] = []
        var skipped = 0
        for experiment in sweep.experiments {
            let folder = layout.experimentDirectory(experiment)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(experiment.canonicalYAML.utf8).write(to: URL(fileURLWithPath: "\(folder)/experiment.yaml"))
            for seed in experiment.seeds {
                if layout.isComplete(experiment, seed: seed) { skipped += 1; continue }
                chains.append(ChainPool.Chain(label: "\(experiment.name ?? experiment.shortHash) seed \(seed)",
                                              arguments: ["imp", "\(folder)/experiment.yaml", "--seed", String(seed),
                                                          "--out", layout.chainDirectory(experiment, seed: seed),
                                                          "--threads", String(threads)],
                                              log: "\(layout.chainDirectory(experiment, seed: seed))/log.txt"))
            }
        }
        let workers = max(1, self.workers ?? ProcessInfo.processInfo.activeProcessorCount)
        say("sweep \(sweep.name ?? stem): \(sweep.experiments.count) experiment(s), \(chains.count + skipped) chain(s)"
              + (skipped > 0 ? ", \(skipped) already complete" : "") + "; \(workers) at a time; output in \(root)")
        let failures = try ChainPool(chains: chains, workers: workers).run()
        guard failures.isEmpty else {
            for failure in failures { say("FAILED \(failure.label): see \(failure.log)") }
            throw ExitCode(1)
        }
        say("sweep complete. Next: sift report \(root)")
    }
}

/// Runs `sift imp` child processes, a few at a time, with progress on stdout.
final class ChainPool {
    struct Chain {
        var label: String
        var arguments: [String]
        var log: String
    }

    let chains: [Chain]
    let workers: Int
    private let interactive = isatty(STDOUT_FILENO) != 0

    init(chains: [Chain], workers: Int) {
        self.chains = chains
        self.workers = workers
    }

    /// The running binary, so children are the same build even if the file is rebuilt meanwhile:
    /// on Linux /proc/self/exe names this process's own executable, replaced on disk or not.
    static var executable: String {
        FileManager.default.fileExists(atPath: "/proc/self/exe") ? "/proc/self/exe" : CommandLine.arguments[0]
    }

    /// Returns the chains that failed. SIGINT or SIGTERM stops every child before returning.
    func run() throws -> [Chain] {
        var queue = chains[...]
        var running: [(Chain, Process)] = []
        var failed: [Chain] = []
        var done = 0
        let start = Date()
        var stopping = false
        let stopFlag = StopFlag.onTermination()

        while !queue.isEmpty || !running.isEmpty {
            if stopFlag.isSet && !stopping {
                stopping = true
                queue.removeAll()
                say("\nstopping: ending \(running.count) running chain(s); rerun the same command to resume")
                for (_, process) in running { process.terminate() }
            }
            while running.count < workers, let chain = queue.popFirst() {
                do {
                    running.append((chain, try launch(chain)))
                } catch {
                    for (_, process) in running { process.terminate() }
                    throw error
                }
            }
            usleep(200_000)
            for (chain, process) in running where !process.isRunning {
                if process.terminationStatus == 0 {
                    done += 1
                    if !interactive { say("done \(chain.label)") }
                } else if !stopping {
                    failed.append(chain)
                    say("\(interactive ? "\n" : "")failed \(chain.label) (exit \(process.terminationStatus)): \(chain.log)")
                }
            }
            running.removeAll { !$0.1.isRunning }
            if interactive {
                let elapsed = Date().timeIntervalSince(start)
                // Chains finish at done/elapsed per second with every worker busy.
                let eta = done > 0 ? elapsed * Double(queue.count + running.count) / Double(done) : 0
                var line = "chains: \(done) done · \(running.count) running · \(queue.count) queued · \(failed.count) failed · \(clock(elapsed))"
                    + (done > 0 ? " · ETA ~\(clock(eta))" : "")
                if let (chain, _) = running.first, let latest = Self.lastLine(of: chain.log) {
                    line += " | \(chain.label): \(latest)"
                }
                FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
            }
        }
        if interactive { say("") }
        if stopping { throw ExitCode(130) }
        return failed
    }

    /// The last line a chain logged (its current level and epoch), from the end of its log.
    static func lastLine(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 2048 ? size - 2048 : 0)
        let tail = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return tail.split(separator: "\n").last.map { String($0.prefix(110)) }
    }

    private func launch(_ chain: Chain) throws -> Process {
        try FileManager.default.createDirectory(atPath: (chain.log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: chain.log, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: chain.log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = chain.arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    private func clock(_ seconds: Double) -> String {
        let s = Int(seconds)
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
