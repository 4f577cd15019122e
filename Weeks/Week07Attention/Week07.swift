// Week 7's parts as functions, in the order main.swift calls them, then the outputs (plots,
// metrics.json, summary). The tests call each part's function and run the program itself.
import Shared

// MARK: - Part 1: tokenization

struct TokenizationPart {
    let rows: [TokenizationRow]
    let merges: BytePairMerges
}

func runTokenizationPart(text: String, config: Week07Config, log: (String) -> Void) -> TokenizationPart {
    let (rows, merges) = compareTokenizations(text: text, wordMinimumCount: config.wordMinimumCount, merges: config.merges)
    log("tokenizer                            vocabulary   tokens per 1,000 chars   unknown (validation)")
    for row in rows {
        log(row.name.padding(36) + " " + String(row.vocabularySize).leftPadding(10) + "   "
            + formatFixed(row.tokensPerThousandCharacters, digits: 1).leftPadding(22) + "   "
            + formatPercent(row.unknownShare).leftPadding(10))
    }
    let shown = merges.merges.prefix(12).indices.map { "'" + String(decoding: merges.bytes(of: 256 + $0), as: UTF8.self) + "'" }
    log("first merges: " + shown.joined(separator: " "))
    return TokenizationPart(rows: rows, merges: merges)
}

