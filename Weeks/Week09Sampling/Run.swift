// The lesson of week 9 as one function, step by step (main.swift calls it; so do the tests, so
// the two never drift): a model (a checkpoint, --out's best one, or trained with early
// stopping), the whole validation split, the KV cache checked against a full recompute, the
// sampling comparison, inference (one prompt or line by line), the export, and the outputs.
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a run produced, for the summary and the tests.
struct Week09Result {
    var model: Week09Model
    var training: LanguageModelTrainingRun?
    var reusedCheckpoint: String?
    var cacheCheck: Week09CacheCheck?
    var comparison: [Week09SamplerRow] = []
    var generation: Week09Generation?
    var promptsAnswered = 0
    var export: HuggingFaceExport?
    var files: [String] = []
}

/// Streams to standard output (no newline added, flushed at once).
let standardOutputWriter: (String) -> Void = { text in
    print(text, terminator: "")
    fflush(stdout)
}

func runWeek09(_ config: Week09Config, configJSON: [String: JSONValue], readLine: () -> String? = { Swift.readLine() },
               write: (String) -> Void = standardOutputWriter, log: @escaping (String) -> Void) throws -> Week09Result {
    let out = config.common.out
    try createDirectories(out)
    // The data is read only when needed: to train, to compare, or for a week 8 checkpoint's vocabulary.
    var loadedData: CharacterData?
    func data() throws -> CharacterData {
        if let loadedData { return loadedData }
        let loaded = try CharacterData.load(corpus: config.corpus, prompt: config.checkpoint == nil ? config.prompt + config.stop : "")
        log(loaded.description)
        loadedData = loaded
        return loaded
    }

    // 1. The model: from --checkpoint, from --out's best checkpoint of this model, or trained.
    var result: Week09Result
    if let path = config.checkpoint {
        let model = try loadWeek09Checkpoint(path, fallbackVocabulary: { try data().vocabulary })
        log("loaded \(path): \(model.gpt.config.layers) blocks, width \(model.gpt.config.width), context "
            + "\(model.gpt.config.context), vocabulary \(model.vocabulary.size), \(model.gpt.parameterCount) parameters")
        result = Week09Result(model: model)
    } else if let reused = reusableWeek09Checkpoint(config, data: try data()) {
        log("reusing \(reused.source), the best checkpoint of this model from an earlier run (--retrain trains again)")
        result = Week09Result(model: reused, reusedCheckpoint: reused.source)
    } else {
        // 2. Train with early stopping; the model comes back with its best validation weights.
        let data = try data()
        log("training: at most \(config.steps) steps, evaluation every \(config.evalEvery) on "
            + (config.evalWindows > 0 ? "the first \(config.evalWindows) validation windows of \(config.model.context)" : "the whole validation split")
            + (config.patience > 0 ? ", early stopping after \(config.patience) evaluations without a new best" : ""))
        let (model, run) = try trainWeek09(config, data: data, log: log)
        result = Week09Result(model: model, training: run)
        if let full = run.fullValidationLoss {
            log("whole validation split (\(run.fullValidationTokens) characters, every window of \(config.model.context) once), "
                + "weights of step \(run.restoredStep ?? run.bestStep): loss \(formatFixed(full, digits: 4)) nats/char, perplexity "
                + "\(formatFixed(exp(full), digits: 2)), \(formatFixed(bitsPerCharacter(natsPerToken: full), digits: 3)) bits/char")
        }
        result.files += run.checkpoints
    }
    let model = result.model
    // The inference modes need no other step: continue the prompt(s), then the export.
    var rng = SplitMix64(seed: config.common.seed &+ 2)
    if config.mode == .lesson || config.compare {
        // 3. The KV cache: greedy text and logits against rerunning the whole window every token.
        let checkLength = min(config.maxTokens > 0 ? config.maxTokens : 200, 4 * model.gpt.config.context)
        let check = try checkWeek09Cache(model, promptIDs: try week09PromptIDs(config.prompt, model: model).ids, count: max(checkLength, 1))
        log("KV cache: \(max(checkLength, 1)) greedy characters " + (check.identical ? "identical" : "DIFFERENT")
            + " with and without it (largest logit difference \(formatScientific(Double(check.largestLogitDifference)))); "
            + "\(formatFixed(check.cachedTokensPerSecond, digits: 0)) vs \(formatFixed(check.uncachedTokensPerSecond, digits: 0)) "
            + "characters/s filling one context of \(model.gpt.config.context) (past it both rerun the whole window: nanoGPT's crop)")
        result.cacheCheck = check

        // 4. The comparison of samplers: the same prompts and seeds for every setting.
        let data = try data()
        log("\nsampling comparison: \(week09SamplerGrid.count) settings x \(config.samplesPerSetting) samples of "
            + "\(config.sampleLength) characters, each continuing the same validation-text prompts")
        result.comparison = try compareWeek09Samplers(model, trainingText: data.vocabulary.decode(data.train),
                                                      validationText: data.vocabulary.decode(data.validation),
                                                      samples: config.samplesPerSetting, length: config.sampleLength,
                                                      seed: config.common.seed, log: { _ in })
        week09ComparisonTable(result.comparison).forEach(log)
        log("first samples:")
        for row in result.comparison {
            log("  \(row.name): " + String(row.firstSample.prefix(70).map { $0 == "\n" ? "⏎" : $0 }))
        }
    }

    // 5. Inference: one prompt, streamed (and --json), or prompts line by line until end of input.
    if config.mode == .interactive {
        log("\ninteractive: one prompt per line, until end of input")
        result.promptsAnswered = try runWeek09Interactive(model, config: config, rng: &rng, readLine: readLine,
                                                          write: write, log: log)
    } else {
        log("\n--- \(config.mode == .lesson ? "inference: " : "")continuing the prompt (\(describe(config.sampling))) ---")
        let promptNotes = try week09PromptIDs(config.prompt, model: model).notes
        promptNotes.forEach(log)
        write(config.prompt)
        let generation = try week09Generate(model, prompt: config.prompt, sampling: config.sampling, maxTokens: config.maxTokens,
                                            stop: config.stop, cached: config.cache, rng: &rng) { write($0) }
        write("\n")
        log("--- \(generation.generatedIDs.count) characters in \(formatFixed(generation.seconds, digits: 2)) s, mean "
            + "log-likelihood \(formatFixed(generation.logLikelihoods.reduce(0, +) / Double(max(1, generation.logLikelihoods.count)), digits: 3)) nats/char ---")
        if let path = config.jsonPath {
            try writeTextFile(week09GenerationJSON(generation).serialized(pretty: false) + "\n", to: path)
            result.files.append(path)
        }
        result.generation = generation
    }

    // 6. Export: a directory transformers loads with GPT2LMHeadModel.from_pretrained.
    if let directory = config.exportDirectory {
        let export = try exportHuggingFaceGPT2(model.gpt, vocabulary: model.vocabulary, to: directory)
        log("exported to \(directory) (GPT-2 layout: \(export.tensors.count) tensors, Conv1D matrices transposed)")
        result.export = export
        result.files += export.files
    }

    // 7. Outputs: the training chart, the comparison chart, metrics.json.
    if config.plots, let run = result.training, !run.history.isEmpty {
        let path = joinPath(out, "training.svg")
        try writeTextFile(week09TrainingChart(run), to: path)
        result.files.append(path)
    }
    if config.plots, !result.comparison.isEmpty {
        let path = joinPath(out, "sampling.svg")
        try writeTextFile(week09ComparisonChart(result.comparison), to: path)
        result.files.append(path)
    }
    if config.mode == .lesson || config.compare {
        let metrics = MetricsLog(week: "Week09Sampling", config: configJSON)
        for row in result.training?.history ?? [] { metrics.record(row) }
        result.files.append(try metrics.write(final: week09Final(result), to: out))
    }
    return result
}

