import Dispatch
import Foundation
import Synchronization

/// Writes a line to stdout at once, so logs of long sweeps are current even when stdout is a file.
package func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A flag set from a signal handler's queue and read by a command's main loop. It counts the
/// signals, so that a second Ctrl-C can mean "now" where the first means "when you can".
package final class StopFlag: Sendable {
    private let count = Mutex(0)
    func set() { count.withLock { $0 += 1 } }
    package var isSet: Bool { count.withLock { $0 > 0 } }
    /// Whether a stop was asked for twice.
    var isUrgent: Bool { count.withLock { $0 > 1 } }
}

extension StopFlag {
    /// A flag set by SIGINT or SIGTERM; the handlers live as long as the process.
    package static func onTermination() -> StopFlag {
        let flag = StopFlag()
        // A parent may start us with these signals blocked (test runners and some launchers do): then no
        // Ctrl-C or SIGTERM would ever arrive. Unblock them before any thread inherits the mask.
        var wanted = sigset_t()
        sigemptyset(&wanted)
        sigaddset(&wanted, SIGINT)
        sigaddset(&wanted, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { flag.set() }
            source.resume()
            retainedSignalSources.append(source)
        }
        return flag
    }
}

/// The signal sources, kept alive for the process's life. Unsafe but sound: appended to only by
/// `onTermination`, which commands call once from the main thread, and never read; Dispatch's sources
/// are not Sendable on Linux, so no Mutex can hold them.
nonisolated(unsafe) private var retainedSignalSources: [DispatchSourceSignal] = []
