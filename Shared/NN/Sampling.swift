// Sampling text from any language model (weeks 5-10): turn the next-token logits into a
// token with a repetition penalty, temperature, top-k, top-p (nucleus) and min-p, and the loop
// that feeds each drawn token back in, with a maximum length and stop sequences. One sampler for the RNN, the LSTM and the GPT, so their samples differ only
// by the model. References: Holtzman et al., "The Curious Case of Neural Text Degeneration"
// (2019, top-p); Nguyen et al., "Min-p sampling" (2024); Keskar et al., CTRL (2019, the
// repetition penalty); Hugging Face's logits processors and warpers.
import SharedKernels
import SharedTools
import SharedData
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The knobs of `nextToken`, checked once (`validated()`), so a bad value is one clear line
/// before generation starts rather than an error at the first token.
public struct SamplingSettings: Equatable {
    /// Divides the logits: < 1 sharpens the distribution (safer, more repetitive text), > 1
    /// flattens it; 0 means greedy (always the most likely token).
    public var temperature: Float
    /// Keep only the k most likely tokens (nil: all).
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probabilities reach p (nil: all).
    public var topP: Float?
    /// Keep tokens with probability at least minP × the largest probability (nil: all).
    public var minP: Float?
    /// θ > 0, CTRL's repetition penalty on every token that occurs in the last
    /// `repetitionWindow` tokens of the sequence: a logit z becomes z/θ if z > 0, else z·θ, so
    /// θ > 1 makes a recent token less likely whatever the sign of its logit (nil or 1: off).
    public var repetitionPenalty: Float?
    /// How many of the latest tokens (prompt and generated) the penalty looks at; 0: all of
    /// them (Hugging Face's choice). llama.cpp's repeat_last_n defaults to 64, which suits
    /// characters: over a whole text every letter has occurred, and a penalty on all of them
    /// shifts nothing.
    public var repetitionWindow: Int

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, minP: Float? = nil,
                repetitionPenalty: Float? = nil, repetitionWindow: Int = 64) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
    }

    /// Whether the repetition penalty changes anything.
    var penalises: Bool { repetitionPenalty.map { $0 != 1 } ?? false }

    /// Throws one line naming the first knob out of range: temperature ≥ 0 and finite,
    /// topK ≥ 1, topP in (0, 1], minP in [0, 1], repetition penalty > 0 and finite, window ≥ 0.
    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw WorkbookError("temperature must be a finite number ≥ 0 (0 = greedy), got \(temperature)")
        }
        if let topK, topK < 1 { throw WorkbookError("top-k must be at least 1, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw WorkbookError("top-p must be in (0, 1], got \(topP)") }
        if let minP, !(minP >= 0 && minP <= 1) { throw WorkbookError("min-p must be in [0, 1], got \(minP)") }
        if let penalty = repetitionPenalty, !(penalty.isFinite && penalty > 0) {
            throw WorkbookError("the repetition penalty must be a finite number > 0 (1 = off), got \(penalty)")
        }
        if repetitionWindow < 0 { throw WorkbookError("the repetition window must be ≥ 0 (0 = the whole sequence), got \(repetitionWindow)") }
    }
}

/// Draws the next token from `logits` (V), in this order:
///   0. repetition penalty (when set, in `TokenSampler.next(logits:settings:recent:rng:)`):
///      each distinct token of the recent window has its logit divided by θ (z > 0) or
///      multiplied by θ (z ≤ 0); every later step sees the penalised logits
///   1. temperature 0: greedy, the index of the largest logit (the first, on ties); the
///      other knobs cannot change that choice and are only checked.
///   2. p = softmax(logits / temperature)
///   3. top-k: keep the k most likely tokens (ties broken by lower id)
///   4. top-p: of those, keep the smallest most-likely-first set whose probabilities sum to ≥ p
///      (as a fraction of what top-k kept)
///   5. min-p: of those, keep tokens with p ≥ minP × max p
///   6. draw from the kept probabilities, renormalised (one uniform number from `rng`).
/// This is Hugging Face's order (the penalty on the raw logits, then temperature, then the filters). With no filter the
/// draw is exactly `rng.categorical(p)`. Throws one clear line for an out-of-range knob or a
/// non-finite logit (a diverged model).
public func nextToken(logits: [Float], temperature: Float, topK: Int? = nil, topP: Float? = nil,
                      minP: Float? = nil, rng: inout SplitMix64) throws -> Int {
    let settings = SamplingSettings(temperature: temperature, topK: topK, topP: topP, minP: minP)
    try settings.validate()
    var sampler = TokenSampler(vocabularySize: logits.count)
    return try sampler.next(logits: logits, settings: settings, rng: &rng)
}

