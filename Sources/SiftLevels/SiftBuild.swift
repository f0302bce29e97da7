import SiftDigest
import Foundation
import SiftEngine
import SiftConfig
import SiftWire

/// Which build a coordinator and its workers run: results are only byte-identical within one build.
///
/// The identifier is derived, not typed, from everything that decides a level's bytes: the version,
/// the wire protocol, the engine's numerics revision, the BLAS library's version and the table of
/// config defaults (a task carries every setting, but a changed default changes what a sweep means).
package enum SiftBuild {
    package static let version = "0.1.0"

    /// Raised by hand with any engine change that alters a result's bytes while every default stays
    /// (a kernel's order of summation, a new random draw). 2: `model.sparse_below` left the random streams' root.
    package static let engineRevision = 2

    /// This binary's build.
    package static let identifier = identifier(defaults: ConfigKeyReference.defaultsTable, blas: BLAS.libraryVersion)

    /// The identifier of a build with this defaults table and BLAS version (and this binary's version,
    /// protocol and engine revision): `sift-<version>-wire<protocol>-engine<revision>-<digest>`.
    package static func identifier(defaults: String, blas: String) -> String {
        let digest = Array(SHA256.hash("defaults:\n\(defaults)\nblas: \(blas)\n").prefix(6)).hexDigits
        return "sift-\(version)-wire\(WireMessage.protocolVersion)-engine\(engineRevision)-\(digest)"
    }
}
