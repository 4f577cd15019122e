// Week 03's knobs: every flag, its default, and the defaults that depend on the data set
// or on an experiment. main.swift reads them with `Week03Config(options)`; tests build the
// same config from an argument list.
import Shared

/// The one-flag experiments of week 3 (`--experiment NAME`). Each only changes defaults the
/// user did not set, so `--experiment dead-relu --lr 0.5` still works.
enum Experiment: String, CaseIterable {
    /// Nothing changed: the default run.
    case none
    /// Zero initialisation: every hidden unit starts identical, gets the same gradient and
    /// stays identical. The epoch line prints the largest difference between two units.
    case symmetry
    /// Sigmoid in a deep stack (five hidden layers of 128): the gradient shrinks by up to
    /// 4x per layer on the way down. gradient_norms.svg shows each layer's gradient norm.
    case vanishing
    /// A learning rate far too large for ReLU: big updates push units to where they never
    /// fire again. The epoch line prints the fraction of dead ReLUs.
    case deadReLU = "dead-relu"
}

/// Everything a week 3 run needs to know. Optional fields left nil take a default that
/// depends on the data set (`resolved(for:)`), since the data set is only known after loading
/// (MNIST may be missing and fall back to the digits).
struct Week03Config {
    var dataset: String = "mnist"            // mnist, fashion-mnist or digits
    var dataDir: String? = nil
    var download = false
    var layers: [Int]? = nil                 // nil: input,128,64,classes
    var activation: Activation = .relu
    var initialization: Initialization = .he
    var learningRate: Float? = nil
    var momentum: Float? = nil
    var batchSize: Int? = nil
    var epochs: Int? = nil
    var schedule = "cosine"                  // cosine or constant
    var validationFraction = 0.1
    var experiment: Experiment = .none
    var evaluateTest = true                  // test accuracy after every epoch (history)
    var gradientCheck = true                 // check the backward on a tiny copy first
    var plots = true
    var seed: UInt64 = 1337
    var quick = false
    var out = "runs/Week03/"
    var threads = Threads.count

    /// The defaults per data set, chosen so the default runs reach the bars
    /// (Fashion-MNIST >= 88.5%, digits >= 97% test accuracy) within 20 epochs.
    /// The digits (1,294 training images) want smaller batches: more steps per epoch.
    /// Cosine decay to 0 over the run is what lifts Fashion-MNIST above 88.5% in 20 epochs
    /// (a constant lr plateaus near 88%).
    static func defaultLearningRate(_ dataset: String) -> Float { 0.05 }
    static let defaultMomentum: Float = 0.9
    static func defaultBatchSize(_ dataset: String) -> Int { dataset == "digits" ? 32 : 128 }
    static func defaultEpochs(_ dataset: String) -> Int { 20 }

    init() {}

