// Week 9's steps, one function each, called in order by main.swift (and by the tests): the
// model from a checkpoint or from training, the comparison of samplers, the inference tool
// (one prompt, or prompts line by line), the KV-cache check, and the outputs.
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A GPT and the character vocabulary it reads.
struct Week09Model {
    let gpt: GPT
    let vocabulary: CharVocabulary
    /// Where it came from: "trained", or a checkpoint path.
    let source: String
}

// MARK: - Checkpoints

/// The configuration stored in a week 9 checkpoint: the GPT's config and its vocabulary (code
/// points in id order), so that the file alone is enough to sample from.
///   {"week": "Week09Sampling", "model": {...GPTConfig...}, "vocabulary": [10, 32, 33, ...]}
func week09CheckpointConfig(model: GPTConfig, vocabulary: CharVocabulary) -> String {
    let document: JSONValue = ["week": "Week09Sampling", "model": model.json,
                               "vocabulary": JSONValue(vocabulary.characters.map { Int($0.value) })]
    return document.serialized(pretty: false)
}

/// Loads a GPT from a week 9 checkpoint (or a week 8 one, whose file carries no vocabulary:
/// `fallbackVocabulary` then gives the corpus's). Everything is checked before use, and each
/// problem is one line: a truncated or corrupted file and a file of another model kind
/// (`Checkpoint.load`), a config that is not a GPT's, a vocabulary that does not fit the weights
/// (another vocabulary), a missing or misshapen tensor.
func loadWeek09Checkpoint(_ path: String, fallbackVocabulary: () throws -> CharVocabulary) throws -> Week09Model {
    let contents = try Checkpoint.load(from: path, expectingKind: "gpt")
    func problem(_ message: String) -> WorkbookError { WorkbookError("checkpoint \(path): \(message)") }
    guard let document = try? JSONValue.parse(contents.config), document.objectValue != nil else {
        throw problem("its config is not JSON")
    }
    let modelJSON = document["model"] ?? document   // week 9 nests the model; week 8 stores it bare
    let config: GPTConfig
    do { config = try GPTConfig(json: modelJSON) } catch let error as WorkbookError {
        throw problem("its config is not a GPT's (\(error.message))")
    }
    let vocabulary: CharVocabulary
    if let list = document["vocabulary"]?.arrayValue {
        var scalars = String.UnicodeScalarView()
        for entry in list {
            guard let code = entry.intValue, code >= 0, code <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(code)) else {
                throw problem("its vocabulary holds \(entry.serialized(pretty: false)), not a character")
            }
            scalars.append(scalar)
        }
        vocabulary = CharVocabulary(text: String(scalars))
        guard vocabulary.size == list.count, vocabulary.characters.map(\.value) == list.compactMap({ $0.intValue }).map(UInt32.init) else {
            throw problem("its vocabulary is not a list of distinct characters in code-point order (corrupted?)")
        }
        guard vocabulary.size == config.vocabularySize else {
            throw problem("its vocabulary has \(vocabulary.size) characters but the model has \(config.vocabularySize) token ids")
        }
    } else {
        vocabulary = try fallbackVocabulary()
        guard vocabulary.size == config.vocabularySize else {
            throw problem("was trained on another vocabulary (\(config.vocabularySize) characters; this corpus has "
                          + "\(vocabulary.size)): pass the --corpus it was trained on")
        }
    }
    var rng = SplitMix64(seed: 0)
    let gpt = try GPT(config: config, maxBatch: 1, rng: &rng)
    do {
        try gpt.loadParameters(contents.tensors)
    } catch let error as CheckpointMismatch {
        throw problem(error.detail)
    } catch let error as WorkbookError {
        throw problem(error.message)
    }
    return Week09Model(gpt: gpt, vocabulary: vocabulary, source: path)
}

func week09FileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

// MARK: - Training

