// Text data for the language-model weeks (5-10), built on Text.swift: a corpus split 90/10
// into training and validation tokens, where each batch's rows start (random, or consecutive
// lanes for truncated BPTT), the validation slice an evaluation reads, and the two measures a
// language model is compared against: the unigram entropy and bits per character.
// Reference: https://github.com/karpathy/nanoGPT/blob/master/data/shakespeare_char/prepare.py
import SharedKernels
import SharedTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nats per bit, ln 2: bits per character = nats per character / ln 2.
public let natsPerBit = 0.693_147_180_559_945_3

/// Bits per character of a loss in nats per token, for tokens of `charactersPerToken`
/// characters on average (1 for a character model; about 2-4 for BPE on English).
public func bitsPerCharacter(natsPerToken loss: Double, charactersPerToken: Double = 1) -> Double {
    loss / natsPerBit / charactersPerToken
}

/// The entropy of the token frequencies, −Σ p_c ln p_c (nats/token): the loss of the best
/// model that ignores context entirely. A language model has learned something about
/// sequences only once its validation loss is below this.   ids: (N), each in 0..<V.
public func unigramEntropy(_ ids: [Int], vocabularySize V: Int) -> Double {
    var counts = [Int](repeating: 0, count: V)
    for id in ids { counts[id] += 1 }
    let total = Double(ids.count)
    return counts.reduce(0.0) { sum, count in
        count == 0 ? sum : sum - Double(count) / total * log(Double(count) / total)
    }
}

/// The first `windows` windows of T tokens of the validation ids (all when nil), plus the one
/// token that follows (the last window's target): what an evaluation during training reads.
public func validationSlice(_ ids: [Int], context T: Int, windows: Int?) throws -> [Int] {
    guard ids.count >= T + 1 else {
        throw WorkbookError("the validation text has \(ids.count) tokens, fewer than the context + 1 = \(T + 1)")
    }
    guard let windows, windows * T + 1 < ids.count else { return ids }
    return Array(ids[..<(windows * T + 1)])
}

/// Where each of the B rows of the next batch starts reading the training text.
/// Random (the default): fresh uniform starts every step, zero initial state.
/// Consecutive (truncated BPTT): the text is cut into B equal lanes and row b walks its lane
/// chunk after chunk, so the state carried from the previous step belongs to the text just
/// before; a row that reaches the end of its lane wraps to the lane's start (state reset).
public struct ChunkSchedule {
    public let chunks: TextChunks
    public let batchSize: Int
    public let consecutive: Bool
    /// Consecutive mode: the next chunk of each lane, as an offset into the lane (saved in
    /// checkpoints so a resumed run continues its lanes).
    public var position = 0
    private let laneLength: Int

    public init(chunks: TextChunks, batchSize B: Int, consecutive: Bool) throws {
        self.chunks = chunks
        self.batchSize = B
        self.consecutive = consecutive
        laneLength = chunks.startCount / B
        if consecutive && laneLength < chunks.context {
            throw WorkbookError("the training text (\(chunks.ids.count) tokens) is too short for "
                                + "\(B) lanes of at least \(chunks.context) tokens")
        }
    }

    /// The next batch, and whether the state must be reset before it (always true when
    /// not consecutive; true at the start and on wrapping when consecutive).
    public mutating func next(rng: inout SplitMix64) -> (batch: TextBatch, resetState: Bool) {
        guard consecutive else { return (chunks.randomBatch(batchSize: batchSize, rng: &rng), true) }
        let T = chunks.context
        var reset = position == 0
        if position + T > laneLength { position = 0; reset = true }
        let starts = (0..<batchSize).map { $0 * laneLength + position }
        position += T
        return (chunks.batch(starts: starts), reset)
    }
}

/// The corpus of weeks 5-6, split 90/10 into training and validation ids (nanoGPT's split).
public struct CharacterData {
    public let corpus: TextCorpus
    public let train: [Int]
    public let validation: [Int]
    /// −Σ p ln p of the training characters: the loss of a model that ignores context.
    public let unigramEntropy: Double
    /// "embedded Shakespeare", or the --corpus path.
    public let name: String
    public var vocabulary: CharVocabulary { corpus.vocabulary }

    /// Loads `path` (a --corpus file) or the embedded Shakespeare. Also checks `prompt` (the
    /// text samples will continue), so a character the corpus lacks fails before training.
    public static func load(corpus path: String?, prompt: String) throws -> CharacterData {
        let corpus = try path.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
        let (train, validation) = corpus.split(trainFraction: 0.9)
        do { _ = try corpus.vocabulary.encode(prompt) } catch let error as WorkbookError {
            throw CommandLineError("--prompt: \(error.message)")
        }
        return CharacterData(corpus: corpus, train: train, validation: validation,
                             unigramEntropy: SharedData.unigramEntropy(train, vocabularySize: corpus.vocabulary.size),
                             name: path ?? "embedded Shakespeare")
    }

    /// One line describing the data.
    public var description: String {
        "data: \(name), \(corpus.ids.count) characters, vocabulary \(vocabulary.size); train \(train.count), "
            + "validation \(validation.count); unigram entropy \(formatFixed(unigramEntropy, digits: 3)) nats/char "
            + "(uniform would be ln \(vocabulary.size) = \(formatFixed(log(Double(vocabulary.size)), digits: 3)))"
    }
}
