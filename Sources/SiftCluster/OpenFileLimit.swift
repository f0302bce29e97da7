import Foundation

/// Every worker connection is an open file in the coordinator (and every simulated worker two in the
/// benchmark), and many systems start a process at 1,024: raising the soft limit to the hard one is what
/// lets one coordinator hold thousands of workers without `ulimit -n` in every launch script.
package enum OpenFileLimit {
    /// Raises the soft limit on open files to the hard limit; returns the limit now in force.
    @discardableResult
    package static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resourceNumber, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resourceNumber, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)  // unlimited (all ones) clamps to Int.max
    }

    #if os(Linux)
        private static let resourceNumber = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resourceNumber = RLIMIT_NOFILE
    #endif
}
