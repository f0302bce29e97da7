import SiftData
import SiftEngine

/// Every key an experiment config may set: its type, its check and its default.
///
/// Pruning defaults depend on the preset, so a default is a function of it.
struct ConfigField: Sendable {
    enum Kind: Sendable {
        case bool
        case int(minimum: Int)
        case double(check: @Sendable (Double) -> String?)
        case choice([String])
        case string
        case doubles(check: @Sendable (Double) -> String?)
        /// A positive integer, or else a file path.
        case intOrPath
        case architecture
    }

    let key: String
    let kind: Kind
    let help: String
    let defaultValue: @Sendable (PruningPreset) -> ConfigValue

    init(_ key: String, _ kind: Kind, _ help: String, default value: ConfigValue) {
        self.init(key, kind, help, presetDefault: { _ in value })
    }

    init(_ key: String, _ kind: Kind, _ help: String, presetDefault: @escaping @Sendable (PruningPreset) -> ConfigValue) {
        self.key = key
        self.kind = kind
        self.help = help
        self.defaultValue = presetDefault
    }
}

private func choices<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> ConfigField.Kind where T.RawValue == String {
    .choice(T.allCases.map(\.rawValue))
}

private func positive(_ v: Double) -> String? { v > 0 ? nil : "must be greater than 0" }
private func fraction(_ v: Double) -> String? { v >= 0 && v < 1 ? nil : "must be in [0, 1)" }
private func unitInterval(_ v: Double) -> String? { v >= 0 && v <= 1 ? nil : "must be in [0, 1]" }
private func openFraction(_ v: Double) -> String? { v > 0 && v < 1 ? nil : "must be in (0, 1)" }
private func subsetFraction(_ v: Double) -> String? { v > 0 && v <= 1 ? nil : "must be in (0, 1]" }
private func classIndex(_ v: Double) -> String? { v >= 0 && v == v.rounded() ? nil : "must be class indices (0, 1, …)" }

enum ExperimentSchema {
    static let datasets = ["fashion_mnist", "mnist", "cifar10", "arrays", "nlgp"]

