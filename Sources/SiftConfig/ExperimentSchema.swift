import SiftSpec

private func positive(_ v: Double) -> String? { v > 0 ? nil : "must be greater than 0" }
private func fraction(_ v: Double) -> String? { v >= 0 && v < 1 ? nil : "must be in [0, 1)" }
private func unitInterval(_ v: Double) -> String? { v >= 0 && v <= 1 ? nil : "must be in [0, 1]" }
private func openFraction(_ v: Double) -> String? { v > 0 && v < 1 ? nil : "must be in (0, 1)" }
private func subsetFraction(_ v: Double) -> String? { v > 0 && v <= 1 ? nil : "must be in (0, 1]" }
/// A default that does not depend on the preset.
private func always<Value: Sendable>(_ value: Value) -> @Sendable (PruningPreset) -> Value { { _ in value } }
private func classIndex(_ v: Double) -> String? { v >= 0 && v == v.rounded() ? nil : "must be class indices (0, 1, …)" }

/// The names `data.dataset` takes, one for each kind of `DataSource` (whose cases carry the settings).
enum DatasetName: String, CaseIterable, Sendable {
    case fashionMNIST = "fashion_mnist"
    case mnist, cifar10, arrays, nlgp
}

/// An experiment's spec while the fields are applied one by one. The data source combines several
/// keys (the dataset, its paths and the nlgp settings), so it is assembled once they are all in.
struct SpecDraft {
    var dataset = DatasetName.fashionMNIST
    var path: String?
    var testPath: String?
    var grayscale = false
    var nlgp = NLGPSettings()
    var cloneEveryClass = false
    var cloneClasses: [Double]?
    var transforms = DataTransforms()
    var widths: [Int] = []
    var model = ModelSpec(widths: [])
    /// model.sparse_below as set; unset, it follows the batch (`ModelSpec.defaultSparseBelow(batch:)`).
    var sparseBelow: Double?
    var train = TrainSpec()
    var pruning: PruningSpec

    init(preset: PruningPreset) { pruning = PruningSpec(preset: preset) }
}

/// The spec structs' own defaults, which the schema's defaults read: each default is declared once, in the
/// spec (`ExperimentSchemaTests` checks that an empty config resolves to them).
private let model = ModelSpec(widths: [])
private let train = TrainSpec()
private let transforms = DataTransforms()
private let nlgp = NLGPSettings()