/// Trains the GPT the flags describe through the shared trainer, with early stopping; the model
/// afterwards holds the best validation weights (also in out/best.safetensors).
func trainWeek09(_ config: Week09Config, data: CharacterData, log: @escaping (String) -> Void)
    throws -> (model: Week09Model, run: LanguageModelTrainingRun) {
    var modelConfig = config.model
    modelConfig.vocabularySize = data.vocabulary.size
    var rng = SplitMix64(seed: config.common.seed)
    let gpt = try GPT(config: modelConfig, maxBatch: config.batchSize, rng: &rng)
    log("model: \(modelConfig.layers) blocks of \(modelConfig.heads) heads, width \(modelConfig.width), context "
        + "\(modelConfig.context), \(gpt.parameterCount) parameters")
    let training = config.training(configJSON: week09CheckpointConfig(model: modelConfig, vocabulary: data.vocabulary),
                                   out: config.common.out)
    var trainingRNG = SplitMix64(seed: config.common.seed &+ 1)
    let run = try trainLanguageModel(gpt, train: data.train, validation: data.validation, tokenizer: data.vocabulary,
                                     config: training, label: "train", rng: &trainingRNG, log: log)
    if let divergence = run.divergence { throw WorkbookError(divergence) }
    return (Week09Model(gpt: gpt, vocabulary: data.vocabulary, source: "trained"), run)
}

/// The best checkpoint in --out, when it holds exactly the model these flags describe on this
/// data (then the lesson reuses it instead of training again); nil otherwise.
func reusableWeek09Checkpoint(_ config: Week09Config, data: CharacterData) -> Week09Model? {
    let path = joinPath(config.common.out, "best.safetensors")
    guard !config.retrain, week09FileExists(path),
          let model = try? loadWeek09Checkpoint(path, fallbackVocabulary: { data.vocabulary }) else { return nil }
    var wanted = config.model
    wanted.vocabularySize = data.vocabulary.size
    return model.gpt.config == wanted && model.vocabulary == data.vocabulary ? model : nil
}

// MARK: - Generation

/// What one generation produced.
struct Week09Generation {
    var promptIDs: [Int]
    var generatedIDs: [Int]
    var text: String
    /// The logits at the prompt's last position (V).
    var lastLogits: [Float]
    /// ln p(token) of each generated token under the model itself (temperature 1, no filter).
    var logLikelihoods: [Double]
    var seconds: Double
    /// Notes for the user (a cropped or empty prompt).
    var notes: [String]
}

/// Encodes `prompt` for `model`: one clear line for a character outside the vocabulary; an empty
/// prompt becomes a newline, and a prompt longer than the context is kept whole but only its
/// last T characters are read (generation crops the same way), each said in a note.
func week09PromptIDs(_ prompt: String, model: Week09Model) throws -> (ids: [Int], notes: [String]) {
    let ids: [Int]
    do { ids = try model.vocabulary.encode(prompt) } catch let error as WorkbookError {
        throw CommandLineError("--prompt: \(error.message)")
    }
    if ids.isEmpty {
        guard let newline = model.vocabulary.id(of: "\n") else {
            throw WorkbookError("the prompt is empty and the vocabulary has no newline to start from: give a --prompt")
        }
        return ([newline], ["(empty prompt: starting from a newline)"])
    }
    let T = model.gpt.config.context
    if ids.count > T {
        return (ids, ["(the prompt has \(ids.count) characters, more than the context of \(T): the model reads its last \(T), "
                      + "as it does during generation)"])
    }
    return (ids, [])
}

/// Generates after `prompt` with `sampling`, streaming each character to `write`, and scores
/// each token's log-likelihood under the model. Stops after `maxTokens` or at `stop`.
func week09Generate(_ model: Week09Model, prompt: String, sampling: SamplingSettings, maxTokens: Int, stop: String,
                    cached: Bool, rng: inout SplitMix64, write: (String) -> Void = { _ in }) throws -> Week09Generation {
    let (promptIDs, notes) = try week09PromptIDs(prompt, model: model)
    let stopIDs: [Int]
    do { stopIDs = try model.vocabulary.encode(stop) } catch let error as WorkbookError {
        throw CommandLineError("--stop: \(error.message)")
    }
    var lastLogits: [Float] = []
    var logLikelihoods: [Double] = []
    let start = monotonicSeconds()
    let state = model.gpt.makeDecodingState(cached: cached)
    let ids = try generate(model.gpt, prompt: promptIDs, maxTokens: maxTokens, sampling: sampling,
                           stopSequences: stopIDs.isEmpty ? [] : [stopIDs], state: state, rng: &rng) { token, logits in
        if lastLogits.isEmpty { lastLogits = logits }
        logLikelihoods.append(logSoftmax(logits, at: token))
        write(model.vocabulary.decode([token]))
    }
    if lastLogits.isEmpty { lastLogits = try model.gpt.nextTokenLogits(after: promptIDs, state: model.gpt.makeDecodingState(cached: cached)) }
    return Week09Generation(promptIDs: promptIDs, generatedIDs: ids, text: model.vocabulary.decode(ids), lastLogits: lastLogits,
                            logLikelihoods: logLikelihoods, seconds: monotonicSeconds() - start, notes: notes)
}

