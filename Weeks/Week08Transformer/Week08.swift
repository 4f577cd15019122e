// Week 8's steps, one function each, called in order by main.swift: the gradient check, the
// runs to train (the main one, or an experiment's variants), the training loop with its
// progress line, the evaluation, the sample and the outputs (plots, metrics.json). The tests run
// the program itself and call these functions.
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One model to train: its legend name, its architecture and its training knobs. The main run is
/// one plan; an experiment is one plan per variant, all with the same seed, data and batches.
struct Week08Plan {
    var label: String
    var model: GPTConfig
    var training: GPTTrainingFlags
}

/// What step 4 trains: the GPT the flags describe, or each variant of --experiment (trained for
/// --experiment-steps with the cosine ending there, evaluated every tenth of the way).
func week08Plans(_ config: Week08Config) -> [Week08Plan] {
    guard config.experiment != "none" else {
        return [Week08Plan(label: "train", model: config.model, training: config.trainingFlags)]
    }
    return week08Variants(config.experiment, config: config).map { name, change in
        var plan = Week08Plan(label: name, model: config.model, training: config.trainingFlags)
        let steps = config.experimentSteps
        plan.training.steps = steps
        plan.training.decaySteps = steps
        plan.training.evalEvery = max(1, steps / 10)
        change(&plan.model, &plan.training)
        return plan
    }
}

/// The GPT of `plan`, sized for the data's vocabulary, with GPT-2's initialisation from `seed`.
func makeWeek08Model(_ plan: Week08Plan, vocabularySize V: Int, seed: UInt64) throws -> GPT {
    var model = plan.model
    model.vocabularySize = V
    var rng = SplitMix64(seed: seed)
    return try GPT(config: model, maxBatch: plan.training.batchSize, rng: &rng)
}

/// What the gradient check found when it failed: the variant and its result.
struct Week08GradientCheckFailure: Error, CustomStringConvertible {
    var variant: String
    var result: GradientCheckResult
    var description: String {
        "gradient check failed (\(variant)): relative error \(formatScientific(result.error)) is above 1e-3, so "
            + "the backward pass disagrees with finite differences; training stops here"
    }
}

/// Step 3: `checkWeek08Backward`, each variant's error logged; throws at the first variant
/// that fails, so a wrong backward never trains.
func checkWeek08Gradients(seed: UInt64, step: Float?, log: (String) -> Void) throws -> [(variant: String, result: GradientCheckResult)] {
    let checks = try checkWeek08Backward(seed: seed, step: step)
    for (variant, result) in checks {
        log("gradient check, \(variant): relative error \(formatScientific(result.error))" + (result.passed ? " ok" : " FAILED"))
        if !result.passed { throw Week08GradientCheckFailure(variant: variant, result: result) }
    }
    return checks
}

