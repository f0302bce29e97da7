import Foundation
import SiftData
import SiftFiles

/// What `experiment.json` records beside an experiment's chains: its name (the report's label),
/// hash, canonical form and, for a single chain, the seed.
public struct ExperimentRecord: Encodable {
    public var name: String?
    public var experiment: String
    public var hash: String
    public var seed: UInt64?
    public var config: String
    public var canonical: String

    public init(_ config: ExperimentConfig, seed: UInt64? = nil) {
        name = config.name
        experiment = config.shortHash
        hash = config.hash
        self.seed = seed
        self.config = config.source
        canonical = config.canonicalJSON
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileBytes.writeAtomically([UInt8](try encoder.encode(self)), to: path)
    }
}