enum ExperimentSchema {
    static let fields: [ConfigField] = [
        .choice(
            "data.dataset", DatasetName.self, "which data: fashion_mnist, mnist, cifar10, arrays (.npz) or nlgp",
            default: always(.fashionMNIST)
        ) { $0.dataset = $1 },
        .optionalString("data.path", "folder of IDX or CIFAR files, or the training .npz for arrays") { $0.path = $1 },
        .optionalString("data.test_path", "the test .npz for arrays") { $0.testPath = $1 },
        .bool("data.grayscale", "cifar10 only: convert to one luma channel", default: always(false)) {
            $0.grayscale = $1
        },
        .choice(
            "data.normalization", Normalization.self, "standardise, mean_image or none (training statistics)",
            default: always(transforms.normalization)
        ) { $0.transforms.normalization = $1 },
        .bool(
            "data.scramble", "apply one fixed, seeded permutation of pixel positions",
            default: always(transforms.scramble)
        ) { $0.transforms.scramble = $1 },
        .bool(
            "data.shuffle_labels", "shuffle the training labels (a memorisation control)",
            default: always(transforms.shuffleLabels)
        ) {
            $0.transforms.shuffleLabels = $1
        },
        .bool(
            "data.gaussian_clone", "redraw every image from its class's Gaussian (training mean and covariance)",
            default: always(transforms.gaussianClone)
        ) {
            $0.transforms.gaussianClone = $1
        },
        .double(
            "data.subset", subsetFraction, "fraction of the training set kept",
            default: always(transforms.subsetFraction)
        ) { $0.transforms.subsetFraction = $1 },
        .intOrPath("data.reclass", "labels mod k, or a mapping file with one new label per line") {
            $0.transforms.reclass = $1
        },
        .int("data.nlgp.side", minimum: 2, maximum: 64, "nlgp: image side L", default: always(nlgp.side)) {
            $0.nlgp.side = $1
        },
        .doubles(
            "data.nlgp.xi", positive, "nlgp: correlation length of each class, in pixels",
            default: nlgp.correlationLengths
        ) {
            $0.nlgp.correlationLengths = $1 ?? []
        },
        .double("data.nlgp.gain", positive, "nlgp: gain g of the erf nonlinearity", default: always(nlgp.gain)) {
            $0.nlgp.gain = $1
        },
        .bool("data.nlgp.periodic", "nlgp: periodic distance on the grid", default: always(nlgp.periodic)) {
            $0.nlgp.periodic = $1
        },
        .bool("data.nlgp.clone", "nlgp: draw every class from the Gaussian clone instead", default: always(false)) {
            $0.cloneEveryClass = $1
        },
        .doubles(
            "data.nlgp.clone_classes", classIndex,
            "nlgp: indices of the classes drawn from the clone (e.g. [1] with xi [3, 3]: NLGP against its own clone)",
            default: nil
        ) { $0.cloneClasses = $1 },
        .int(
            "data.nlgp.train_size", minimum: 1, maximum: 10_000_000, "nlgp: training samples",
            default: always(nlgp.trainCount)
        ) { $0.nlgp.trainCount = $1 },
        .int(
            "data.nlgp.test_size", minimum: 1, maximum: 10_000_000, "nlgp: test samples",
            default: always(nlgp.testCount)
        ) { $0.nlgp.testCount = $1 },

        .architecture(
            "model.arch", "input-hidden…-classes, e.g. 784-1024-1024-1024-10", default: "784-1024-1024-1024-10"
        ) {
            $0.widths = $1
        },
        .choice("model.activation", Activation.self, "relu, tanh or erf", default: always(model.activation)) {
            $0.model.activation = $1
        },
        .bool("model.batch_norm", "batch-normalise every layer's input", default: always(model.batchNorm)) {
            $0.model.batchNorm = $1
        },
        .double("model.batch_norm_eps", positive, "batch norm epsilon", default: always(model.batchNormEpsilon)) {
            $0.model.batchNormEpsilon = $1
        },
        .double("model.batch_norm_decay", fraction, "running-statistics decay", default: always(model.batchNormDecay)) {
            $0.model.batchNormDecay = $1
        },
        .choice("model.init", InitScheme.self, "glorot or kaiming (normal)", default: always(model.initScheme)) {
            $0.model.initScheme = $1
        },
        .choice("model.loss", LossKind.self, "cross_entropy or mse", default: always(model.loss)) {
            $0.model.loss = $1
        },
        .optionalDouble(
            "model.sparse_below", unitInterval,
            "a layer keeping less than this fraction of its weights trains on the sparse path, whose cost follows density (0: always dense); it draws the same network either way, and the paths agree to float rounding",
            unsetMeans: ModelSpec.defaultSparseBelowRule
        ) { $0.sparseBelow = $1 },

        .choice("train.optimizer", OptimizerKind.self, "sgd or adam", default: always(train.optimizer)) {
            $0.train.optimizer = $1
        },
        .double("train.lr", positive, "learning rate", default: always(train.learningRate)) {
            $0.train.learningRate = $1
        },
        .double("train.momentum", fraction, "SGD momentum", default: always(train.momentum)) { $0.train.momentum = $1 },
        .double("train.adam_beta1", fraction, "Adam β1", default: always(train.adamBeta1)) { $0.train.adamBeta1 = $1 },
        .double("train.adam_beta2", fraction, "Adam β2", default: always(train.adamBeta2)) { $0.train.adamBeta2 = $1 },
        .double("train.adam_eps", positive, "Adam ε", default: always(train.adamEpsilon)) { $0.train.adamEpsilon = $1 },
        .int("train.batch", minimum: 1, maximum: 1_000_000, "mini-batch size", default: always(train.batchSize)) {
            $0.train.batchSize = $1
        },
        .int("train.epochs", minimum: 0, maximum: 1_000_000, "epochs per level", default: always(train.epochs)) {
            $0.train.epochs = $1
        },
        .optionalInt(
            "train.steps", minimum: 0, maximum: 1_000_000_000,
            "updates per level, instead of train.epochs (the paper counts steps)"
        ) {
            $0.train.steps = $1
        },
        .choice(
            "train.sampling", BatchSampling.self, "shuffle (per epoch) or replacement", default: always(train.sampling)
        ) { $0.train.sampling = $1 },
        .int(
            "train.eval_every", minimum: 1, "evaluate test accuracy every this many epochs",
            default: always(train.evalEveryEpochs)
        ) { $0.train.evalEveryEpochs = $1 },
        .optionalInt(
            "train.eval_every_steps", minimum: 1,
            "evaluate test accuracy every this many steps instead (best_test_accuracy is the best)"
        ) {
            $0.train.evalEverySteps = $1
        },
        .int(
            "train.recalibration_batches", minimum: 0, maximum: 100_000,
            "with batch norm: training batches over which each level's statistics are measured again under its final weights for test_accuracy_recalibrated (0: off)",
            default: always(train.recalibrationBatches)
        ) { $0.train.recalibrationBatches = $1 },

        .choice("pruning.preset", PruningPreset.self, "paper, lth or global (science §4)", default: always(.paper)) {
            _, _ in
            // Read first, to start the draft's pruning from the preset (`SpecDraft.init`).
        },
        .choice(
            "pruning.scope", PruningScope.self, "layerwise or global ranking",
            default: { PruningSpec(preset: $0).scope }
        ) { $0.pruning.scope = $1 },
        .double(
            "pruning.rate", openFraction, "fraction of alive weights removed per level",
            default: { PruningSpec(preset: $0).rate }
        ) { $0.pruning.rate = $1 },
        .doubles(
            "pruning.layer_rates", fraction, "one rate per layer (output included), overriding rate and output_rate",
            default: nil
        ) { $0.pruning.layerRates = $1 },
        .double(
            "pruning.output_rate", fraction, "rate of the output layer (0: not pruned)",
            default: { PruningSpec(preset: $0).outputRate }
        ) { $0.pruning.outputRate = $1 },
        .bool(
            "pruning.prune_biases", "rank biases with their layer's weights",
            default: { PruningSpec(preset: $0).pruneBiases }
        ) { $0.pruning.pruneBiases = $1 },
        .int(
            "pruning.rewind_step", minimum: 0, "dense-run step every level restarts from (0: init)",
            default: { PruningSpec(preset: $0).rewindStep }
        ) { $0.pruning.rewindStep = $1 },
        .int(
            "pruning.max_levels", minimum: 0, maximum: 1_000, "most pruning rounds",
            default: { PruningSpec(preset: $0).maxLevels }
        ) { $0.pruning.maxLevels = $1 },
        .double(
            "pruning.stop_fraction", unitInterval, "stop when a hidden layer keeps this fraction of connected units",
            default: { PruningSpec(preset: $0).stopConnectedFraction }
        ) { $0.pruning.stopConnectedFraction = $1 },
        .choice(
            "pruning.control", PruningControl.self, "none, one_shot, random, shuffled or reinit",
            default: { PruningSpec(preset: $0).control }
        ) {
            $0.pruning.control = $1
        },
    ]

