/// Where a level's wall time went, in seconds: what bounds a chain's cost besides its training, level by
/// level (`Scripts/bench-chain.sh` prints it). The parts run one after another, except the ablation and the
/// locality analysis, which run side by side with two threads or more; and in `sift imp` with a spare core,
/// the recalibration, ablation, locality and files run beside the next level's training, outside the
/// chain's wall time.
public struct LevelTimings: Codable, Sendable, Equatable {
    /// Reading and preparing the data for this level (0 when the process had them already).
    public var loading: Double
    /// The updates, test evaluations left out.
    public var training: Double
    /// The test-accuracy evaluations during training, and with batch norm the statistics' recalibration and
    /// the evaluation that reads them (`test_accuracy_recalibrated`).
    public var evaluation: Double
    /// The ablation curves' evaluations with units silenced.
    public var ablation: Double
    /// The locality analysis of the masks (science §6), null draws included.
    public var locality: Double
    /// Encoding the level's arrays into its files (metrics.json, which holds this, is encoded after).
    public var files: Double

    // Memberwise, and public: Swift synthesizes only an internal one.
    public init(
        loading: Double = 0, training: Double, evaluation: Double, ablation: Double, locality: Double, files: Double = 0
    ) {
        self.loading = loading
        self.training = training
        self.evaluation = evaluation
        self.ablation = ablation
        self.locality = locality
        self.files = files
    }

    /// Every part but the updates.
    public var outsideTraining: Double { loading + evaluation + ablation + locality + files }

    enum CodingKeys: String, CodingKey {
        case loading = "loading_seconds"
        case training = "training_seconds"
        case evaluation = "evaluation_seconds"
        case ablation = "ablation_seconds"
        case locality = "locality_seconds"
        case files = "files_seconds"
    }
}