    static let fields: [ConfigField] = [
        ConfigField("data.dataset", .choice(datasets), "which data: fashion_mnist, mnist, cifar10, arrays (.npz) or nlgp", default: .string("fashion_mnist")),
        ConfigField("data.path", .string, "folder of IDX or CIFAR files, or the training .npz for arrays", default: .null),
        ConfigField("data.test_path", .string, "the test .npz for arrays", default: .null),
        ConfigField("data.grayscale", .bool, "cifar10 only: convert to one luma channel", default: .bool(false)),
        ConfigField("data.normalization", choices(Normalization.self), "standardise, mean_image or none (training statistics)", default: .string("standardise")),
        ConfigField("data.scramble", .bool, "apply one fixed, seeded permutation of pixel positions", default: .bool(false)),
        ConfigField("data.shuffle_labels", .bool, "shuffle the training labels (a memorisation control)", default: .bool(false)),
        ConfigField("data.gaussian_clone", .bool, "redraw every image from its class's Gaussian (training mean and covariance)", default: .bool(false)),
        ConfigField("data.subset", .double(check: subsetFraction), "fraction of the training set kept", default: .double(1)),
        ConfigField("data.reclass", .intOrPath, "labels mod k, or a mapping file with one new label per line", default: .null),
        ConfigField("data.nlgp.side", .int(minimum: 2), "nlgp: image side L", default: .int(28)),
        ConfigField("data.nlgp.xi", .doubles(check: positive), "nlgp: correlation length of each class, in pixels", default: .doubles([1, 3])),
        ConfigField("data.nlgp.gain", .double(check: positive), "nlgp: gain g of the erf nonlinearity", default: .double(3)),
        ConfigField("data.nlgp.periodic", .bool, "nlgp: periodic distance on the grid", default: .bool(false)),
        ConfigField("data.nlgp.clone", .bool, "nlgp: draw every class from the Gaussian clone instead", default: .bool(false)),
        ConfigField("data.nlgp.clone_classes", .doubles(check: classIndex), "nlgp: indices of the classes drawn from the clone (e.g. [1] with xi [3, 3]: NLGP against its own clone)", default: .null),
        ConfigField("data.nlgp.train_size", .int(minimum: 1), "nlgp: training samples", default: .int(60_000)),
        ConfigField("data.nlgp.test_size", .int(minimum: 1), "nlgp: test samples", default: .int(10_000)),

        ConfigField("model.arch", .architecture, "input-hidden…-classes, e.g. 784-1024-1024-1024-10", default: .string("784-1024-1024-1024-10")),
        ConfigField("model.activation", choices(Activation.self), "relu, tanh or erf", default: .string("relu")),
        ConfigField("model.batch_norm", .bool, "batch-normalise every layer's input", default: .bool(false)),
        ConfigField("model.batch_norm_eps", .double(check: positive), "batch norm epsilon", default: .double(1e-10)),
        ConfigField("model.batch_norm_decay", .double(check: fraction), "running-statistics decay", default: .double(0.99)),
        ConfigField("model.init", choices(InitScheme.self), "glorot or kaiming (normal)", default: .string("glorot")),
        ConfigField("model.loss", choices(LossKind.self), "cross_entropy or mse", default: .string("cross_entropy")),
        ConfigField("model.sparse_below", .double(check: unitInterval),
                    "a layer keeping less than this fraction of its weights trains on the sparse path, whose cost follows density (0: always dense); the paths agree to float rounding",
                    default: .double(ModelSpec.defaultSparseBelow)),

        ConfigField("train.optimizer", choices(OptimizerKind.self), "sgd or adam", default: .string("sgd")),
        ConfigField("train.lr", .double(check: positive), "learning rate", default: .double(0.1)),
        ConfigField("train.momentum", .double(check: fraction), "SGD momentum", default: .double(0)),
        ConfigField("train.adam_beta1", .double(check: fraction), "Adam β1", default: .double(0.9)),
        ConfigField("train.adam_beta2", .double(check: fraction), "Adam β2", default: .double(0.999)),
        ConfigField("train.adam_eps", .double(check: positive), "Adam ε", default: .double(1e-8)),
        ConfigField("train.batch", .int(minimum: 1), "mini-batch size", default: .int(128)),
        ConfigField("train.epochs", .int(minimum: 0), "epochs per level", default: .int(10)),
        ConfigField("train.sampling", choices(BatchSampling.self), "shuffle (per epoch) or replacement", default: .string("shuffle")),
        ConfigField("train.eval_every", .int(minimum: 1), "evaluate test accuracy every this many epochs", default: .int(1)),

        ConfigField("pruning.preset", choices(PruningPreset.self), "paper, lth or global (SPEC 4)", default: .string("paper")),
        ConfigField("pruning.scope", choices(PruningScope.self), "layerwise or global ranking",
                    presetDefault: { .string(PruningSpec(preset: $0).scope.rawValue) }),
        ConfigField("pruning.rate", .double(check: openFraction), "fraction of alive weights removed per level",
                    presetDefault: { .double(PruningSpec(preset: $0).rate) }),
        ConfigField("pruning.layer_rates", .doubles(check: fraction), "one rate per layer (output included), overriding rate and output_rate", default: .null),
        ConfigField("pruning.output_rate", .double(check: fraction), "rate of the output layer (0: not pruned)",
                    presetDefault: { .double(PruningSpec(preset: $0).outputRate) }),
        ConfigField("pruning.prune_biases", .bool, "rank biases with their layer's weights",
                    presetDefault: { .bool(PruningSpec(preset: $0).pruneBiases) }),
        ConfigField("pruning.rewind_step", .int(minimum: 0), "dense-run step every level restarts from (0: init)",
                    presetDefault: { .int(PruningSpec(preset: $0).rewindStep) }),
        ConfigField("pruning.max_levels", .int(minimum: 0), "most pruning rounds", default: .int(20)),
        ConfigField("pruning.stop_fraction", .double(check: unitInterval), "stop when a hidden layer keeps this fraction of connected units", default: .double(0.2)),
        ConfigField("pruning.control", choices(PruningControl.self), "none, one_shot, random, shuffled or reinit", default: .string("none")),
    ]

    static let byKey: [String: ConfigField] = Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0) })

    /// Sections that group keys; a key under any other mapping is unknown.
    static let sections: Set<String> = ["data", "data.nlgp", "model", "train", "pruning"]

    /// Top-level keys that describe a config without changing its experiment.
    static let metadataKeys: Set<String> = ["name", "description", "seeds"]
}

/// One line of the config reference, for `sift config keys` and the README.
public struct ConfigKeyReference: Sendable {
    public var key: String
    /// The default under the `paper` preset, or a note where the preset decides.
    public var defaultText: String
    public var help: String

    public static var all: [ConfigKeyReference] {
        ExperimentSchema.fields.map { field in
            let values = PruningPreset.allCases.map { field.defaultValue($0) }
            let text: String
            if values.allSatisfy({ $0 == values[0] }) {
                text = values[0] == .null ? "unset" : values[0].canonicalJSON
            } else {
                text = zip(PruningPreset.allCases, values).map { "\($0.rawValue): \($1.canonicalJSON)" }.joined(separator: ", ")
            }
            return ConfigKeyReference(key: field.key, defaultText: text, help: field.help)
        }
    }

    /// Every key with its defaults, one `key = default` line each: what the build identifier digests,
    /// so two builds whose defaults differ never pass for one.
    public static var defaultsTable: String {
        all.map { "\($0.key) = \($0.defaultText)" }.joined(separator: "\n")
    }
}