    /// Sections that group keys; a key under any other mapping is unknown.
    static let sections: Set<String> = ["data", "data.nlgp", "model", "train", "pruning"]

    /// Top-level keys that describe a config without changing its experiment.
    static let metadataKeys: Set<String> = ["name", "description", "seeds"]
}

/// One line of the config reference, for `sift config keys` and docs/config.md.
package struct ConfigKeyReference: Sendable {
    package var key: String
    /// The default under the `paper` preset, a note where the preset decides, or what an unset value stands for.
    package var defaultText: String
    package var help: String
    /// What leaving the key unset stands for, where other keys decide it (nil for a plain default).
    package var unsetMeans: String?

    package static var all: [ConfigKeyReference] {
        ExperimentSchema.fields.map { field in
            let values = PruningPreset.allCases.map { field.defaultValue($0) }
            let text: String
            if let unsetMeans = field.unsetMeans {
                text = "unset: \(unsetMeans)"
            } else if values.allSatisfy({ $0 == values[0] }) {
                text = values[0] == .null ? "unset" : values[0].canonicalJSON
            } else {
                text = zip(PruningPreset.allCases, values).map { "\($0.rawValue): \($1.canonicalJSON)" }.joined(
                    separator: ", ")
            }
            return ConfigKeyReference(key: field.key, defaultText: text, help: field.help, unsetMeans: field.unsetMeans)
        }
    }

    /// Every key with its defaults, one `key = default` line each: what the build identifier digests,
    /// so two builds whose defaults differ never pass for one.
    package static var defaultsTable: String {
        all.map { "\($0.key) = \($0.defaultText)" }.joined(separator: "\n")
    }
}
