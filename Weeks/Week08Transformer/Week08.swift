// Week 8's steps, one function each, called in order by main.swift (and by the tests):
// the model for the data, the gradient check, the training loop with its progress line,
// the experiments, and the outputs (plots, metrics.json, the sample).
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The GPT the flags describe, sized for the data's vocabulary.
func makeWeek08Model(_ config: Week08Config, vocabularySize V: Int, seed: UInt64) throws -> GPT {
    var model = config.model
    model.vocabularySize = V
    var rng = SplitMix64(seed: seed)
    return try GPT(config: model, maxBatch: config.training.batchSize, rng: &rng)
}

/// The whole model's backward against finite differences at tiny sizes, in the variants the
/// experiments switch between (V 11, T 6, C 8, 2 layers, batch 2).
func checkWeek08Backward(seed: UInt64) throws -> [(variant: String, result: GradientCheckResult)] {
    let variants: [(String, (inout GPTConfig) -> Void, Float)] = [
        ("Pre-LN, LayerNorm, GELU, learned positions, tied head, biases", { _ in }, 1e-2),
        ("Post-LN, RMSNorm, sinusoidal positions, untied head", {
            $0.preNorm = false; $0.norm = .rmsNorm; $0.positions = .sinusoidal; $0.tiedHead = false }, 1e-2),
        ("ReLU, no positions, 4 heads", { $0.activation = .relu; $0.positions = .none; $0.heads = 4 }, 1e-3),
    ]
    var results: [(variant: String, result: GradientCheckResult)] = []
    for (name, change, step) in variants {
        var config = GPTConfig(vocabularySize: 11, context: 6, layers: 2, heads: 2, width: 8, bias: true)
        change(&config)
        var rng = SplitMix64(seed: seed)
        let model = try GPT(config: config, maxBatch: 2, rng: &rng)
        // weights larger than GPT-2's init and gains/biases off their start, so every path
        // carries a gradient well above rounding noise
        for i in 0..<model.matrixCount { model.parameters[i] *= 10 }
        for i in model.matrixCount..<model.parameterCount { model.parameters[i] += rng.normal(mean: 0, std: 0.3) }
        let inputs = (0..<12).map { _ in rng.int(below: 11) }, targets = (0..<12).map { _ in rng.int(below: 11) }
        let result = model.gradientCheck(inputs: inputs, targets: targets, length: 6, step: step)
        results.append((name, result))
    }
    return results
}

/// What one training run produced: the shared trainer's record, its name, and the speed.
struct Week08Run {
    var label: String
    /// The evaluations, step 0 (the untrained model) first: step, train_loss (mean of the
    /// steps' losses since the evaluation before), val_loss, val_bits_per_char, lr, seconds.
    var history: [[String: Double]]
    var stepLosses: [Double]
    var finalValidationLoss: Double
    var medianStepMilliseconds: Double
    var tokensPerSecond: Double
    var mfu: Double
    var seconds: Double
    var divergence: String?

    func column(_ key: String) -> [Double] { history.map { $0[key] ?? .nan } }
}

/// The shared trainer for `model` with week 8's settings; `checkpoint`, when given, is written
/// after every evaluation and at the end (and is what --resume reads back).
func makeWeek08Trainer(_ model: GPT, config: LanguageModelTrainingConfig, data: CharacterData, checkpoint: String?,
                       configJSON: JSONValue, seed: UInt64) throws -> LanguageModelTrainer {
    var settings = config
    settings.checkpointPath = checkpoint
    settings.checkpointEvery = checkpoint == nil ? 0 : config.evalEvery
    settings.configJSON = configJSON.serialized()
    return try LanguageModelTrainer(model: model, train: data.train, validation: data.validation, config: settings,
                                    rng: SplitMix64(seed: seed))
}

