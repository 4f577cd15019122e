// Week 10's tokenizer lesson, one function per step of main.swift: the text, the tokenizer
// (trained or loaded), what the tokens look like, the whole corpus encoded, and the outputs
// (tokenizer files, metrics.json, the chart). The tests run the program itself.
import Shared

/// The program's one-line description (--help).
let week10Description = "a byte-level BPE tokenizer (GPT-2 / GPT-4 style), trained from scratch"

/// "[The][ quick][ brown]": the tokens of `text`, each in brackets (special tokens allowed).
func bracketed(_ tokenizer: BPETokenizer, _ text: String) -> String {
    let ids = (try? tokenizer.encode(text, specialTokens: .allowAll)) ?? tokenizer.encodeOrdinary(text)
    return ids.map { "[" + tokenizer.describeToken($0) + "]" }.joined()
}

/// The lesson's examples: what BPE does to numbers, whitespace, capitalisation, other scripts.
let week10Examples: [(topic: String, text: String)] = [
    ("numbers", "In 1564, 3.14159 and 1000000 and 2024-10-31"),
    ("whitespace", "def f(x):\n    return x\n\n\n        indented"),
    ("capitalisation", "the The THE tHe"),
    ("contractions", "I'm sure you'll say they've gone, but it's HE'S"),
    ("other scripts", "naïve Größe Привет 東京 مرحبا 🦊🦊"),
    ("special token", "end of one text<|endoftext|>start of the next"),
]

/// Step 2: the embedded Shakespeare or --corpus as UTF-8 text (--quick: its first characters).
func loadWeek10Text(_ config: Week10Config, log: (String) -> Void) throws -> (name: String, text: String) {
    let corpus = try config.corpus.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
    var text = corpus.text
    if config.quickCharacters > 0 && text.unicodeScalars.count > config.quickCharacters {
        text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(config.quickCharacters)))
    }
    log("corpus: \(corpus.name), \(text.utf8.count) bytes" + (config.quickCharacters > 0 ? " (--quick: the first \(config.quickCharacters) characters)" : ""))
    return (corpus.name, text)
}

/// What step 3 made: the tokenizer, and its training record unless it was loaded.
struct Week10Tokenizer {
    let tokenizer: BPETokenizer
    let training: BPETrainingResult?
    let trainSeconds: Double
}

/// Step 3: learn merges on `text` with a progress line, or load --tokenizer.
func makeWeek10Tokenizer(_ config: Week10Config, text: String, log: (String) -> Void) throws -> Week10Tokenizer {
    if let path = config.tokenizer {
        let tokenizer = try BPETokenizer.load(from: path, pattern: config.pattern)
        log("loaded \(path): \(tokenizer.vocabularySize) tokens (\(tokenizer.merges.count) merges, "
            + "\(tokenizer.specialTokens.count) special), \(tokenizer.pattern.rawValue) pattern")
        return Week10Tokenizer(tokenizer: tokenizer, training: nil, trainSeconds: 0)
    }
    let byteCount = text.utf8.count
    log("training: \(config.vocabularySize - 256) merges on top of the 256 bytes, \(config.pattern.rawValue) split pattern")
    let progress = Progress(total: config.vocabularySize - 256, label: "merges")
    let clock = Stopwatch()
    let result = try trainBPE(text: text, vocabularySize: config.vocabularySize, pattern: config.pattern) { done, tokens in
        progress.update(step: done, extra: "\(formatFixed(Double(byteCount) / Double(tokens), digits: 2)) bytes/token")
    }
    let seconds = clock.seconds
    progress.finish("\(result.merges.count) merges in \(formatFixed(seconds, digits: 2)) s")
    log("  \(result.chunks) chunks after pre-tokenization, \(result.uniqueChunks) distinct: each distinct chunk is counted once")
    if result.merges.count < config.vocabularySize - 256 {
        log("  stopped after \(result.merges.count) merges: every chunk is a single token, no pair is left to merge")
    }
    let tokenizer = try BPETokenizer(training: result, pattern: config.pattern, specialTokens: config.specialTokens)
    return Week10Tokenizer(tokenizer: tokenizer, training: result, trainSeconds: seconds)
}

