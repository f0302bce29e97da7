import Foundation

/// The one coordinator of a sweep folder: an exclusive advisory lock (flock) on OUT/sweep.lock, held
/// while the coordinator runs. The kernel drops it when the process ends, however it ends, so a
/// coordinator killed mid-sweep leaves nothing to clean up. The file names the holder, so that a
/// second coordinator can say who runs the sweep.
package final class StoreLock {
    package let path: String
    private let descriptor: Int32

    /// A second coordinator or `sift run` on the same folder, refused before it touches the store.
    package struct Held: Error, CustomStringConvertible {
        package var path: String
        package var holder: String
        package var description: String {
            "\(path) is held by another coordinator (\(holder)); one coordinator per sweep folder: stop it, or give another --out"
        }
    }

    /// The lock file cannot be made (a read-only disk, a folder of another user): nothing else holds the sweep.
    package struct Unwritable: Error, CustomStringConvertible {
        package var path: String
        package var reason: String
        package var description: String {
            "cannot create \(path): \(reason); a coordinator needs its sweep folder writable (sift status and sift report only read it)"
        }
    }

    /// The lock file exists but the file system refused the lock itself (some network file systems keep
    /// no locks): nothing is known to hold the sweep, and a coordinator here could not tell if another did.
    package struct Unlockable: Error, CustomStringConvertible {
        package var path: String
        package var reason: String
        package var description: String {
            "cannot lock \(path): \(reason); put the sweep folder on a file system with locks (a local disk, or NFS with its lock service)"
        }
    }

    /// Takes the lock of `directory` or throws `Held`, naming the holder, `Unwritable` or `Unlockable`.
    package init(directory: String, now: Date = Date()) throws {
        path = (directory as NSString).appendingPathComponent("sweep.lock")
        // Close-on-exec: the workers `sift run` starts must not inherit (and so keep) the lock.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Unwritable(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let cause = errno
            guard cause == EWOULDBLOCK else {
                close(fd)
                throw Unlockable(path: path, reason: String(cString: strerror(cause)))
            }
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            close(fd)
            throw Held(
                path: path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "a process that has not said who it is")
        }
        descriptor = fd
        let stamp = ISO8601DateFormatter().string(from: now)
        let note = "host \(ProcessInfo.processInfo.hostName), pid \(getpid()), since \(stamp)\n"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
