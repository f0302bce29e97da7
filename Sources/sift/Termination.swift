import Dispatch
import Foundation

/// Writes a line to stdout at once, so logs of long sweeps are current even when stdout is a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A flag set from a signal handler's queue and read by a command's main loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

extension StopFlag {
    /// A flag set by SIGINT or SIGTERM; the handlers live as long as the process.
    static func onTermination() -> StopFlag {
        let flag = StopFlag()
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

nonisolated(unsafe) private var retainedSignalSources: [DispatchSourceSignal] = []