/// Step 4: what the tokens look like: the first merges, the longest token, --sample, the hard
/// cases (numbers, whitespace, capitals, other scripts, a special token) and a line of the text.
func showWeek10Tokens(_ made: Week10Tokenizer, text: String, config: Week10Config, log: (String) -> Void) {
    let tokenizer = made.tokenizer
    log("\nthe first merges (most frequent pair first):")
    for merge in tokenizer.merges.prefix(12) {
        let count = made.training.map { " (\($0.merges[merge.id - 256].count) times)" } ?? ""
        log("  [\(tokenizer.describeToken(merge.left))] + [\(tokenizer.describeToken(merge.right))] -> [\(tokenizer.describeToken(merge.id))]\(count)")
    }
    if let last = tokenizer.merges.last {
        log("  ... the last: [\(tokenizer.describeToken(last.left))] + [\(tokenizer.describeToken(last.right))] -> [\(tokenizer.describeToken(last.id))]")
    }
    let longest = (0..<tokenizer.baseVocabularySize).max { tokenizer.tokenBytes[$0].count < tokenizer.tokenBytes[$1].count } ?? 0
    log("  longest token: [\(tokenizer.describeToken(longest))] (\(tokenizer.tokenBytes[longest].count) bytes)")
    log("\nsample: \(bracketed(tokenizer, config.sample))")
    let sampleIDs = (try? tokenizer.encode(config.sample, specialTokens: .allowAll)) ?? tokenizer.encodeOrdinary(config.sample)
    log("  \(config.sample.utf8.count) bytes -> \(sampleIDs.count) tokens: \(sampleIDs.prefix(24).map(String.init).joined(separator: " "))\(sampleIDs.count > 24 ? " ..." : "")")
    for example in week10Examples {
        let ids = tokenizer.encodeOrdinary(example.text)
        log("\(example.topic) (\(formatFixed(Double(example.text.utf8.count) / Double(max(1, ids.count)), digits: 2)) bytes/token): "
            + bracketed(tokenizer, example.text))
    }
    var rng = SplitMix64(seed: config.seed)
    let lines = text.split(separator: "\n").filter { $0.count > 30 }
    if !lines.isEmpty {
        log("a line of the corpus (--seed picks it): \(bracketed(tokenizer, String(lines[rng.int(below: lines.count)])))")
    }
}

/// What step 5 measured on the whole text.
struct Week10Encoding {
    let tokens: Int
    let seconds: Double
    let roundTripExact: Bool
}

/// Step 5: the whole corpus encoded: bytes per token, speed, and decode(encode(text)) == text.
func encodeWeek10Corpus(_ tokenizer: BPETokenizer, text: String, log: (String) -> Void) -> Week10Encoding {
    let byteCount = text.utf8.count
    let clock = Stopwatch()
    let ids = tokenizer.encodeOrdinary(text)
    let seconds = clock.seconds
    let roundTrip = tokenizer.decodeBytes(ids) == Array(text.utf8)
    log("\nencoded the corpus: \(byteCount) bytes -> \(ids.count) tokens = \(formatFixed(Double(byteCount) / Double(max(1, ids.count)), digits: 3)) bytes/token, "
        + "\(formatFixed(Double(byteCount) / 1e6 / max(seconds, 1e-9), digits: 1)) MB/s; decode(encode(text)) == text: \(roundTrip ? "yes" : "NO")")
    return Week10Encoding(tokens: ids.count, seconds: seconds, roundTripExact: roundTrip)
}

/// Step 6: the tokenizer in both formats (tokenizer.json, and tokenizer.tiktoken when the
/// vocabulary has no gaps), metrics.json and the chart. Returns the paths written.
func writeWeek10Files(_ made: Week10Tokenizer, encoding: Week10Encoding, corpusBytes: Int, config: Week10Config,
                      configJSON: [String: JSONValue], log: (String) -> Void) throws -> [String] {
    try createDirectories(config.out)
    var files: [String] = []
    let jsonPath = joinPath(config.out, "tokenizer.json")
    try made.tokenizer.save(to: jsonPath)
    files.append(jsonPath)
    let ranksPath = joinPath(config.out, "tokenizer.tiktoken")
    do {
        try made.tokenizer.save(to: ranksPath)
        files.append(ranksPath)
    } catch let error as WorkbookError {
        log("note: no tokenizer.tiktoken: \(error.message)")
    }
    files += try writeWeek10Outputs(config: config, configJSON: configJSON, tokenizer: made.tokenizer, training: made.training,
                                    trainSeconds: made.trainSeconds, corpusBytes: corpusBytes, corpusTokens: encoding.tokens,
                                    encodeSeconds: encoding.seconds, roundTrip: encoding.roundTripExact)
    return files
}

