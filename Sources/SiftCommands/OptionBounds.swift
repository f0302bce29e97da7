import ArgumentParser
import Foundation
import SiftCluster

/// Bounds on the numbers the command line takes: a count past them (100,000 local workers, say) would
/// exhaust the machine rather than run, so it is a usage error that names the option and its range.
package enum OptionBounds {
    package static func check<Value: Comparable>(
        _ value: Value, in range: ClosedRange<Value>, _ option: String, hint: String = ""
    ) throws {
        guard range.contains(value) else {
            throw ValidationError(
                "\(option) must be between \(range.lowerBound) and \(range.upperBound), got \(value)\(hint)")
        }
    }

    package static func check(_ value: Double, in range: ClosedRange<Double>, _ option: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError(
                "\(option) must be a number between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    /// BLAS and kernel threads of one process.
    package static let threads = 1...256

    /// Local worker processes: 4 per core, or with --force up to 1,024 (each holds a connection and a log file).
    static func workers(forced: Bool) -> ClosedRange<Int> {
        1...(forced ? 1_024 : 4 * AvailableCores.count)
    }
}