/// The whole model's backward against finite differences at tiny sizes, in the variants the
/// experiments switch between (V 11, T 6, C 8, 2 layers, batch 2). step: the finite-difference
/// step h for every variant (nil: 1e-2, and 1e-3 where ReLU's kink is near).
func checkWeek08Backward(seed: UInt64, step: Float? = nil) throws -> [(variant: String, result: GradientCheckResult)] {
    let variants: [(String, (inout GPTConfig) -> Void, Float)] = [
        ("Pre-LN, LayerNorm, GELU, learned positions, tied head, biases", { _ in }, 1e-2),
        ("Post-LN, RMSNorm, sinusoidal positions, untied head", {
            $0.preNorm = false; $0.norm = .rmsNorm; $0.positions = .sinusoidal; $0.tiedHead = false }, 1e-2),
        ("ReLU, no positions, 4 heads", { $0.activation = .relu; $0.positions = .none; $0.heads = 4 }, 1e-3),
    ]
    var results: [(variant: String, result: GradientCheckResult)] = []
    for (name, change, variantStep) in variants {
        var config = GPTConfig(vocabularySize: 11, context: 6, layers: 2, heads: 2, width: 8, bias: true)
        change(&config)
        var rng = SplitMix64(seed: seed)
        let model = try GPT(config: config, maxBatch: 2, rng: &rng)
        // weights larger than GPT-2's init and gains/biases off their start, so every path
        // carries a gradient well above rounding noise
        for i in 0..<model.matrixCount { model.parameters[i] *= 10 }
        for i in model.matrixCount..<model.parameterCount { model.parameters[i] += rng.normal(mean: 0, std: 0.3) }
        let inputs = (0..<12).map { _ in rng.int(below: 11) }, targets = (0..<12).map { _ in rng.int(below: 11) }
        let result = model.gradientCheck(inputs: inputs, targets: targets, length: 6, step: step ?? variantStep)
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
    /// The loss of every step from step 1 (a resumed run's include the checkpoint's).
    var stepLosses: [Double]
    var finalValidationLoss: Double
    /// The loss over the whole validation split at the end (every character once).
    var wholeValidationLoss: Double
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
                       seed: UInt64) throws -> LanguageModelTrainer {
    let configJSON = model.config.json
    var settings = config
    settings.checkpointPath = checkpoint
    settings.checkpointEvery = checkpoint == nil ? 0 : config.evalEvery
    settings.configJSON = configJSON.serialized()
    // With --eval-windows 0 every evaluation, the last included, is already the whole split;
    // otherwise the trainer measures it once at the end.
    settings.evaluateWholeValidationAtEnd = config.evalWindows != nil
    return try LanguageModelTrainer(model: model, train: data.train, validation: data.validation, config: settings,
                                    rng: SplitMix64(seed: seed))
}

/// Trains until the configured step count with the shared loop (Shared/Training/LanguageModelTraining.swift),
/// printing each evaluation; the progress line adds ms/step and MFU (achieved model FLOP/s over
/// the machine's measured peak `peakFLOPS`). The untrained model's validation loss is the
/// history's first row (step 0) when the run starts from scratch.
func trainWeek08(_ trainer: LanguageModelTrainer, model: GPT, label: String, peakFLOPS: Double,
                 log: @escaping (String) -> Void) throws -> Week08Run {
    let config = trainer.config
    let flopsPerToken = model.config.trainingFLOPsPerToken
    var startRow: [[String: Double]] = []
    if trainer.step == 0 {
        let loss = try model.evaluate(ids: trainer.validationIDs, context: config.context, batch: config.evalBatch)
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
    let tokensPerSecond = ms > 0 ? Double(config.batchSize * config.context) / (ms / 1000) : 0
    return Week08Run(label: label, history: startRow + run.history, stepLosses: run.stepLosses,
                     finalValidationLoss: run.finalValidationLoss,
                     wholeValidationLoss: run.fullValidationLoss ?? run.finalValidationLoss, medianStepMilliseconds: ms,
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

/// Steps 4 and 5: builds and trains the model of every plan, one after the other, logging each
/// evaluation. The main run writes `checkpoint` after every evaluation and can continue from
/// --resume; an experiment's runs write no checkpoint.
func trainWeek08Plans(_ plans: [Week08Plan], data: CharacterData, config: Week08Config, peakFLOPS: Double,
                      log: @escaping (String) -> Void) throws -> [(model: GPT, run: Week08Run)] {
    var trained: [(model: GPT, run: Week08Run)] = []
    let checkpoint = config.experiment == "none" ? joinPath(config.common.out, "checkpoint.safetensors") : nil
    for plan in plans {
        let model = try makeWeek08Model(plan, vocabularySize: data.vocabulary.size, seed: config.common.seed)
        log("\(plan.label): \(model.config.layers) blocks of \(model.config.heads) heads, width \(model.config.width), "
            + "context \(model.config.context), \(model.parameterCount) parameters (tied head counted once); "
            + "\(formatFixed(model.config.trainingFLOPsPerToken / 1e6, digits: 2)) MFLOP per token per training step; "
            + "peak lr \(plan.training.learningRate) after \(plan.training.warmupSteps) warm-up steps")
        let trainer = try makeWeek08Trainer(model, config: plan.training.trainingConfig(context: model.config.context),
                                            data: data, checkpoint: checkpoint, seed: config.common.seed)
        if let resume = config.resume {
            // refused with one line if it holds another architecture or was trained with other settings
            try trainer.resume(from: resume)
            log("resumed from \(resume) at step \(trainer.step)")
        }
        trained.append((model, try trainWeek08(trainer, model: model, label: plan.label, peakFLOPS: peakFLOPS, log: log)))
    }
    return trained
}

/// Step 6: each trained model's loss over the whole validation split, every character once
/// (measured by the trainer at its end: windows of T, batch as in training), with its speed.
func evaluateWeek08(_ trained: [(model: GPT, run: Week08Run)], log: (String) -> Void) -> [Double] {
    trained.map { _, run in
        log("\(run.label): validation loss over the whole split \(formatFixed(run.wholeValidationLoss, digits: 4)) nats/char "
            + "(\(formatFixed(run.wholeValidationLoss / natsPerBit, digits: 3)) bits); at the last evaluation \(formatFixed(run.finalValidationLoss, digits: 4)); "
            + "\(formatFixed(run.medianStepMilliseconds, digits: 1)) ms/step, \(formatFixed(run.tokensPerSecond, digits: 0)) tokens/s, "
            + "MFU \(formatPercent(run.mfu))" + (run.divergence.map { " (\($0))" } ?? ""))
        return run.wholeValidationLoss
    }
}

/// Step 7: `--sample-length` characters continuing `--prompt` (after a newline when empty).
func sampleWeek08(_ model: GPT, config: Week08Config, data: CharacterData) throws -> String {
    var rng = SplitMix64(seed: config.common.seed &+ 1)
    let sampling = SamplingSettings(temperature: config.temperature, topK: config.topK > 0 ? config.topK : nil)
    return try sampleText(model, tokenizer: data.vocabulary, prompt: config.prompt, count: config.sampleLength,
                          sampling: sampling, startToken: data.vocabulary.id(of: "\n") ?? 0, rng: &rng)
}

// MARK: - Outputs

/// Loss against step, one colour per run: the training loss at every step (a running mean over
/// a fiftieth of the run, dashed) and the validation loss at each evaluation (solid; Plot.lines
/// marks each point of a curve with up to 30 of them).
func week08LossChart(_ runs: [Week08Run], title: String) -> String {
    var series: [Series] = []
    // One run: the legend says only which loss; an experiment's runs: which variant too.
    func name(_ run: Week08Run, _ loss: String) -> String { runs.count == 1 ? loss : "\(run.label) \(loss)" }
    for (index, run) in runs.enumerated() {
        series.append(Series(name(run, "validation"), x: run.column("step"), y: run.column("val_loss"), colorIndex: index))
    }
    for (index, run) in runs.enumerated() {
        let window = max(1, run.stepLosses.count / 50)
        let steps = run.stepLosses.indices.map { Double($0 + 1) }
        series.append(Series(name(run, window > 1 ? "train (mean of \(window) steps)" : "train"), x: steps,
                             y: runningMean(run.stepLosses, window: window), dashed: true, colorIndex: index))
    }
    return Plot.lines(title: title, xLabel: "step", yLabel: "loss (nats/char)", series: series)
}

/// Step 8: the loss chart (loss.svg, or experiment-NAME.svg), the attention maps of the first
/// model (attention.svg) and metrics.json; returns the paths written.
func writeWeek08Outputs(_ trained: [(model: GPT, run: Week08Run)], validationLosses: [Double], sample: String,
                        checks: [(variant: String, result: GradientCheckResult)], peakFLOPS: Double,
                        config: Week08Config, configJSON: [String: JSONValue], data: CharacterData) throws -> [String] {
    try createDirectories(config.common.out)
    var files: [String] = []
    let runs = trained.map(\.run)
    if config.plots {
        let experiment = config.experiment != "none"
        let lossChart = joinPath(config.common.out, experiment ? "experiment-\(config.experiment).svg" : "loss.svg")
        let corpus = data.name.split(separator: "/").last.map(String.init) ?? data.name
        try writeTextFile(week08LossChart(runs, title: experiment ? "Week 8: \(config.experiment) on \(corpus)"
                                                                  : "Week 8: GPT on \(corpus)"), to: lossChart)
        let attention = joinPath(config.common.out, "attention.svg")
        try writeTextFile(try week08AttentionMaps(trained[0].model, vocabulary: data.vocabulary, prompt: config.attentionPrompt),
                          to: attention)
        files += [lossChart, attention]
    }
    let metrics = MetricsLog(week: "Week08Transformer", config: configJSON)
    var final: [String: JSONValue] = [
        "gradient_check_worst": JSONValue(checks.map(\.result.error).max() ?? .nan),
        "peak_gflops": JSONValue(peakFLOPS / 1e9),
        "val_loss": JSONValue(validationLosses[0]),
        "val_loss_estimate": JSONValue(runs[0].finalValidationLoss),
        "parameters": JSONValue(trained[0].model.parameterCount),
        "sample": JSONValue(sample),
    ]
    if config.experiment == "none" {
        for row in runs[0].history { metrics.record(row) }
        final["main"] = week08RunJSON(runs[0])
    } else {
        final["experiment"] = .object(Dictionary(uniqueKeysWithValues: zip(runs, validationLosses).map { run, loss in
            (run.label, week08RunJSON(run, wholeSplitLoss: loss))
        }))
    }
    files.append(try metrics.write(final: final, to: config.common.out))
    return files
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

/// One run's figures for metrics.json (with the whole validation split's loss when measured).
func week08RunJSON(_ run: Week08Run, wholeSplitLoss: Double? = nil) -> JSONValue {
    ["val_loss": JSONValue(run.finalValidationLoss), "val_loss_whole_split": JSONValue(wholeSplitLoss ?? .nan), "train_loss": JSONValue(run.history.last?["train_loss"] ?? .nan),
     "ms_per_step": JSONValue(run.medianStepMilliseconds), "tokens_per_second": JSONValue(run.tokensPerSecond),
     "mfu": JSONValue(run.mfu), "seconds": JSONValue(run.seconds), "steps": JSONValue(run.stepLosses.count),
     "diverged": JSONValue(run.divergence != nil),
     "history": .array(run.history.map { row in .object(row.mapValues { .number($0) }) })]
}