/// metrics.json and bytes_per_token.svg. Returns the paths written.
func writeWeek10Outputs(config: Week10Config, configJSON: [String: JSONValue], tokenizer: BPETokenizer,
                        training: BPETrainingResult?, trainSeconds: Double, corpusBytes: Int, corpusTokens: Int,
                        encodeSeconds: Double, roundTrip: Bool) throws -> [String] {
    let metrics = MetricsLog(week: "Week10BPE", config: configJSON)
    var vocabularySizes: [Double] = [], bytesPerToken: [Double] = []
    if let training {
        // One row per 16 merges (and the last): the vocabulary size and the text's bytes per token.
        for (k, tokens) in training.tokenCounts.enumerated() where k % 16 == 0 || k == training.tokenCounts.count - 1 {
            let row: [String: Double] = ["vocab_size": Double(256 + k), "tokens": Double(tokens),
                                         "bytes_per_token": Double(training.byteCount) / Double(tokens),
                                         "merge_count": k == 0 ? 0 : Double(training.merges[k - 1].count)]
            metrics.record(row)
            vocabularySizes.append(Double(256 + k))
            bytesPerToken.append(Double(training.byteCount) / Double(tokens))
        }
    }
    let final: [String: JSONValue] = [
        "vocab_size": .number(Double(tokenizer.vocabularySize)), "merges": .number(Double(tokenizer.merges.count)),
        "special_tokens": .number(Double(tokenizer.specialTokens.count)),
        "corpus_bytes": .number(Double(corpusBytes)), "corpus_tokens": .number(Double(corpusTokens)),
        "bytes_per_token": .number(Double(corpusBytes) / Double(max(1, corpusTokens))),
        "train_seconds": .number(trainSeconds), "encode_seconds": .number(encodeSeconds),
        "encode_mb_per_second": .number(Double(corpusBytes) / 1e6 / max(encodeSeconds, 1e-9)),
        "round_trip_exact": .bool(roundTrip),
    ]
    var files = [try metrics.write(final: final, to: config.out)]
    guard config.plots, !vocabularySizes.isEmpty else { return files }
    let chart = Plot.lines(title: "Week 10: BPE compression as the vocabulary grows (\(config.pattern.rawValue) pattern)",
                           xLabel: "vocabulary size (256 bytes + merges)", yLabel: "bytes per token (training text)",
                           series: [Series("bytes per token", x: vocabularySizes, y: bytesPerToken),
                                    Series("1 byte per token (no merges)", x: [256, vocabularySizes.last!], y: [1, 1], dashed: true)])
    let path = joinPath(config.out, "bytes_per_token.svg")
    try writeTextFile(chart, to: path)
    files.append(path)
    return files
}

/// The headline numbers.
func week10Summary(_ made: Week10Tokenizer, encoding: Week10Encoding, corpusBytes: Int) -> [String] {
    var lines = ["", "summary:"]
    if let training = made.training {
        lines.append("  trained \(training.merges.count) merges on \(corpusBytes) bytes in \(formatFixed(made.trainSeconds, digits: 2)) s")
    }
    let bytesPerToken = Double(corpusBytes) / Double(max(1, encoding.tokens))
    lines.append("  vocabulary \(made.tokenizer.vocabularySize) tokens (256 bytes + \(made.tokenizer.merges.count) merges + "
                 + "\(made.tokenizer.specialTokens.count) special); \(formatFixed(bytesPerToken, digits: 3)) bytes/token on the corpus")
    lines.append("  round trip decode(encode(text)) == text: \(encoding.roundTripExact ? "exact" : "FAILED")")
    return lines
}