    /// Declares every week 3 flag on `options` (plus the common ones) and reads them.
    /// Call `options.finish()` afterwards.
    init(_ options: Options) {
        let common = commonFlags(options, week: "Week03MLP")
        seed = common.seed
        quick = common.quick
        out = common.out
        threads = common.threads
        dataset = options.choice("dataset", default: "mnist", choices: ["mnist", "fashion-mnist", "digits"],
                                 help: "mnist (falls back to the embedded 8x8 digits when the files are absent), fashion-mnist, or digits")
        dataDir = options.optionalString("data-dir", help: "folder with the four IDX files; without it: Datasets/<dataset>/, then /usr/share/datasets/fashion-mnist/")
        download = options.flag("download", help: "download MNIST / Fashion-MNIST into Datasets/ if missing")
        let layerList = options.intList("layers", default: [784, 128, 64, 10],
                                        help: "layer sizes; the first (input) and last (classes) are taken from the data")
        layers = options.wasGiven("layers") ? layerList : nil
        let activationName = options.choice("activation", default: "relu", choices: Activation.allCases.map(\.rawValue),
                                            help: "hidden-layer nonlinearity")
        let initName = options.choice("init", default: "he", choices: Initialization.allCases.map(\.rawValue),
                                      help: "weight initialisation (he for relu, xavier for tanh/sigmoid, zero to see symmetry)")
        let lr = options.float("lr", default: Self.defaultLearningRate("mnist"), help: "learning rate (the peak, with --schedule cosine)")
        let momentumValue = options.float("momentum", default: Self.defaultMomentum, help: "SGD momentum, 0 for plain SGD")
        let batch = options.int("batch", default: 128, range: 1...65_536,
                                shownDefault: "128 on MNIST/Fashion-MNIST, 32 on the digits", help: "mini-batch size")
        batchSize = options.wasGiven("batch") ? batch : nil
        let epochCount = options.int("epochs", default: Self.defaultEpochs("mnist"), range: 1...100_000,
                                     help: "passes over the training set (--quick: 5 on the digits)")
        schedule = options.choice("schedule", default: "cosine", choices: ["cosine", "constant"],
                                  help: "learning rate over the run: cosine decays it from --lr to 0, constant keeps it")
        validationFraction = options.double("validation", default: 0.1,
                                            help: "fraction of the training set held out for per-epoch validation (0: none)")
        let experimentName = options.choice("experiment", default: "none", choices: Experiment.allCases.map(\.rawValue),
                                            help: "symmetry: zero init; vanishing: sigmoid, 5 hidden layers; dead-relu: lr 1.5 (see CURRICULUM.md)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
        activation = Activation(rawValue: activationName)!
        initialization = Initialization(rawValue: initName)!
        experiment = Experiment(rawValue: experimentName)!
        learningRate = options.wasGiven("lr") ? lr : nil
        momentum = options.wasGiven("momentum") ? momentumValue : nil
        epochs = options.wasGiven("epochs") ? epochCount : nil

        // Range checks only on a command line that parsed (else finish() reports the first error).
        if options.parse() == .run { validate() }
        applyExperimentAndQuickDefaults(options)
    }

    /// Stops with one line (exit 2) on values no run can use.
    private func validate() {
        if !(validationFraction >= 0 && validationFraction < 1) {
            fail("--validation must be in [0, 1), got \(validationFraction)", exitCode: 2)
        }
        if let lr = learningRate, !(lr > 0 && lr.isFinite) { fail("--lr must be positive, got \(lr)", exitCode: 2) }
        if let m = momentum, !(m >= 0 && m < 1) { fail("--momentum must be in [0, 1), got \(m)", exitCode: 2) }
        if let sizes = layers, sizes.count < 2 || sizes.contains(where: { $0 < 1 }) {
            fail("--layers needs at least two positive sizes (input,...,classes), got \(sizes)", exitCode: 2)
        }
    }

    /// The experiments and --quick change the defaults of flags the user did not type.
    private mutating func applyExperimentAndQuickDefaults(_ options: Options) {
        switch experiment {
        case .none: break
        case .symmetry:
            if !options.wasGiven("init") { initialization = .zero }
            // With ReLU or tanh, zero weights give zero hidden outputs and no gradient at all;
            // with sigmoid the units do learn, but all the same thing: the better demonstration.
            if !options.wasGiven("activation") { activation = .sigmoid }
        case .vanishing:
            if !options.wasGiven("activation") { activation = .sigmoid }
            if !options.wasGiven("init") { initialization = .xavier }
            if !options.wasGiven("layers") { layers = [784, 128, 128, 128, 128, 128, 10] }
            if !options.wasGiven("momentum") { momentum = 0 }
            if !options.wasGiven("schedule") { schedule = "constant" }
        case .deadReLU:
            if !options.wasGiven("lr") { learningRate = 1.5 }
            if !options.wasGiven("momentum") { momentum = 0 }
            if !options.wasGiven("schedule") { schedule = "constant" }
            if !options.wasGiven("activation") { activation = .relu }
        }
        if quick {
            if epochs == nil { epochs = 5 }
            if !options.wasGiven("dataset") { dataset = "digits" }
        }
    }

    /// The defaults that depend on the data set, filled in (metrics.json then shows what ran).
    func resolved(for data: Week03Data) -> Week03Config {
        var config = self
        let name = data.train.name
        config.dataset = name
        config.learningRate = learningRate ?? Self.defaultLearningRate(name)
        config.momentum = momentum ?? Self.defaultMomentum
        config.epochs = epochs ?? Self.defaultEpochs(name)
        config.batchSize = batchSize ?? Self.defaultBatchSize(name)
        var sizes = layers ?? [data.train.features, 128, 64, data.train.classNames.count]
        sizes[0] = data.train.features
        sizes[sizes.count - 1] = data.train.classNames.count
        config.layers = sizes
        return config
    }

    /// Every knob as JSON, for metrics.json (after `resolved(for:)`).
    var json: [String: JSONValue] {
        [
            "dataset": .string(dataset), "data_dir": dataDir.map { .string($0) } ?? .null,
            "download": .bool(download),
            "layers": .array((layers ?? []).map { .number(Double($0)) }),
            "activation": .string(activation.rawValue), "init": .string(initialization.rawValue),
            "lr": learningRate.map { .number(Double($0)) } ?? .null,
            "momentum": momentum.map { .number(Double($0)) } ?? .null,
            "batch": batchSize.map { .number(Double($0)) } ?? .null, "epochs": epochs.map { .number(Double($0)) } ?? .null,
            "schedule": .string(schedule), "validation": .number(validationFraction),
            "experiment": .string(experiment.rawValue), "seed": .number(Double(seed)),
            "quick": .bool(quick), "out": .string(out), "threads": .number(Double(threads)),
        ]
    }
}