/// ln softmax(logits)[token], in Double: log-sum-exp with the maximum subtracted.
func logSoftmax(_ logits: [Float], at token: Int) -> Double {
    let top = Double(logits.max() ?? 0)
    let sum = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
    return Double(logits[token]) - top - log(sum)
}

/// The --json document for scripts: {"prompt_ids", "generated_ids", "text" (the generated
/// characters, without the prompt), "last_logits" (the logits at the prompt's last position)}.
func week09GenerationJSON(_ generation: Week09Generation) -> JSONValue {
    ["prompt_ids": JSONValue(generation.promptIDs), "generated_ids": JSONValue(generation.generatedIDs),
     "text": JSONValue(generation.text), "last_logits": .array(generation.lastLogits.map { JSONValue($0) })]
}

/// The inference tool's interactive mode: each line of `readLine` is a prompt (an empty line
/// starts from a newline), continued and streamed, until `readLine` returns nil (end of input).
/// Returns the number of prompts answered.
func runWeek09Interactive(_ model: Week09Model, config: Week09Config, rng: inout SplitMix64,
                          readLine: () -> String?, write: (String) -> Void, log: (String) -> Void) throws -> Int {
    var answered = 0
    while let line = readLine() {
        let prompt = line.replacingEscapedNewlines
        write(prompt)
        let generation = try week09Generate(model, prompt: prompt, sampling: config.sampling, maxTokens: config.maxTokens,
                                            stop: config.stop, cached: config.cache, rng: &rng) { write($0) }
        write("\n")
        generation.notes.forEach(log)
        log("--- \(generation.generatedIDs.count) characters in \(formatFixed(generation.seconds, digits: 2)) s ---")
        answered += 1
    }
    return answered
}

// MARK: - The KV cache, checked and timed

/// Greedy decoding of `count` tokens with and without the KV cache: whether the two texts are
/// identical, the largest difference between the logits at every step, and both speeds.
struct Week09CacheCheck {
    var identical: Bool
    var largestLogitDifference: Float
    var cachedTokensPerSecond: Double
    var uncachedTokensPerSecond: Double
}

/// The speeds are of filling one context (T − 1 tokens after one): past the context both ways
/// rerun the whole window at every token (nanoGPT's crop policy), so only there the cache differs.
func checkWeek09Cache(_ model: Week09Model, promptIDs: [Int], count: Int) throws -> Week09CacheCheck {
    var speeds: [Double] = []
    let fill = max(1, model.gpt.config.context - 1)
    for cached in [true, false] {
        var rng = SplitMix64(seed: 0)
        let start = monotonicSeconds()
        _ = try generate(model.gpt, prompt: [promptIDs.last!], maxTokens: fill, sampling: SamplingSettings(temperature: 0),
                         state: model.gpt.makeDecodingState(cached: cached), rng: &rng) { _, _ in }
        speeds.append(Double(fill) / max(monotonicSeconds() - start, 1e-9))
    }
    var runs: [(ids: [Int], logits: [[Float]], seconds: Double)] = []
    for cached in [true, false] {
        var rng = SplitMix64(seed: 0)
        var logits: [[Float]] = []
        let start = monotonicSeconds()
        let ids = try generate(model.gpt, prompt: promptIDs, maxTokens: count, sampling: SamplingSettings(temperature: 0),
                               state: model.gpt.makeDecodingState(cached: cached), rng: &rng) { _, l in logits.append(l) }
        runs.append((ids, logits, monotonicSeconds() - start))
    }
    var largest: Float = 0
    for (a, b) in zip(runs[0].logits, runs[1].logits) {
        for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) }
    }
    return Week09CacheCheck(identical: runs[0].ids == runs[1].ids, largestLogitDifference: largest,
                            cachedTokensPerSecond: speeds[0], uncachedTokensPerSecond: speeds[1])
}

// MARK: - The sampling comparison

