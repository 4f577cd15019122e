// Week 04's experiment config: ONE type that the flags map onto, that is printed at the
// start of a run, stored in metrics.json and in every checkpoint, and that `--config
// run.json` loads back (the "config" object of a metrics.json is such a file).
// Precedence: built-in defaults < the --config file < flags typed on the command line.
import Shared

/// The one-flag experiments of week 4 (`--experiment NAME`).
enum Week04Experiment: String, CaseIterable {
    /// The default: one run with the configured optimizer, dropout and schedule.
    case none
    /// SGD, SGD with momentum, Adam and AdamW on the same MLP from the same initial weights
    /// and the same batches; their loss curves on one chart (optimizers.svg).
    case optimizers
    /// The train/validation gap with and without dropout and weight decay: four runs, one
    /// chart (regularization.svg).
    case regularization
}

/// Every knob of a week 4 run.
struct Week04Config: Equatable {
    var dataset = "mnist"                 // mnist (falls back to digits), fashion-mnist, digits
    var dataDir: String? = nil
    var download = false
    var hidden: [Int] = [512, 256]        // hidden layer sizes; input and classes come from the data
    var activation = "relu"               // relu, gelu, tanh
    var optimizer = "adamw"               // sgd, momentum, nesterov, adam, adamw
    var learningRate: Float? = nil        // nil: the optimizer's default (`defaultLearningRate`)
    var momentum: Float = 0.9             // momentum and nesterov
    var weightDecay: Float? = nil         // nil: 0.05 for adamw, 0 otherwise
    var dropout: Float = 0.2              // after every hidden activation
    var schedule = "warmup-cosine"        // constant, step, cosine, warmup-cosine
    var warmupEpochs = 1.0                // warmup-cosine: linear warmup length, in epochs
    var minLRRatio: Float = 0.01          // cosine schedules end at lr · this
    var decayEvery = 10                   // step schedule: multiply by decayFactor every this many epochs
    var decayFactor: Float = 0.5
    var batchSize = 128
    var epochs = 30
    var validationFraction = 0.1
    var patience = 5                      // early stopping: epochs without a better val loss; 0 = off
    var experiment: Week04Experiment = .none
    var seed: UInt64 = 1337
    var quick = false
    var out = "runs/Week04/"
    var threads = Threads.count
    // Run control, not part of the experiment (not stored in the config JSON):
    var stopAfter: Int? = nil             // stop after this many epochs (resume later)
    var epochsGiven = false               // --epochs typed: a resumed run trains to it instead of the saved epochs
    var resume: String? = nil             // checkpoint to continue from
    var gradientCheck = true
    var plots = true

    static let optimizers = ["sgd", "momentum", "nesterov", "adam", "adamw"]
    static let schedules = ["constant", "step", "cosine", "warmup-cosine"]
    static let activations = ["relu", "gelu", "tanh"]

    /// A learning rate that works on these MLPs: SGD needs large steps, momentum multiplies
    /// the effective step by 1/(1 − μ) = 10, Adam normalises the gradient so 1e-3 is the
    /// classic first try.
    static func defaultLearningRate(_ optimizer: String) -> Float {
        switch optimizer {
        case "sgd": return 0.1
        case "momentum", "nesterov": return 0.02
        default: return 1e-3
        }
    }

    /// The learning rate and weight decay this run uses.
    var lr: Float { learningRate ?? Self.defaultLearningRate(optimizer) }
    var decay: Float { weightDecay ?? (optimizer == "adamw" ? 0.05 : 0) }

    init() {}