extension String {
    /// The string followed by spaces up to `width` characters.
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    /// Spaces, then the string, `width` characters in all.
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

// MARK: - Part 2: embeddings

struct EmbeddingPart {
    let corpus: WordCorpus
    let training: SkipGramResult
    let checks: [GradientCheckResult]
    let ranks: [Int]
    let medianRank: Double
    let randomRanks: [Int]
    let randomMedianRank: Double
    let neighbours: [(word: String, nearest: [(word: String, cosine: Float)])]
    /// The most frequent words and their 2-D PCA coordinates.
    let projection: [(word: String, x: Double, y: Double)]
}

/// Words whose neighbours are printed.
let neighbourQueries = ["king", "thou", "love", "father", "good", "night", "sword", "heaven"]

func runEmbeddingPart(text: String, config: Week07Config, log: (String) -> Void) -> EmbeddingPart {
    let checks = checkSkipGram(seed: config.seed)
    log("gradient check of the skip-gram loss (input and output vectors): worst relative error "
        + formatScientific(checks.map(\.error).max() ?? 0) + (checks.allSatisfy(\.passed) ? " ok" : " FAILED"))
    let corpus = WordCorpus(text: text, minimumCount: config.embeddingMinimumCount)
    log("corpus: \(corpus.rawWordCount) words, \(corpus.vocabularySize) with at least \(config.embeddingMinimumCount) occurrences "
        + "(\(corpus.keptWordCount) kept); dimension \(config.skipGram.dimension), window \(config.skipGram.window), "
        + "\(config.skipGram.negatives) negatives, \(config.skipGram.epochs) epochs")
    let training = trainSkipGram(corpus: corpus, config: config.skipGram, seed: config.seed, log: log)
    let D = config.skipGram.dimension
    let unit = unitRows(training.inputVectors, dimension: D)
    let ranks = pairRanks(unitVectors: unit, dimension: D, corpus: corpus)
    // the same figure for random vectors: what "no learning" scores
    var rng = SplitMix64(seed: config.seed &+ 3)
    let randomUnit = unitRows(rng.gaussians(corpus.vocabularySize * D), dimension: D)
    let randomRanks = pairRanks(unitVectors: randomUnit, dimension: D, corpus: corpus)
    let median = medianValue(ranks.map(Double.init)), randomMedian = medianValue(randomRanks.map(Double.init))
    var neighbours: [(word: String, nearest: [(word: String, cosine: Float)])] = []
    for query in neighbourQueries {
        guard let id = corpus.index[query] else { continue }
        let nearest = nearestNeighbours(of: id, unitVectors: unit, dimension: D, count: 6)
        neighbours.append((query, nearest.map { (corpus.words[$0.word], $0.cosine) }))
        log("  " + query.padding(8) + " -> " + nearest.map { corpus.words[$0.word] + " " + formatFixed(Double($0.cosine), digits: 2) }
            .joined(separator: ", "))
    }
    log("related pairs (fixed in advance): partner ranks among the 2,000 most frequent words \(ranks); "
        + "median \(formatFixed(median, digits: 1)) vs \(formatFixed(randomMedian, digits: 1)) for random vectors")
    let shown = min(100, corpus.vocabularySize)
    let points = principalComponents2D(Array(unit[0..<(shown * D)]), dimension: D)
    let projection = (0..<shown).map { (corpus.words[$0], points[$0].0, points[$0].1) }
    return EmbeddingPart(corpus: corpus, training: training, checks: checks, ranks: ranks, medianRank: median,
                         randomRanks: randomRanks, randomMedianRank: randomMedian, neighbours: neighbours,
                         projection: projection)
}

// MARK: - Part 3: attention as a function

struct AttentionPart {
    let checks: [GradientCheckResult]
    let naiveDifference: Float
    let naiveCases: Int
}

func runAttentionPart(config: Week07Config, log: (String) -> Void) -> AttentionPart {
    let checks = checkAttention(seed: config.seed)
    let naive = compareAttentionWithNaive(seed: config.seed)
    log("softmax(Q·Kᵀ/√D + mask)·V against three plain loops in Double, \(naive.cases) shapes x masks "
        + "(T up to 127; a fully padded sequence included): largest difference \(formatScientific(Double(naive.worstDifference)))")
    log("gradient checks, 1 and 3 heads x {none, causal, causal with query offset, padding, causal + padding}, "
        + "and the multi-head layer: \(checks.filter(\.passed).count)/\(checks.count) pass, worst relative error "
        + formatScientific(checks.map(\.error).max() ?? 0))
    for failed in checks where !failed.passed { log("  \(failed)") }
    return AttentionPart(checks: checks, naiveDifference: naive.worstDifference, naiveCases: naive.cases)
}

// MARK: - Part 4: the toy task

struct SweepPoint {
    let length: Int
    let lstm: ToyScore
    let lstmAttention: ToyScore
}

struct ToyPart {
    let checks: [GradientCheckResult]
    let runs: [ToyModelKind: ToyRun]
    let sweep: [SweepPoint]
}

func describe(_ run: ToyRun) -> String {
    "token accuracy \(formatPercent(run.score.tokenAccuracy)), exact match \(formatPercent(run.score.exactMatch)) "
        + "(\(run.parameters) parameters, \(formatFixed(run.seconds, digits: 1)) s)"
}

func runToyPart(config: Week07Config, log: (String) -> Void) -> ToyPart {
    let checks = checkToyModels(seed: config.seed)
    log("gradient checks, LSTM + attention and Transformer, every parameter: "
        + "\(checks.filter(\.passed).count)/\(checks.count) pass, worst relative error " + formatScientific(checks.map(\.error).max() ?? 0))
    for failed in checks where !failed.passed { log("  \(failed)") }
    log("task \(config.toy.task.rawValue), L = \(config.length): \(config.toy.steps) steps of \(config.toy.batch) fresh sequences "
        + "for every model, Adam \(config.toy.learningRate), clip \(config.toy.clip); \(config.toy.heldOut) held-out sequences")
    var runs: [ToyModelKind: ToyRun] = [:]
    for kind in config.models {
        let run = trainToyModel(kind, length: config.length, config: config.toy, log: log)
        runs[kind] = run
        log("  " + kind.title.padding(34) + describe(run))
    }
    for kind in [ToyModelKind.lstmAttention, .transformer] {
        guard let run = runs[kind] else { continue }
        if kind == .transformer, let best = run.bestHead {
            log("  attention of the Transformer's best head (layer \(best.head / config.toy.heads + 1), head \(best.head % config.toy.heads + 1)) "
                + "on the aligned source position: \(formatPercent(best.mass)) of its mass")
        }
        if kind == .lstmAttention, let masses = run.score.mirroredMass.first, let best = run.bestLateShift {
            log("  LSTM + attention: mass on the aligned encoder state shifted by -2…+2: "
                + masses.map { formatPercent($0) }.joined(separator: " ") + " (best of 0…2: +\(best.shift), \(formatPercent(best.mass)))")
        }
    }
    var sweep: [SweepPoint] = []
    if config.sweepSteps > 0 {
        log("accuracy against L for the two LSTMs, \(config.sweepSteps) steps each:")
        for L in config.sweepLengths {
            let plain = trainToyModel(.lstm, length: L, config: config.toy, steps: config.sweepSteps, log: log)
            let attended = trainToyModel(.lstmAttention, length: L, config: config.toy, steps: config.sweepSteps, log: log)
            sweep.append(SweepPoint(length: L, lstm: plain.score, lstmAttention: attended.score))
            log("  L \(L): LSTM \(formatPercent(plain.score.tokenAccuracy)) / \(formatPercent(plain.score.exactMatch)), "
                + "LSTM + attention \(formatPercent(attended.score.tokenAccuracy)) / \(formatPercent(attended.score.exactMatch)) "
                + "(token accuracy / exact match)")
        }
    }
    return ToyPart(checks: checks, runs: runs, sweep: sweep)
}

// MARK: - Part 5: positional information

/// The Transformer without positions, with learned ones and with sinusoids; runs already made by
/// part 4 (same settings) are reused.
func runPositionsPart(config: Week07Config, reusing earlier: [ToyModelKind: ToyRun], log: (String) -> Void) -> [ToyModelKind: ToyRun] {
    var runs: [ToyModelKind: ToyRun] = [:]
    for kind in [ToyModelKind.transformerNoPositions, .transformer, .transformerSinusoidal] {
        let run = earlier[kind] ?? trainToyModel(kind, length: config.length, config: config.toy, log: log)
        runs[kind] = run
        log("  " + kind.title.padding(38) + describe(run))
    }
    return runs
}

// MARK: - Outputs

struct Week07Result {
    let config: Week07Config
    var tokenization: TokenizationPart?
    var embeddings: EmbeddingPart?
    var attention: AttentionPart?
    var toy: ToyPart?
    var positions: [ToyModelKind: ToyRun]?
    var files: [String] = []
}

func scoreJSON(_ run: ToyRun) -> JSONValue {
    var object: [String: JSONValue] = ["token_accuracy": .number(run.score.tokenAccuracy),
                                       "exact_match": .number(run.score.exactMatch),
                                       "parameters": .number(Double(run.parameters)), "seconds": .number(run.seconds),
                                       "final_train_loss": .number(run.finalLoss)]
    if let best = run.bestHead { object["best_head_aligned_mass"] = .number(best.mass) }
    if let late = run.bestLateShift {
        object["best_late_shift"] = .number(Double(late.shift))
        object["best_late_shift_mass"] = .number(late.mass)
    }
    return .object(object)
}

func writeWeek07Outputs(_ result: Week07Result, configJSON: [String: JSONValue]) throws -> [String] {
    let config = result.config
    let metrics = MetricsLog(week: "Week07Attention", config: configJSON)
    var final: [String: JSONValue] = [:]
    if let part = result.tokenization {
        final["tokenization"] = .array(part.rows.map { row in
            .object(["name": .string(row.name), "vocabulary_size": .number(Double(row.vocabularySize)),
                     "tokens_per_1000_characters": .number(row.tokensPerThousandCharacters),
                     "validation_unknown_share": .number(row.unknownShare)])
        })
    }
    if let part = result.embeddings {
        final["embeddings"] = .object([
            "median_pair_rank": .number(part.medianRank), "random_median_pair_rank": .number(part.randomMedianRank),
            "pair_ranks": .array(part.ranks.map { .number(Double($0)) }),
            "random_pair_ranks": .array(part.randomRanks.map { .number(Double($0)) }),
            "words_per_second": .number(part.training.wordsPerSecond), "seconds": .number(part.training.seconds),
            "vocabulary_size": .number(Double(part.corpus.vocabularySize)),
            "final_epoch_loss": .number(part.training.epochLosses.last ?? .nan),
            "gradient_check_worst_error": .number(part.checks.map(\.error).max() ?? 0),
        ])
    }
    if let part = result.attention {
        final["attention_gradient_check_worst_error"] = .number(part.checks.map(\.error).max() ?? 0)
        final["attention_naive_max_difference"] = .number(Double(part.naiveDifference))
    }
    var toyRuns: [ToyModelKind: ToyRun] = result.toy?.runs ?? [:]
    for (kind, run) in result.positions ?? [:] { toyRuns[kind] = run }
    for (kind, run) in toyRuns { final[kind.rawValue] = scoreJSON(run) }
    if let toy = result.toy {
        final["toy_gradient_check_worst_error"] = .number(toy.checks.map(\.error).max() ?? 0)
        if !toy.sweep.isEmpty {
            final["length_sweep"] = .array(toy.sweep.map { point in
                .object(["length": .number(Double(point.length)),
                         "lstm_token_accuracy": .number(point.lstm.tokenAccuracy), "lstm_exact_match": .number(point.lstm.exactMatch),
                         "lstm_attention_token_accuracy": .number(point.lstmAttention.tokenAccuracy),
                         "lstm_attention_exact_match": .number(point.lstmAttention.exactMatch)])
            })
        }
    }
    // history: one row per evaluation step, the models side by side
    let kinds = ToyModelKind.allCases.filter { toyRuns[$0] != nil }
    if let first = kinds.first.flatMap({ toyRuns[$0] }) {
        for (index, row) in first.history.enumerated() {
            var entry: [String: Double] = ["step": row["step"]!]
            for kind in kinds where index < toyRuns[kind]!.history.count {
                for (key, value) in toyRuns[kind]!.history[index] where key != "step" { entry[kind.rawValue + "_" + key] = value }
            }
            metrics.record(entry)
        }
    }
    var files = [try metrics.write(final: final, to: config.out)]
    guard config.plots else { return files }

    var plots: [(String, String)] = []
    if let part = result.embeddings {
        plots.append(("embeddings_pca.svg", Plot.labelledPoints(
            title: "word2vec: the \(part.projection.count) most frequent words, first two principal components",
            xLabel: "principal component 1", yLabel: "principal component 2",
            points: part.projection.map { (x: $0.x, y: $0.y, label: $0.word, group: 0) }, groupNames: ["word (cosine space)"])))
    }
    if let toy = result.toy, !toy.sweep.isEmpty {
        let lengths = toy.sweep.map { Double($0.length) }
        plots.append(("accuracy_vs_length.svg", Plot.lines(
            title: "\(config.toy.task.rawValue): held-out accuracy against sequence length (\(config.sweepSteps) steps each)",
            xLabel: "sequence length L", yLabel: "held-out accuracy", series: [
                // one colour per model: dashed its token accuracy, solid its exact match
                Series("LSTM, token accuracy", x: lengths, y: toy.sweep.map(\.lstm.tokenAccuracy), dashed: true, colorIndex: 0),
                Series("LSTM, exact match", x: lengths, y: toy.sweep.map(\.lstm.exactMatch), colorIndex: 0),
                Series("LSTM + attention, token accuracy", x: lengths, y: toy.sweep.map(\.lstmAttention.tokenAccuracy),
                       dashed: true, colorIndex: 1),
                Series("LSTM + attention, exact match", x: lengths, y: toy.sweep.map(\.lstmAttention.exactMatch), colorIndex: 1),
            ])))
    }
    func heatmap(_ run: ToyRun, head: Int, title: String) -> String {
        let L = run.length
        return Plot.heatmap(title: title, values: run.maps[head].map(Double.init), rows: L, columns: L,
                            rowLabels: (0..<L).map { "\($0 + 1): \(run.exampleAnswer[$0])" },
                            columnLabels: run.exampleSource.map(String.init),
                            xLabel: "source position (digit)", yLabel: "answer step: digit written", showValues: false)
    }
    if let run = toyRuns[.lstmAttention], !run.maps.isEmpty {
        plots.append(("attention_lstm.svg", heatmap(run, head: 0,
            title: "LSTM + attention on a held-out sequence (\(config.toy.task.rawValue))")))
    }
    if let run = toyRuns[.transformer], let best = run.bestHead ?? (run.maps.isEmpty ? nil : (0, 0)) {
        plots.append(("attention_transformer.svg", heatmap(run, head: best.head,
            title: "Transformer, best head (layer \(best.head / config.toy.heads + 1), head \(best.head % config.toy.heads + 1)), held-out sequence")))
    }
    let curveKinds = kinds.filter { !toyRuns[$0]!.history.isEmpty }
    if !curveKinds.isEmpty {
        plots.append(("toy_training.svg", Plot.lines(
            title: "\(config.toy.task.rawValue), L = \(config.length): held-out token accuracy during training",
            xLabel: "training step", yLabel: "token accuracy (256 held-out sequences)",
            series: curveKinds.map { kind in
                let history = toyRuns[kind]!.history
                return Series(kind.title, x: history.map { $0["step"]! }, y: history.map { $0["val_token_accuracy"]! })
            })))
    }
    if let positions = result.positions {
        let order: [ToyModelKind] = [.transformerNoPositions, .transformer, .transformerSinusoidal]
        plots.append(("positions.svg", Plot.lines(
            title: "Transformer on \(config.toy.task.rawValue), L = \(config.length): no positions vs learned vs sinusoidal",
            xLabel: "training step", yLabel: "held-out token accuracy",
            series: order.compactMap { kind in
                positions[kind].map { run in Series(kind.title, x: run.history.map { $0["step"]! }, y: run.history.map { $0["val_token_accuracy"]! }) }
            })))
    }
    for (name, svg) in plots {
        let path = joinPath(config.out, name)
        try writeTextFile(svg, to: path)
        files.append(path)
    }
    return files
}

/// The headline numbers.
func week07Summary(_ result: Week07Result) -> [String] {
    var lines = ["", "summary:"]
    if let part = result.tokenization {
        lines.append("  tokens per 1,000 characters: " + part.rows.map { "\($0.name) \(formatFixed($0.tokensPerThousandCharacters, digits: 0)) (vocabulary \($0.vocabularySize), unknown \(formatPercent($0.unknownShare)))" }.joined(separator: "; "))
    }
    if let part = result.embeddings {
        lines.append("  word2vec: median partner rank \(formatFixed(part.medianRank, digits: 1)) vs \(formatFixed(part.randomMedianRank, digits: 1)) "
                     + "for random vectors; \(formatFixed(part.training.wordsPerSecond / 1000, digits: 0))k words/s")
    }
    if let part = result.attention {
        lines.append("  attention: \(part.checks.filter(\.passed).count)/\(part.checks.count) gradient checks pass; "
                     + "largest difference from the naive loops \(formatScientific(Double(part.naiveDifference)))")
    }
    var runs = result.toy?.runs ?? [:]
    for (kind, run) in result.positions ?? [:] { runs[kind] = run }
    for kind in ToyModelKind.allCases {
        guard let run = runs[kind] else { continue }
        lines.append("  " + kind.title.padding(38) + "token accuracy \(formatPercent(run.score.tokenAccuracy)), exact match \(formatPercent(run.score.exactMatch))")
    }
    return lines
}

// MARK: - The whole lesson

/// The corpus of parts 1 and 2: --corpus, or the embedded Shakespeare.
func loadWeek07Text(_ config: Week07Config) throws -> String {
    if let path = config.corpus { return try TextCorpus.load(path: path).text }
    return try Shakespeare.load()
}

/// The program's one-line description (--help).
let week07Description = "tokens, word2vec embeddings, scaled dot-product attention; attention beats recurrence on copy/reverse"
