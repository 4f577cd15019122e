// Week 8's steps, one function each, called in order by main.swift (and by the tests):
// the model for the data, the gradient check, the training loop with its progress line,
// the experiments, and the outputs (plots, metrics.json, the sample).
import Shared

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

/// What one training run produced.
struct Week08Run {
    var label: String
    var evaluations: [GPTEvaluation]
    var stepLosses: [Double]
    var finalValidationLoss: Double
    var medianStepMilliseconds: Double
    var tokensPerSecond: Double
    var mfu: Double
    var seconds: Double
    var divergence: String?
}

/// Trains until `training.steps`, estimating the losses at step 0 (unless resumed past it),
/// every evalEvery steps and at the end; saves a checkpoint after each estimate when
/// `checkpoint` is given. The progress line shows loss, tokens/s and MFU (achieved model
/// FLOP/s over the machine's measured peak `peakFLOPS`).
func trainWeek08(_ trainer: GPTTrainer, label: String, checkpoint: String?, peakFLOPS: Double,
                 log: (String) -> Void) throws -> Week08Run {
    let steps = trainer.training.steps, evalEvery = trainer.training.evalEvery
    let tokensPerStep = Double(trainer.training.batchSize * trainer.model.config.context)
    let flopsPerStep = trainer.model.config.trainingFLOPsPerToken * tokensPerStep
    let start = monotonicSeconds()
    var trainingSeconds = 0.0
    var divergence: String?
    func evaluate() throws {
        let e = trainer.evaluate(elapsed: monotonicSeconds() - start)
        log("\(label) step \(e.step): train loss \(formatFixed(e.trainLoss, digits: 4)), val loss "
            + "\(formatFixed(e.validationLoss, digits: 4)) (lr \(formatScientific(e.learningRate)))")
        if let checkpoint { try trainer.save(to: checkpoint, elapsed: monotonicSeconds() - start) }
    }
    if trainer.step == 0 { try evaluate() }
    let progress = Progress(total: steps, label: label)
    while trainer.step < steps {
        let stepStart = monotonicSeconds()
        let (loss, norm) = trainer.trainStep()
        trainingSeconds += monotonicSeconds() - stepStart
        guard loss.isFinite && norm.isFinite else {
            divergence = "diverged at step \(trainer.step): the " + (loss.isFinite ? "gradient norm" : "loss")
                + " is no longer finite"
            break
        }
        let achieved = flopsPerStep / max(1e-9, trainer.stepSeconds.last ?? 1)
        progress.update(step: trainer.step, loss: loss, items: Int(tokensPerStep),
                        extra: "\(formatFixed(trainer.medianStepMilliseconds, digits: 1)) ms/step | MFU "
                            + formatPercent(achieved / peakFLOPS))
        if trainer.step % evalEvery == 0 || trainer.step == steps {
            progress.finish()
            try evaluate()
        }
    }
    progress.finish(divergence ?? "")
    let ms = trainer.medianStepMilliseconds
    let tokensPerSecond = ms > 0 ? tokensPerStep / (ms / 1000) : 0
    return Week08Run(label: label, evaluations: trainer.evaluations, stepLosses: trainer.stepLosses,
                     finalValidationLoss: trainer.evaluations.last?.validationLoss ?? .nan,
                     medianStepMilliseconds: ms, tokensPerSecond: tokensPerSecond,
                     mfu: tokensPerSecond * trainer.model.config.trainingFLOPsPerToken / peakFLOPS,
                     seconds: trainingSeconds, divergence: divergence)
}

// MARK: - Experiments

/// The variants of one experiment: a legend name and how it changes the model (and training).
func week08Variants(_ experiment: String, config: Week08Config) -> [(String, (inout GPTConfig, inout GPTTrainingConfig) -> Void)] {
    let width = config.model.width
    switch experiment {
    case "prenorm-vs-postnorm":
        // no warm-up and a higher peak: where Post-LN's unnormalised residual path hurts
        let hot: (inout GPTTrainingConfig) -> Void = { $0.warmupSteps = 0; $0.learningRate = config.experimentLearningRate }
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
/// batches) and returns the runs, with the validation estimate every tenth of the way.
func runWeek08Experiment(_ experiment: String, data: CharacterData, config: Week08Config, peakFLOPS: Double,
                         log: (String) -> Void) throws -> [Week08Run] {
    var runs: [Week08Run] = []
    for (name, change) in week08Variants(experiment, config: config) {
        var model = config.model, training = config.training
        training.steps = config.experimentSteps
        training.decaySteps = nil
        training.evalEvery = max(1, config.experimentSteps / 10)
        change(&model, &training)
        model.vocabularySize = data.vocabulary.size
        var rng = SplitMix64(seed: config.common.seed)
        let gpt = try GPT(config: model, maxBatch: training.batchSize, rng: &rng)
        let trainer = try GPTTrainer(model: gpt, training: training, train: data.train, validation: data.validation,
                                     seed: config.common.seed)
        log("\(experiment): \(name), \(gpt.parameterCount) parameters, lr \(training.learningRate), warm-up \(training.warmupSteps)")
        runs.append(try trainWeek08(trainer, label: name, checkpoint: nil, peakFLOPS: peakFLOPS, log: log))
    }
    return runs
}

// MARK: - Outputs

/// Validation (solid) and training (dashed) loss estimates against step, one colour per run.
func week08LossChart(_ runs: [Week08Run], title: String) -> String {
    var series: [Series] = []
    // One run: the legend says only which loss; an experiment's runs: which variant too.
    func name(_ run: Week08Run, _ loss: String) -> String { runs.count == 1 ? loss : "\(run.label) \(loss)" }
    for run in runs {
        let steps = run.evaluations.map { Double($0.step) }
        series.append(Series(name(run, "validation"), x: steps, y: run.evaluations.map(\.validationLoss)))
    }
    for run in runs {
        let steps = run.evaluations.map { Double($0.step) }
        series.append(Series(name(run, "train"), x: steps, y: run.evaluations.map(\.trainLoss), dashed: true))
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
    ["val_loss": JSONValue(run.finalValidationLoss), "train_loss": JSONValue(run.evaluations.last?.trainLoss ?? .nan),
     "ms_per_step": JSONValue(run.medianStepMilliseconds), "tokens_per_second": JSONValue(run.tokensPerSecond),
     "mfu": JSONValue(run.mfu), "seconds": JSONValue(run.seconds), "steps": JSONValue(run.stepLosses.count),
     "diverged": JSONValue(run.divergence != nil),
     "history": .array(run.evaluations.map { e in .object(e.row.mapValues { .number($0) }) })]
}
