import Foundation

/// The cores this process may run on: its CPU affinity set, which Slurm, cgroups' cpusets and `taskset`
/// narrow (ProcessInfo.activeProcessorCount counts the whole machine's).
package enum AvailableCores {
    /// The affinity set as the kernel prints it in /proc/self/status ("Cpus_allowed:", 32-bit hex words,
    /// highest first; read there because Glibc's module does not export sched_getaffinity); nil off Linux.
    static func mask() -> String? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return nil }
        return line.dropFirst("Cpus_allowed:".count).trimmingCharacters(in: .whitespaces)
    }

    package static var count: Int {
        let fallback = ProcessInfo.processInfo.activeProcessorCount
        guard let mask = mask() else { return fallback }
        let words = mask.split(separator: ",").compactMap { UInt32($0, radix: 16) }
        let count = words.reduce(0) { $0 + $1.nonzeroBitCount }
        return count > 0 ? count : fallback
    }

    /// A name for the affinity set, the same for every process that may run on the same cores.
    static var setName: String {
        let mask = mask()?.replacingOccurrences(of: ",", with: "") ?? ""
        let trimmed = mask.drop { $0 == "0" }
        return trimmed.isEmpty ? "all" : String(trimmed)
    }
}

/// Shares a node's cores between its `sift worker --threads auto` processes: each one running a level
/// holds a lock on a file of its own in a folder that every worker on the same cores shares, and takes
/// `ThreadShare.threads` of those cores, recounted while it runs. A sweep of many chains keeps one thread
/// a worker; as it drains, the workers left running take the cores the idle ones freed. The bytes of a
/// level do not depend on its thread count, so the share changes only the time.
package final class NodeCores: Sendable {
    private let folder: String
    private let ownName: String
    private let cores: Int
    private let lock: Int32

    /// `folder`: where the workers' lock files live (by default one folder per user and affinity set under
    /// the temporary directory, which is the node's own).
    package init(folder: String? = nil, cores: Int = AvailableCores.count, pid: Int32 = getpid()) throws {
        self.folder = folder ?? "\(NSTemporaryDirectory())/sift-cores-\(getuid())-\(AvailableCores.setName)"
        self.cores = max(1, cores)
        ownName = String(pid)
        let path = "\(self.folder)/\(ownName)"
        do {
            try FileManager.default.createDirectory(atPath: self.folder, withIntermediateDirectories: true)
        } catch {
            throw Unusable(path: self.folder, reason: error.localizedDescription)
        }
        lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw Unusable(path: path, reason: String(cString: strerror(errno))) }
    }

    /// The folder or lock file `--threads auto` needs could not be made.
    package struct Unusable: Error, CustomStringConvertible {
        package var path: String
        package var reason: String
        package var description: String {
            "--threads auto shares cores through \(path), which cannot be written (\(reason)); give a thread count instead"
        }
    }

    deinit {
        if lock >= 0 { close(lock) }
        unlink("\(folder)/\(ownName)")
    }

    /// Marks this worker as running a level (until `idle`).
    package func working() { _ = flock(lock, LOCK_EX) }

    package func idle() { _ = flock(lock, LOCK_UN) }

    /// Threads for this worker now: its share of the cores among itself and the other workers running a level.
    package func threads() -> Int {
        ThreadShare.threads(cores: cores, others: otherBusyWorkers(), me: ownName)
    }

    /// The names (pids) of the other workers holding their lock. Files of workers that are gone are removed.
    func otherBusyWorkers() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { name in
            guard name != ownName else { return false }
            let path = "\(folder)/\(name)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return true }
            _ = flock(fd, LOCK_UN)
            if let pid = Int32(name), kill(pid, 0) != 0 && errno == ESRCH { unlink(path) }
            return false
        }
    }
}

/// How busy workers split a node's cores: evenly, the remainder going to the first workers by name, so
/// every worker computes the same split from the same list and no core is left over.
package enum ThreadShare {
    package static func threads(cores: Int, others: [String], me: String) -> Int {
        let all = Set(others + [me]).sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }
        let rank = all.firstIndex(of: me) ?? 0
        let share = cores / all.count, extra = cores % all.count
        return max(1, share + (rank < extra ? 1 : 0))
    }
}
