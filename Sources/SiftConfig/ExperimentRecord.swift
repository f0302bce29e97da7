import Foundation
import SiftFiles

/// What `experiment.json` records beside an experiment's chains: its name (the report's label),
/// hash, canonical form and, for a single chain, the seed.
package struct ExperimentRecord: Encodable {
    package var name: String?
    package var experiment: String
    package var hash: String
    package var seed: UInt64?
    package var config: String
    package var canonical: String

    package init(_ config: ExperimentConfig, seed: UInt64? = nil) {
        name = config.name
        experiment = config.shortHash
        hash = config.hash
        self.seed = seed
        self.config = config.source
        canonical = config.canonicalJSON
    }

    package func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileBytes.writeAtomically([UInt8](try encoder.encode(self)), to: path)
    }
}