/// `nextToken` with its scratch buffers kept between tokens (the generation loop uses one).
public struct TokenSampler {
    public let vocabularySize: Int
    private var scaled: [Float]
    private var probabilities: [Float]
    private var order: [Int]
    private var penalised: [Float]
    private var seen: [Bool]

    public init(vocabularySize V: Int) {
        precondition(V >= 1, "TokenSampler: the vocabulary needs at least one token")
        vocabularySize = V
        scaled = [Float](repeating: 0, count: V)
        probabilities = [Float](repeating: 0, count: V)
        order = []
        penalised = []
        seen = []
    }

    /// One token from `logits` (V) with already validated `settings`; see `nextToken`.
    /// recent: the tokens of the sequence so far (prompt and generated, oldest first), of which
    /// the repetition penalty looks at the last `settings.repetitionWindow`.
    public mutating func next(logits rawLogits: [Float], settings: SamplingSettings, recent: ArraySlice<Int> = [],
                              rng: inout SplitMix64) throws -> Int {
        let V = vocabularySize
        precondition(rawLogits.count == V, "TokenSampler: \(rawLogits.count) logits for a vocabulary of \(V)")
        guard rawLogits.allSatisfy({ $0.isFinite }) else {
            throw WorkbookError("the model produced a non-finite logit (it has diverged); cannot sample")
        }
        // 0. the repetition penalty, once per distinct recent token
        var logits = rawLogits
        if settings.penalises, let theta = settings.repetitionPenalty, !recent.isEmpty {
            if penalised.count != V { penalised = [Float](repeating: 0, count: V); seen = [Bool](repeating: false, count: V) }
            let window = settings.repetitionWindow == 0 ? recent : recent.suffix(settings.repetitionWindow)
            for token in window where token >= 0 && token < V && !seen[token] {
                seen[token] = true
                logits[token] = logits[token] > 0 ? logits[token] / theta : logits[token] * theta
            }
            for token in window where token >= 0 && token < V { seen[token] = false }
        }
        // 1. greedy
        if settings.temperature == 0 {
            var best = 0
            for j in 1..<V where logits[j] > logits[best] { best = j }
            return best
        }
        // 2. temperature and softmax (the division, not a multiplication by 1/temperature,
        //    so the probabilities are bit for bit those of weeks 5-6 before the sampler existed)
        for j in 0..<V { scaled[j] = logits[j] / settings.temperature }
        softmaxForward(&probabilities, scaled, rows: 1, cols: V)
        let filtered = settings.topK.map { $0 < V } ?? false || settings.topP.map { $0 < 1 } ?? false
            || settings.minP.map { $0 > 0 } ?? false
        guard filtered else { return rng.categorical(probabilities) }

        // 3-5. The candidates, most likely first (ties: lower id first), cut three times.
        order = Array(0..<V)
        order.sort { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
        var kept = min(settings.topK ?? V, V)
        if let topP = settings.topP, topP < 1 {
            let mass = (0..<kept).reduce(0.0) { $0 + Double(probabilities[order[$1]]) }
            var cumulative = 0.0, count = 0
            while count < kept {
                cumulative += Double(probabilities[order[count]])
                count += 1
                if cumulative >= Double(topP) * mass { break }
            }
            kept = count
        }
        if let minP = settings.minP, minP > 0 {
            let threshold = minP * probabilities[order[0]]
            var count = 1   // the most likely token always passes (p_max ≥ minP·p_max)
            while count < kept && probabilities[order[count]] >= threshold { count += 1 }
            kept = count
        }
        // 6. Zero the rest and draw, in id order, from the kept mass.
        for rank in kept..<V { probabilities[order[rank]] = 0 }
        var total = 0.0
        for j in 0..<V { total += Double(probabilities[j]) }
        let r = rng.uniformDouble() * total
        var cumulative = 0.0, last = order[0]
        for j in 0..<V where probabilities[j] > 0 {
            cumulative += Double(probabilities[j])
            if r < cumulative { return j }
            last = j
        }
        return last   // r rounded up to the total: the last kept token
    }
}

/// Generates up to `maxTokens` tokens after `prompt` (at least one token) from a fresh decoding
/// state: the prompt is fed in one call, then each drawn token is fed back. Generation ends
/// early after a token in `stop`, or as soon as the generated tokens end with one of
/// `stopSequences` (the stop token or sequence is returned and passed to `onToken` too, like
/// an end-of-text token: a stream cannot take back what it printed). `onToken` sees each token
/// as it is drawn (for streaming output). The repetition penalty looks at prompt and output.
/// Returns the generated tokens (not the prompt).
public func generate(_ model: any LanguageModel, prompt: [Int], maxTokens: Int, sampling: SamplingSettings,
                     stop: Set<Int> = [], stopSequences: [[Int]] = [], rng: inout SplitMix64,
                     onToken: (Int) throws -> Void = { _ in }) throws -> [Int] {
    try generate(model, prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop, stopSequences: stopSequences,
                 state: try model.makeDecodingState(), rng: &rng) { token, _ in try onToken(token) }
}

/// `generate` from a decoding state the caller made (a GPT's with or without its KV cache), with
/// `onStep` seeing each drawn token together with the model's logits it was drawn from (before
/// the penalty and temperature: what a script compares, or what scores a sample's likelihood).
/// The first step's logits are those at the prompt's last position.
public func generate(_ model: any LanguageModel, prompt: [Int], maxTokens: Int, sampling: SamplingSettings,
                     stop: Set<Int> = [], stopSequences: [[Int]] = [], state: any DecodingState, rng: inout SplitMix64,
                     onStep: (_ token: Int, _ logits: [Float]) throws -> Void) throws -> [Int] {
    try sampling.validate()
    guard !prompt.isEmpty else { throw WorkbookError("generation needs a prompt of at least one token") }
    guard maxTokens >= 0 else { throw WorkbookError("the number of tokens to generate must be ≥ 0, got \(maxTokens)") }
    if stopSequences.contains(where: \.isEmpty) { throw WorkbookError("a stop sequence must have at least one token") }
    let V = model.vocabularySize
    if let bad = prompt.first(where: { $0 < 0 || $0 >= V }) {
        throw WorkbookError("prompt token \(bad) is outside the vocabulary 0..<\(V)")
    }
    var output: [Int] = []
    guard maxTokens > 0 else { return output }
    output.reserveCapacity(maxTokens)
    var sampler = TokenSampler(vocabularySize: V)
    var logits = try model.nextTokenLogits(after: prompt, state: state)
    var sequence = sampling.penalises ? prompt : []   // what the penalty looks at
    while true {
        let token = try sampler.next(logits: logits, settings: sampling, recent: sequence[...], rng: &rng)
        output.append(token)
        if sampling.penalises { sequence.append(token) }
        try onStep(token, logits)
        if output.count == maxTokens || stop.contains(token)
            || stopSequences.contains(where: { output.count >= $0.count && output.suffix($0.count).elementsEqual($0) }) { break }
        logits = try model.nextTokenLogits(after: [token], state: state)
    }
    return output
}

/// Samples `count` tokens after a text prompt and returns prompt + continuation as text. A
/// prompt the tokenizer cannot encode throws one clear line naming the problem; an empty
/// prompt starts generation from `startToken` (a newline for the character models), which is
/// not part of the text returned.
public func sampleText(_ model: any LanguageModel, tokenizer: any Tokenizer, prompt: String, count: Int,
                       sampling: SamplingSettings, startToken: Int, rng: inout SplitMix64,
                       onToken: (Int) throws -> Void = { _ in }) throws -> String {
    let promptIDs: [Int]
    do {
        promptIDs = try tokenizer.encode(prompt)
    } catch let error as WorkbookError {
        throw WorkbookError("cannot sample from the prompt \"\(prompt)\": \(error.message)")
    }
    let ids = try generate(model, prompt: promptIDs.isEmpty ? [startToken] : promptIDs, maxTokens: count,
                           sampling: sampling, rng: &rng, onToken: onToken)
    return prompt + tokenizer.decode(ids)
}