/// Trains until the configured step count with the shared loop (Shared/NN/LanguageModelTraining.swift),
/// printing each evaluation; the progress line adds ms/step and MFU (achieved model FLOP/s over
/// the machine's measured peak `peakFLOPS`). The untrained model's validation loss is the
/// history's first row (step 0) when the run starts from scratch.
func trainWeek08(_ trainer: LanguageModelTrainer, model: GPT, label: String, peakFLOPS: Double,
                 log: @escaping (String) -> Void) throws -> Week08Run {
    let config = trainer.config
    let flopsPerToken = model.config.trainingFLOPsPerToken
    var startRow: [[String: Double]] = []
    if trainer.step == 0 {
        let loss = try model.evaluate(ids: trainer.validationIDs, context: config.blockSize, batch: config.evalBatch)
        startRow = [["step": 0, "train_loss": loss, "val_loss": loss, "lr": Double(config.schedule.learningRate(step: 0)),
                     "seconds": 0]]
        log("\(label) step 0: val loss \(formatFixed(loss, digits: 4)) (ln V = \(formatFixed(naturalLog(Double(model.vocabularySize)), digits: 4)))")
    }
    let run = try trainer.train(label: label, progressNote: { tokensPerSecond in
        "MFU " + formatPercent(tokensPerSecond * flopsPerToken / peakFLOPS)
    }, onEvaluation: { row in
        log("\(label) step \(Int(row["step"] ?? 0)): train loss \(formatFixed(row["train_loss"] ?? .nan, digits: 4)) "
            + "(mean since the last evaluation), val loss \(formatFixed(row["val_loss"] ?? .nan, digits: 4)) "
            + "(lr \(formatScientific(row["lr"] ?? .nan)))")
    })
    let ms = run.medianStepMilliseconds
    let tokensPerSecond = ms > 0 ? Double(config.batchSize * config.blockSize) / (ms / 1000) : 0
    return Week08Run(label: label, history: startRow + run.history, stepLosses: run.stepLosses,
                     finalValidationLoss: run.finalValidationLoss, medianStepMilliseconds: ms,
                     tokensPerSecond: tokensPerSecond, mfu: tokensPerSecond * flopsPerToken / peakFLOPS,
                     seconds: run.seconds, divergence: run.divergence)
}

/// ln x (a name that the `log` closures above cannot shadow).
func naturalLog(_ x: Double) -> Double { log(x) }

// MARK: - Experiments

/// The variants of one experiment: a legend name and how it changes the model (and the
/// training knobs).
func week08Variants(_ experiment: String, config: Week08Config) -> [(String, (inout GPTConfig, inout GPTTrainingFlags) -> Void)] {
    let width = config.model.width
    switch experiment {
    case "prenorm-vs-postnorm":
        // no warm-up and a higher peak: where Post-LN's unnormalised residual path hurts
        let hot: (inout GPTTrainingFlags) -> Void = { $0.warmupSteps = 0; $0.learningRate = config.experimentLearningRate }
        return [("Pre-LN", { _, t in hot(&t) }), ("Post-LN", { m, t in m.preNorm = false; hot(&t) })]
    case "layernorm-vs-rmsnorm":
        return [("LayerNorm", { m, _ in m.norm = .layerNorm }), ("RMSNorm", { m, _ in m.norm = .rmsNorm })]
    case "gelu-vs-relu":
        return [("GELU", { m, _ in m.activation = .gelu }), ("ReLU", { m, _ in m.activation = .relu })]
    case "positions":
        return [("learned", { m, _ in m.positions = .learned }), ("sinusoidal", { m, _ in m.positions = .sinusoidal }),
                ("none", { m, _ in m.positions = .none })]
    case "tying":
        return [("tied head", { m, _ in m.tiedHead = true }), ("untied head", { m, _ in m.tiedHead = false })]
    case "heads":
        return [1, 4, 8].filter { width % $0 == 0 }.map { h in ("\(h) head\(h == 1 ? "" : "s") of \(width / h)", { m, _ in m.heads = h }) }
    default:
        return []
    }
}