/// One row of the comparison: a setting and what its samples measure.
struct Week09SamplerRow {
    var name: String
    var settings: SamplingSettings
    /// Unique word n-grams / all word n-grams, over all samples of the setting (n = 1, 2, 3).
    var distinct: [Double]
    /// Share of each sample's word 3-grams that already occurred earlier in the same sample, averaged.
    var repetitionRate: Double
    /// Share of generated words (letters only, lowercased) that occur in the training text.
    var corpusWordShare: Double
    /// Mean ln p(character) under the model (temperature 1, no filter), nats per character.
    var meanLogLikelihood: Double
    /// The first sample, for the eye.
    var firstSample: String
}

/// The settings compared: greedy, a temperature sweep, each filter alone, a combination and the
/// repetition penalty (ten, one colour each in the chart).
let week09SamplerGrid: [(name: String, settings: SamplingSettings)] = [
    ("greedy", SamplingSettings(temperature: 0)),
    ("T 0.5", SamplingSettings(temperature: 0.5)),
    ("T 0.8", SamplingSettings(temperature: 0.8)),
    ("T 1.0", SamplingSettings(temperature: 1)),
    ("T 1.5", SamplingSettings(temperature: 1.5)),
    ("top-k 5", SamplingSettings(temperature: 1, topK: 5)),
    ("top-p 0.9", SamplingSettings(temperature: 1, topP: 0.9)),
    ("min-p 0.1", SamplingSettings(temperature: 1, minP: 0.1)),
    ("T 0.8 top-k 20 top-p 0.95", SamplingSettings(temperature: 0.8, topK: 20, topP: 0.95)),
    ("T 0.8 rep 1.3", SamplingSettings(temperature: 0.8, repetitionPenalty: 1.3)),
]

/// The words of a text: maximal runs of letters (and apostrophes inside them), lowercased.
func week09Words(_ text: String) -> [String] {
    var words: [String] = [], current = ""
    for character in text {
        if character.isLetter || (character == "'" && !current.isEmpty) {
            current.append(character)
        } else if !current.isEmpty {
            words.append(current.lowercased()); current = ""
        }
    }
    if !current.isEmpty { words.append(current.lowercased()) }
    return words.map { $0.hasSuffix("'") ? String($0.dropLast()) : $0 }
}

/// Unique / total n-grams of `samples` (each a word list), all pooled (Li et al. 2016's distinct-n).
func distinctNGrams(_ samples: [[String]], n: Int) -> Double {
    var seen = Set<[String]>(), total = 0
    for words in samples where words.count >= n {
        for i in 0...(words.count - n) { seen.insert(Array(words[i..<(i + n)])); total += 1 }
    }
    return total == 0 ? .nan : Double(seen.count) / Double(total)
}

/// Share of a sample's word 3-grams that repeat one seen earlier in the same sample.
func repetitionRate(_ words: [String], n: Int = 3) -> Double {
    guard words.count >= n else { return .nan }
    var seen = Set<[String]>(), repeats = 0
    for i in 0...(words.count - n) {
        if !seen.insert(Array(words[i..<(i + n)])).inserted { repeats += 1 }
    }
    return Double(repeats) / Double(words.count - n + 1)
}

/// The prompts every setting continues: `count` slices of `length` characters of the validation
/// text, evenly spaced, each starting after a newline (so they begin at a line).
func week09ComparisonPrompts(validation: String, count: Int, length: Int) -> [String] {
    let characters = Array(validation)
    guard characters.count > length + 1 else { return Array(repeating: String(characters.prefix(length)), count: count) }
    return (0..<count).map { i in
        var start = i * (characters.count - length - 1) / max(count, 1)
        while start > 0 && start < characters.count - length - 1 && characters[start - 1] != "\n" { start += 1 }
        return String(characters[start..<min(characters.count, start + length)])
    }
}