    /// Reads every flag (plus the common ones). Call `options.finish()` afterwards.
    /// Values not typed on the command line come from `--config FILE` if given, else the
    /// defaults above. A bad --config file ends the program with one error line.
    init(_ options: Options) {
        let common = commonFlags(options, week: "Week04Training")
        let configPath = options.optionalString("config", help: "JSON file with a config (e.g. the \"config\" of a metrics.json); flags override it")
        var base = Week04Config()
        if let configPath {
            base = check { try Week04Config(contentsOf: configPath) }
        }
        self = base
        seed = options.wasGiven("seed") || configPath == nil ? common.seed : base.seed
        quick = common.quick
        out = options.wasGiven("out") || configPath == nil ? common.out : base.out
        threads = common.threads   // a property of the machine, not of the experiment

        dataset = options.choice("dataset", default: base.dataset, choices: ["mnist", "fashion-mnist", "digits"],
                                 help: "mnist (falls back to the embedded 8x8 digits when absent), fashion-mnist, or digits")
        dataDir = options.optionalString("data-dir", help: "folder with the four IDX files") ?? base.dataDir
        download = options.flag("download", help: "download MNIST / Fashion-MNIST into Datasets/ if missing") || base.download
        hidden = options.intList("hidden", default: base.hidden, help: "hidden layer sizes")
        activation = options.choice("activation", default: base.activation, choices: Self.activations,
                                    help: "hidden nonlinearity")
        optimizer = options.choice("optimizer", default: base.optimizer, choices: Self.optimizers,
                                   help: "the optimizer")
        let lrValue = options.float("lr", default: base.lr,
                                    help: "peak learning rate (default by optimizer: sgd 0.1, momentum/nesterov 0.02, adam/adamw 0.001)")
        learningRate = options.wasGiven("lr") ? lrValue : base.learningRate
        momentum = options.float("momentum", default: base.momentum, help: "momentum μ for momentum/nesterov")
        let decayValue = options.float("weight-decay", default: base.decay,
                                       help: "weight decay λ on the weight matrices (default 0.05 for adamw, 0 otherwise); decoupled for adamw, L2 in the gradient for the others")
        weightDecay = options.wasGiven("weight-decay") ? decayValue : base.weightDecay
        dropout = options.float("dropout", default: base.dropout, help: "dropout probability after each hidden activation (0: none)")
        schedule = options.choice("schedule", default: base.schedule, choices: Self.schedules,
                                  help: "learning rate over the run")
        warmupEpochs = options.double("warmup-epochs", default: base.warmupEpochs, help: "warmup-cosine: epochs of linear warmup")
        minLRRatio = options.float("min-lr-ratio", default: base.minLRRatio, help: "cosine schedules decay to lr times this")
        decayEvery = options.int("decay-every", default: base.decayEvery, range: 1...100_000, help: "step schedule: epochs between decays")
        decayFactor = options.float("decay-factor", default: base.decayFactor, help: "step schedule: lr multiplier at each decay")
        batchSize = options.int("batch", default: base.batchSize, range: 1...65_536, help: "mini-batch size")
        epochs = options.int("epochs", default: base.epochs, range: 1...100_000, help: "maximum passes over the training set (--quick: 10)")
        epochsGiven = options.wasGiven("epochs")
        validationFraction = options.double("validation", default: base.validationFraction,
                                            help: "fraction of the training set held out for validation (model selection, early stopping)")
        patience = options.int("patience", default: base.patience, range: 0...100_000,
                               help: "early stopping: stop after this many epochs without a better validation loss (0: never)")
        let experimentName = options.choice("experiment", default: base.experiment.rawValue,
                                            choices: Week04Experiment.allCases.map(\.rawValue),
                                            help: "optimizers: sgd/momentum/adam/adamw on one chart; regularization: the train/val gap with and without dropout and weight decay")
        experiment = Week04Experiment(rawValue: experimentName)!
        let stop = options.int("stop-after", default: 0, range: 0...100_000,
                               help: "stop after this many epochs, as if interrupted (continue with --resume)")
        stopAfter = stop > 0 ? stop : nil
        resume = options.optionalString("resume", help: "continue the run saved in this checkpoint (its config is used; --epochs, --stop-after, --out, --threads apply)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
        if quick {
            if !options.wasGiven("epochs") { epochs = 10 }   // 11 steps each on the digits: well under a second
            // A tiny net for 110 steps: Adam needs a larger step than its usual 1e-3 to get anywhere.
            if learningRate == nil && (optimizer == "adam" || optimizer == "adamw") { learningRate = 0.01 }
            if !options.wasGiven("dataset") && configPath == nil { dataset = "digits" }
            if !options.wasGiven("hidden") && configPath == nil { hidden = [64, 32] }
        }
        if let problem = validationError() { fail(problem, exitCode: 2) }
    }

    /// One line naming the first invalid value, or nil.
    func validationError() -> String? {
        if !(validationFraction >= 0 && validationFraction < 1) { return "--validation must be in [0, 1), got \(validationFraction)" }
        if !(lr > 0 && lr.isFinite) { return "--lr must be positive, got \(lr)" }
        if !(momentum >= 0 && momentum < 1) { return "--momentum must be in [0, 1), got \(momentum)" }
        if !(decay >= 0 && decay.isFinite) { return "--weight-decay must be non-negative, got \(decay)" }
        if !(dropout >= 0 && dropout < 1) { return "--dropout must be in [0, 1), got \(dropout)" }
        if !(warmupEpochs >= 0 && warmupEpochs.isFinite) { return "--warmup-epochs must be non-negative, got \(warmupEpochs)" }
        if !(minLRRatio >= 0 && minLRRatio <= 1) { return "--min-lr-ratio must be in [0, 1], got \(minLRRatio)" }
        if !(decayFactor > 0 && decayFactor <= 1) { return "--decay-factor must be in (0, 1], got \(decayFactor)" }
        if hidden.contains(where: { $0 < 1 }) { return "--hidden sizes must be positive, got \(hidden)" }
        if !Self.optimizers.contains(optimizer) { return "optimizer must be one of \(Self.optimizers.joined(separator: ", ")), got '\(optimizer)'" }
        if !Self.schedules.contains(schedule) { return "schedule must be one of \(Self.schedules.joined(separator: ", ")), got '\(schedule)'" }
        if !Self.activations.contains(activation) { return "activation must be one of \(Self.activations.joined(separator: ", ")), got '\(activation)'" }
        if !["mnist", "fashion-mnist", "digits"].contains(dataset) { return "dataset must be mnist, fashion-mnist or digits, got '\(dataset)'" }
        return nil
    }

    // MARK: JSON (metrics.json, checkpoints, --config)

    /// A Float as the JSON number it reads as ("0.2", not 0.20000000298023224).
    private func number(_ x: Float) -> JSONValue { .number(Double(String(x)) ?? Double(x)) }

    /// The experiment as JSON, every value resolved (lr and weight decay included).
    var json: [String: JSONValue] {
        [
            "dataset": .string(dataset), "data_dir": dataDir.map { .string($0) } ?? .null,
            "download": .bool(download), "hidden": JSONValue(hidden), "activation": .string(activation),
            "optimizer": .string(optimizer), "lr": number(lr), "momentum": number(momentum),
            "weight_decay": number(decay), "dropout": number(dropout), "schedule": .string(schedule),
            "warmup_epochs": JSONValue(warmupEpochs), "min_lr_ratio": number(minLRRatio),
            "decay_every": JSONValue(decayEvery), "decay_factor": number(decayFactor),
            "batch": JSONValue(batchSize), "epochs": JSONValue(epochs), "validation": JSONValue(validationFraction),
            "patience": JSONValue(patience), "experiment": .string(experiment.rawValue),
            "seed": .string(String(seed)), "quick": .bool(quick), "out": .string(out), "threads": JSONValue(threads),
        ]
    }

    /// Reads a config written by `json` (all keys optional; unknown keys are an error, so a
    /// typo does not silently fall back to a default).
    init(json object: [String: JSONValue]) throws {
        self.init()
        func number(_ key: String) throws -> Double? {
            guard let value = object[key], value != .null else { return nil }
            guard let x = value.doubleValue, x.isFinite else { throw WorkbookError("config key '\(key)' must be a number, got \(value)") }
            return x
        }
        func integer(_ key: String) throws -> Int? {
            guard let x = try number(key) else { return nil }
            guard x == x.rounded(), abs(x) < 1e15 else { throw WorkbookError("config key '\(key)' must be a whole number, got \(x)") }
            return Int(x)
        }
        func text(_ key: String) throws -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard let s = value.stringValue else { throw WorkbookError("config key '\(key)' must be a string, got \(value)") }
            return s
        }
        func truth(_ key: String) throws -> Bool? {
            guard let value = object[key], value != .null else { return nil }
            guard let b = value.boolValue else { throw WorkbookError("config key '\(key)' must be true or false, got \(value)") }
            return b
        }
        let known: Set<String> = ["dataset", "data_dir", "download", "hidden", "activation", "optimizer", "lr",
                                  "momentum", "weight_decay", "dropout", "schedule", "warmup_epochs", "min_lr_ratio",
                                  "decay_every", "decay_factor", "batch", "epochs", "validation", "patience",
                                  "experiment", "seed", "quick", "out", "threads"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw WorkbookError("config has an unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let v = try text("dataset") { dataset = v }
        dataDir = try text("data_dir")
        if let v = try truth("download") { download = v }
        if let value = object["hidden"], value != .null {
            guard let list = value.arrayValue?.map({ $0.intValue }), list.allSatisfy({ $0 != nil }) else {
                throw WorkbookError("config key 'hidden' must be a list of whole numbers, got \(value)")
            }
            hidden = list.map { $0! }
        }
        if let v = try text("activation") { activation = v }
        if let v = try text("optimizer") { optimizer = v }
        if let v = try number("lr") { learningRate = Float(v) }
        if let v = try number("momentum") { momentum = Float(v) }
        if let v = try number("weight_decay") { weightDecay = Float(v) }
        if let v = try number("dropout") { dropout = Float(v) }
        if let v = try text("schedule") { schedule = v }
        if let v = try number("warmup_epochs") { warmupEpochs = v }
        if let v = try number("min_lr_ratio") { minLRRatio = Float(v) }
        if let v = try integer("decay_every") { decayEvery = v }
        if let v = try number("decay_factor") { decayFactor = Float(v) }
        if let v = try integer("batch") { batchSize = v }
        if let v = try integer("epochs") { epochs = v }
        if let v = try number("validation") { validationFraction = v }
        if let v = try integer("patience") { patience = v }
        if let v = try text("experiment") {
            guard let e = Week04Experiment(rawValue: v) else { throw WorkbookError("config key 'experiment' must be one of \(Week04Experiment.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'") }
            experiment = e
        }
        if let value = object["seed"], value != .null {
            // Stored as a string: a UInt64 seed does not fit a JSON number (a Double) exactly.
            guard let s = value.stringValue.flatMap({ UInt64($0) }) ?? value.intValue.flatMap({ $0 >= 0 ? UInt64($0) : nil }) else {
                throw WorkbookError("config key 'seed' must be a non-negative whole number, got \(value)")
            }
            seed = s
        }
        if let v = try truth("quick") { quick = v }
        if let v = try text("out") { out = v }
        if let v = try integer("threads") { threads = v }
        if batchSize < 1 || epochs < 1 || patience < 0 || decayEvery < 1 || threads < 1 {
            throw WorkbookError("config: batch, epochs, decay_every and threads must be at least 1 and patience at least 0")
        }
        if let problem = validationError() { throw WorkbookError("config: " + problem) }
    }

    /// Reads `--config FILE`.
    init(contentsOf path: String) throws {
        let text: String
        do { text = try readTextFile(path) } catch { throw WorkbookError("cannot read config file \(path): \(error)") }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw WorkbookError("config file \(path) is not valid JSON: \(error)") }
        guard let object = value.objectValue else { throw WorkbookError("config file \(path) must hold a JSON object") }
        do { try self.init(json: object) } catch let error as WorkbookError {
            throw WorkbookError("config file \(path): \(error.message)")
        }
    }
}