/// The `final` object of metrics.json.
func week09Final(_ result: Week09Result) -> [String: JSONValue] {
    var final: [String: JSONValue] = ["parameters": JSONValue(result.model.gpt.parameterCount),
                                      "model": result.model.gpt.config.json]
    if let run = result.training {
        final["steps"] = JSONValue(run.stepsDone)
        final["best_step"] = JSONValue(run.bestStep)
        final["best_val_loss"] = JSONValue(run.bestValidationLoss)
        final["stopped_early"] = JSONValue(run.earlyStop != nil)
        final["seconds"] = JSONValue(run.seconds)
        if let full = run.fullValidationLoss {
            final["val_loss"] = JSONValue(full)
            final["val_perplexity"] = JSONValue(exp(full))
            final["val_bits_per_char"] = JSONValue(bitsPerCharacter(natsPerToken: full))
            final["val_tokens"] = JSONValue(run.fullValidationTokens)
        }
    }
    if let reused = result.reusedCheckpoint { final["reused_checkpoint"] = JSONValue(reused) }
    if let check = result.cacheCheck {
        final["kv_cache_identical"] = JSONValue(check.identical)
        final["kv_cache_largest_logit_difference"] = JSONValue(Double(check.largestLogitDifference))
        final["kv_cache_speedup"] = JSONValue(check.cachedTokensPerSecond / check.uncachedTokensPerSecond)
    }
    if !result.comparison.isEmpty {
        final["sampling"] = .object(Dictionary(uniqueKeysWithValues: result.comparison.map { ($0.name, week09RowJSON($0)) }))
    }
    if let generation = result.generation { final["sample"] = JSONValue(generation.text) }
    return final
}

/// "temperature 0.8, top-k 20" — the knobs in the sampler's order.
func describe(_ s: SamplingSettings) -> String {
    var parts: [String] = []
    if let penalty = s.repetitionPenalty, penalty != 1 {
        parts.append("repetition penalty \(penalty) over the last " + (s.repetitionWindow == 0 ? "all" : "\(s.repetitionWindow)"))
    }
    parts.append(s.temperature == 0 ? "greedy" : "temperature \(s.temperature)")
    if let k = s.topK { parts.append("top-k \(k)") }
    if let p = s.topP { parts.append("top-p \(p)") }
    if let m = s.minP { parts.append("min-p \(m)") }
    return parts.joined(separator: ", ")
}

/// One-line summary of the run.
func week09Summary(_ result: Week09Result) -> [String] {
    var lines: [String] = []
    if let run = result.training {
        var line = "summary: \(run.stepsDone) steps in \(formatFixed(run.seconds, digits: 1)) s, best validation estimate "
            + "\(formatFixed(run.bestValidationLoss, digits: 4)) at step \(run.bestStep)"
        if let full = run.fullValidationLoss { line += "; whole validation split \(formatFixed(full, digits: 4)) nats/char" }
        if run.earlyStop != nil { line += " (stopped early)" }
        lines.append(line)
    }
    if let check = result.cacheCheck {
        lines.append("KV cache: greedy text " + (check.identical ? "identical" : "DIFFERENT") + ", speed-up "
                     + formatFixed(check.cachedTokensPerSecond / check.uncachedTokensPerSecond, digits: 1) + "x")
    }
    return lines
}