/// Generates `samples` continuations of the same prompts with each setting of the grid (sample i
/// of every setting from the same prompt and seed) and measures them.
func compareWeek09Samplers(_ model: Week09Model, trainingText: String, validationText: String, samples: Int, length: Int,
                           seed: UInt64, log: (String) -> Void) throws -> [Week09SamplerRow] {
    let corpusWords = Set(week09Words(trainingText))
    let prompts = week09ComparisonPrompts(validation: validationText, count: samples, length: min(32, model.gpt.config.context))
    var rows: [Week09SamplerRow] = []
    for (name, settings) in week09SamplerGrid {
        var texts: [String] = [], likelihoods: [Double] = []
        for (i, prompt) in prompts.enumerated() {
            var rng = SplitMix64(seed: seed &+ UInt64(i))
            let generation = try week09Generate(model, prompt: prompt, sampling: settings, maxTokens: length, stop: "",
                                                cached: true, rng: &rng)
            texts.append(generation.text)
            likelihoods += generation.logLikelihoods
        }
        let words = texts.map(week09Words)
        let allWords = words.flatMap { $0 }
        let rates = words.map { repetitionRate($0) }.filter(\.isFinite)
        rows.append(Week09SamplerRow(
            name: name, settings: settings, distinct: (1...3).map { distinctNGrams(words, n: $0) },
            repetitionRate: rates.isEmpty ? .nan : rates.reduce(0, +) / Double(rates.count),
            corpusWordShare: allWords.isEmpty ? .nan : Double(allWords.filter(corpusWords.contains).count) / Double(allWords.count),
            meanLogLikelihood: likelihoods.reduce(0, +) / Double(max(likelihoods.count, 1)),
            firstSample: texts.first ?? ""))
        log("  \(name): done")
    }
    return rows
}

/// The comparison as a text table (one row per setting).
func week09ComparisonTable(_ rows: [Week09SamplerRow]) -> [String] {
    func cell(_ x: Double) -> String { x.isFinite ? formatFixed(x, digits: 3) : "-" }
    let nameWidth = max(7, rows.map(\.name.count).max() ?? 0)
    func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    var lines = [pad("setting", nameWidth) + "  distinct-1  distinct-2  distinct-3  repetition  corpus words  log-lik/char"]
    for row in rows {
        lines.append(pad(row.name, nameWidth) + "  " + [row.distinct[0], row.distinct[1], row.distinct[2], row.repetitionRate]
            .map { pad(cell($0), 10) }.joined(separator: "  ") + "  " + pad(cell(row.corpusWordShare), 12) + "  "
            + cell(row.meanLogLikelihood))
    }
    return lines
}

/// The quality/diversity chart: each setting at (mean log-likelihood, distinct-2).
func week09ComparisonChart(_ rows: [Week09SamplerRow]) -> String {
    Plot.scatter(title: "Week 9: samplers, likelihood against diversity", xLabel: "mean log-likelihood per character (nats)",
                 yLabel: "distinct-2 (unique word pairs / all)",
                 points: rows.enumerated().map { (x: $1.meanLogLikelihood, y: $1.distinct[1], label: $0) },
                 classNames: rows.map(\.name))
}

/// Loss (train and validation, nats/char), validation perplexity and bits per character against
/// step, with the best step the early stopping kept.
func week09TrainingChart(_ run: LanguageModelTrainingRun) -> String {
    let steps = run.history.map { $0["step"] ?? .nan }
    func column(_ key: String) -> [Double] { run.history.map { $0[key] ?? .nan } }
    let best = "best step \(run.bestStep)"
    let loss = Plot.lines(title: "loss (\(best))", xLabel: "step", yLabel: "loss (nats/char)",
                          series: [Series("validation", x: steps, y: column("val_loss")),
                                   Series("train", x: steps, y: column("train_loss"), dashed: true)])
    let perplexity = Plot.lines(title: "validation perplexity e^loss", xLabel: "step", yLabel: "perplexity",
                                series: [Series("validation perplexity", x: steps, y: column("val_perplexity"))])
    let bits = Plot.lines(title: "validation bits per character", xLabel: "step", yLabel: "bits/char",
                          series: [Series("validation bits/char", x: steps, y: column("val_bits_per_char"))])
    return Plot.sideBySide([loss, perplexity, bits])
}

func week09RowJSON(_ row: Week09SamplerRow) -> JSONValue {
    func number(_ x: Double) -> JSONValue { x.isFinite ? JSONValue(x) : .null }
    return ["distinct_1": number(row.distinct[0]), "distinct_2": number(row.distinct[1]), "distinct_3": number(row.distinct[2]),
            "repetition_rate": number(row.repetitionRate), "corpus_word_share": number(row.corpusWordShare),
            "mean_log_likelihood": number(row.meanLogLikelihood), "first_sample": JSONValue(row.firstSample)]
}
