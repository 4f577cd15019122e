// Part 1: what a token is. The same Shakespeare cut three ways: characters (tiny vocabulary,
// long sequences), words (short sequences, a big vocabulary and words it has never seen), and
// a first look at byte-pair merges (Sennrich et al. 2016, https://arxiv.org/abs/1508.07909):
// start from bytes and merge the most frequent neighbouring pair, a few hundred times. Week 10
// builds the real BPE tokenizer; here we only count what each choice costs. The merges come
// from Shared/Data/BPE/BPETrainerNaive.swift, fed this file's own chunks.
import Shared

/// Lowercase words of a line: maximal runs of letters a-z and apostrophes (the rule of the
/// gensim anchor script, so both word2vec trainers see the same words).
func lowercaseWords(_ line: Substring) -> [String] {
    var words: [String] = [], current: [UInt8] = []
    for byte in line.utf8 {
        let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
        if (lower >= 97 && lower <= 122) || lower == 39 {
            current.append(lower)
        } else if !current.isEmpty {
            words.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
        }
    }
    if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
    return words
}

/// Word-level tokens of a text: the lowercase words and every other non-space character
/// (punctuation) as a token of its own. Spaces and line breaks are not tokens: decoding has to
/// guess where they went, one of the costs of word-level tokens.
func wordLevelTokens(_ text: String) -> [String] {
    var tokens: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var word: [UInt8] = []
        func flush() {
            if !word.isEmpty { tokens.append(String(decoding: word, as: UTF8.self)); word.removeAll() }
        }
        for byte in line.utf8 {
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            if (lower >= 97 && lower <= 122) || lower == 39 {
                word.append(lower)
            } else {
                flush()
                if byte != 32 && byte != 9 && byte != 13 { tokens.append(String(decoding: [byte], as: UTF8.self)) }
            }
        }
        flush()
    }
    return tokens
}

/// Byte-level chunks that merges may not cross: a run of letters/apostrophes together with
/// the one space before it (" king"), and every other byte on its own (GPT-2's rule, simplified).
func byteChunks(_ text: String) -> [[UInt8]] {
    var chunks: [[UInt8]] = [], current: [UInt8] = []
    let isLetter = { (b: UInt8) in (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 39 }
    for byte in text.utf8 {
        if isLetter(byte) {
            current.append(byte)            // a word, or a word after its pending space
        } else {
            if !current.isEmpty { chunks.append(current); current = [] }
            if byte == 32 { current = [32] } else { chunks.append([byte]) }   // a space waits for its word
        }
    }
    if !current.isEmpty { chunks.append(current) }
    return chunks
}

/// A few hundred byte-pair merges learned from a text. Token ids 0...255 are the bytes; merge i
/// makes token 256 + i out of its pair. Every text encodes, so nothing is unknown.
struct BytePairMerges {
    let merges: [Merge]
    var vocabularySize: Int { 256 + merges.count }

    /// Learns `count` merges with Shared's naive trainer (minbpe's algorithm; week 10 reads it
    /// closely): count every neighbouring pair inside the distinct chunks (weighted by how often
    /// the chunk occurs), merge the most frequent everywhere, repeat. Ties go to the pair met
    /// first in the text (minbpe's rule), so the merges do not depend on dictionary order.
    init(learningFrom text: String, count: Int) {
        merges = trainBPENaive(chunks: countDistinctChunks(byteChunks(text)), merges: count).merges
    }

    /// The tokens of one chunk: its bytes, then the merges in the order they were learned.
    func encode(chunk: [UInt8]) -> [Int] {
        var tokens = chunk.map(Int.init)
        for merge in merges where tokens.count > 1 {
            tokens = mergePair(tokens, left: merge.left, right: merge.right, into: merge.id)
        }
        return tokens
    }

    /// Number of tokens of a whole text (each distinct chunk is encoded once).
    func tokenCount(_ text: String) -> Int {
        var cache: [[UInt8]: Int] = [:], total = 0
        for chunk in byteChunks(text) {
            if let known = cache[chunk] { total += known; continue }
            let n = encode(chunk: chunk).count
            cache[chunk] = n
            total += n
        }
        return total
    }

    /// The bytes a token stands for (to print what the merges learned).
    func bytes(of token: Int) -> [UInt8] {
        token < 256 ? [UInt8(token)] : bytes(of: merges[token - 256].left) + bytes(of: merges[token - 256].right)
    }
}

/// One row of the tokenization table.
struct TokenizationRow {
    let name: String
    let vocabularySize: Int
    /// Validation tokens per 1,000 validation characters.
    let tokensPerThousandCharacters: Double
    /// Share of validation tokens that are the unknown token.
    let unknownShare: Double
}

/// The three tokenizations of `text`: vocabularies from its first 90% (by characters), counts on
/// the last 10%. wordMinimumCount: a word needs this many training occurrences to get an id;
/// rarer ones become <unk>. Also returns a line of the validation text cut by the merges.
func compareTokenizations(text: String, wordMinimumCount: Int, merges mergeCount: Int)
    -> (rows: [TokenizationRow], merges: BytePairMerges)
{
    let characters = Array(text.unicodeScalars)
    let cut = characters.count * 9 / 10
    var trainView = String.UnicodeScalarView(), validationView = String.UnicodeScalarView()
    trainView.append(contentsOf: characters[..<cut])
    validationView.append(contentsOf: characters[cut...])
    let train = String(trainView), validation = String(validationView)
    let validationCharacters = Double(characters.count - cut)

    // characters: every distinct character of the training text is one id
    let characterSet = Set(characters[..<cut])
    let unknownCharacters = characters[cut...].filter { !characterSet.contains($0) }.count
    let characterRow = TokenizationRow(name: "characters", vocabularySize: characterSet.count,
                                       tokensPerThousandCharacters: 1000,
                                       unknownShare: Double(unknownCharacters) / validationCharacters)

    // words: ids for the words seen at least wordMinimumCount times, plus <unk>
    var wordCounts: [String: Int] = [:]
    for token in wordLevelTokens(train) { wordCounts[token, default: 0] += 1 }
    let vocabulary = Set(wordCounts.filter { $0.value >= wordMinimumCount }.keys)
    let validationWords = wordLevelTokens(validation)
    let unknownWords = validationWords.filter { !vocabulary.contains($0) }.count
    let wordRow = TokenizationRow(name: "words (count >= \(wordMinimumCount), + <unk>)", vocabularySize: vocabulary.count + 1,
                                  tokensPerThousandCharacters: 1000 * Double(validationWords.count) / validationCharacters,
                                  unknownShare: Double(unknownWords) / Double(max(1, validationWords.count)))

    // byte pairs: 256 bytes plus the merges
    let merges = BytePairMerges(learningFrom: train, count: mergeCount)
    let subwordRow = TokenizationRow(name: "bytes + \(merges.merges.count) merges", vocabularySize: merges.vocabularySize,
                                     tokensPerThousandCharacters: 1000 * Double(merges.tokenCount(validation)) / validationCharacters,
                                     unknownShare: 0)
    return ([characterRow, wordRow, subwordRow], merges)
}