/// Trains every variant of `experiment` for config.experimentSteps steps (same data, seed and
/// batches; the schedule's cosine ends at the last step) and returns the runs, with the
/// validation loss every tenth of the way.
func runWeek08Experiment(_ experiment: String, data: CharacterData, config: Week08Config, peakFLOPS: Double,
                         log: @escaping (String) -> Void) throws -> [Week08Run] {
    var runs: [Week08Run] = []
    for (name, change) in week08Variants(experiment, config: config) {
        var model = config.model, flags = config.trainingFlags
        let steps = config.experimentSteps
        flags.steps = steps
        flags.decaySteps = steps
        flags.evalEvery = max(1, steps / 10)
        change(&model, &flags)
        model.vocabularySize = data.vocabulary.size
        var rng = SplitMix64(seed: config.common.seed)
        let gpt = try GPT(config: model, maxBatch: flags.batchSize, rng: &rng)
        let trainer = try makeWeek08Trainer(gpt, config: flags.trainingConfig(context: model.context), data: data,
                                            checkpoint: nil, configJSON: model.json, seed: config.common.seed)
        log("\(experiment): \(name), \(gpt.parameterCount) parameters, lr \(flags.schedule.learningRate(step: steps / 10)) at step \(steps / 10)")
        runs.append(try trainWeek08(trainer, model: gpt, label: name, peakFLOPS: peakFLOPS, log: log))
    }
    return runs
}

// MARK: - Outputs

/// Validation (solid) and training (dashed) loss estimates against step, one colour per run.
func week08LossChart(_ runs: [Week08Run], title: String) -> String {
    var series: [Series] = []
    // One run: the legend says only which loss; an experiment's runs: which variant too.
    func name(_ run: Week08Run, _ loss: String) -> String { runs.count == 1 ? loss : "\(run.label) \(loss)" }
    // one colour per run: solid its validation loss, dashed its training loss
    for (index, run) in runs.enumerated() {
        series.append(Series(name(run, "validation"), x: run.column("step"), y: run.column("val_loss"), colorIndex: index))
    }
    for (index, run) in runs.enumerated() {
        series.append(Series(name(run, "train"), x: run.column("step"), y: run.column("train_loss"), dashed: true,
                             colorIndex: index))
    }
    return Plot.lines(title: title, xLabel: "step", yLabel: "loss (nats/char)", series: series)
}

/// Attention maps for `prompt`: heads of the first and the last block side by side
/// (rows = the character attending, columns = the character attended to).
func week08AttentionMaps(_ model: GPT, vocabulary: CharVocabulary, prompt: String) throws -> String {
    let ids = Array(try vocabulary.encode(prompt).suffix(model.config.context))
    var rng = SplitMix64(seed: 0)
    model.forward(inputs: ids, targets: nil, batch: 1, length: ids.count, rng: &rng)
    let labels = ids.map { vocabulary.decode([$0]) }
    let layers = Array(Set([0, model.config.layers - 1])).sorted()
    var maps: [String] = []
    for layer in layers {
        for head in 0..<min(model.config.heads, 2) {
            let weights = model.attentionMap(layer: layer, head: head).map(Double.init)
            maps.append(Plot.heatmap(title: "block \(layer), head \(head)", values: weights, rows: ids.count,
                                     columns: ids.count, rowLabels: labels, columnLabels: labels,
                                     xLabel: "key (attended to)", yLabel: "query (attending)", showValues: false))
        }
    }
    return Plot.sideBySide(maps)
}

/// One run's figures for metrics.json.
func week08RunJSON(_ run: Week08Run) -> JSONValue {
    ["val_loss": JSONValue(run.finalValidationLoss), "train_loss": JSONValue(run.history.last?["train_loss"] ?? .nan),
     "ms_per_step": JSONValue(run.medianStepMilliseconds), "tokens_per_second": JSONValue(run.tokensPerSecond),
     "mfu": JSONValue(run.mfu), "seconds": JSONValue(run.seconds), "steps": JSONValue(run.stepLosses.count),
     "diverged": JSONValue(run.divergence != nil),
     "history": .array(run.history.map { row in .object(row.mapValues { .number($0) }) })]
}
