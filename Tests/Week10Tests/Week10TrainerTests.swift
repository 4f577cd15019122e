// The fast trainer (BPETrainer.swift) against the naive one (BPETrainerNaive.swift), merge for
// merge, and the rules both follow: minbpe's known answer, ties, stopping, bad input.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week10BPE

/// Seeded pseudo-English: words from a small vocabulary with a skewed frequency, punctuation,
/// numbers and line breaks, so that counts are varied and later merges tie often.
func seededText(words: Int, seed: UInt64, vocabulary: [String]) -> String {
    var rng = SplitMix64(seed: seed)
    var parts: [String] = []
    for k in 0..<words {
        let index = min(rng.int(below: vocabulary.count), rng.int(below: vocabulary.count))   // skewed to the front
        parts.append(vocabulary[index])
        let r = rng.int(below: 20)
        parts.append(r == 0 ? ",\n" : r == 1 ? ". " : r == 2 ? " \(rng.int(below: 100_000)) " : r == 3 ? "  " : " ")
        if k % 97 == 96 { parts.append("\n\n") }
    }
    return parts.joined()
}

let englishWords = ["the", "and", "to", "of", "I", "you", "my", "a", "that", "in", "is", "not", "with", "me", "it",
                    "for", "be", "his", "your", "this", "but", "he", "have", "as", "thou", "so", "him", "will",
                    "what", "thy", "all", "her", "no", "by", "do", "shall", "if", "are", "we", "thee", "lord",
                    "King", "ROMEO", "Juliet", "don't", "I'll", "we've", "they're", "o'er", "'tis"]
let otherWords = ["naïve", "café", "Größe", "Привет", "мир", "東京", "タワー", "서울", "مرحبا", "🦊", "👍🏽", "😀😀",
                  "€100", "x²", "ǅemal", "ﬁne", "Ελληνικά", "a", "aa", "aaa"]

/// Training corpora: ties everywhere, non-ASCII and emoji, runs of one letter (a pair (a, a)
/// overlaps itself), and pseudo-English.
let trainingCorpora: [(name: String, text: String, vocabularySize: Int)] = [
    ("minbpe's example", "aaabdaaabac", 259),
    ("all ties", "ab cd ef gh ab cd ef gh ij kl ij kl mn op", 280),
    ("runs of one letter", "aaaa aaaaa aaaaaaa bbbbbbbbbb aaabaaab abab ababab aaaaaaaaaaaaaaaaaaaaaaaa", 290),
    ("non-ASCII and emoji", seededText(words: 600, seed: 3, vocabulary: otherWords), 420),
    ("pseudo-English", seededText(words: 2500, seed: 4, vocabulary: englishWords), 520),
    ("both", seededText(words: 1500, seed: 5, vocabulary: englishWords + otherWords), 480),
]

/// Shakespeare's Sonnet 18: a slice of real text, with its punctuation and line breaks.
let sonnet18 = """
    Shall I compare thee to a summer's day?
    Thou art more lovely and more temperate:
    Rough winds do shake the darling buds of May,
    And summer's lease hath all too short a date;
    Sometime too hot the eye of heaven shines,
    And often is his gold complexion dimm'd;
    And every fair from fair sometime declines,
    By chance or nature's changing course untrimm'd;
    But thy eternal summer shall not fade,
    Nor lose possession of that fair thou ow'st;
    Nor shall death brag thou wander'st in his shade,
    When in eternal lines to time thou grow'st:
       So long as men can breathe or eyes can see,
       So long lives this, and this gives life to thee.
    """

/// The two trainers, for the tests that hold both to the same rule.
enum BPETrainerKind: CaseIterable, CustomTestStringConvertible {
    case fast, naive

    func train(_ text: String, vocabularySize: Int, pattern: SplitPattern = .gpt4) throws -> BPETrainingResult {
        switch self {
        case .fast: try trainBPE(text: text, vocabularySize: vocabularySize, pattern: pattern)
        case .naive: try trainBPENaive(text: text, vocabularySize: vocabularySize, pattern: pattern)
        }
    }

    var testDescription: String { self == .fast ? "trainBPE" : "trainBPENaive" }
}

@Suite struct Week10TrainerTests {
    @Test(arguments: BPETrainerKind.allCases)
    func minbpeKnownAnswer(trainer: BPETrainerKind) throws {
        // minbpe's test: "aaabdaaabac", 3 merges -> [258, 100, 258, 97, 99].
        let result = try trainer.train("aaabdaaabac", vocabularySize: 259)
        let tokenizer = try BPETokenizer(training: result, pattern: .gpt4)
        #expect(result.merges.map { [$0.left, $0.right] } == [[97, 97], [256, 97], [257, 98]])
        #expect(result.merges.map(\.count) == [4, 2, 2])   // the pairs of "aaa" overlap: (a, a) 4 times
        #expect(tokenizer.encodeOrdinary("aaabdaaabac") == [258, 100, 258, 97, 99])
        #expect(tokenizer.decode([258, 100, 258, 97, 99]) == "aaabdaaabac")
    }

    @Test(arguments: SplitPattern.allCases)
    func fastTrainerEqualsNaiveTrainerMergeForMerge(pattern: SplitPattern) throws {
        for corpus in trainingCorpora {
            let fast = try trainBPE(text: corpus.text, vocabularySize: corpus.vocabularySize, pattern: pattern)
            let naive = try trainBPENaive(text: corpus.text, vocabularySize: corpus.vocabularySize, pattern: pattern)
            #expect(fast.merges.count == naive.merges.count, "\(corpus.name)")
            let firstDifference = zip(fast.merges, naive.merges).enumerated().first { $0.element.0 != $0.element.1 }
            let shown = firstDifference.map { "merge \($0.offset) differs: \($0.element.0) vs \($0.element.1)" } ?? ""
            #expect(firstDifference == nil, "\(corpus.name) (\(pattern)): \(shown)")
            #expect(fast.byteCount == naive.byteCount && fast.uniqueChunks == naive.uniqueChunks && fast.chunks == naive.chunks)
            // The naive trainer again, on the chunks NSRegularExpression cuts: the splitter the
            // two trainers share is not what makes them agree.
            let regexChunks = countDistinctChunks(naiveChunks(corpus.text, pattern: pattern).map { Array($0.utf8) })
            #expect(trainBPENaive(chunks: regexChunks, merges: corpus.vocabularySize - 256).merges == naive.merges,
                    "\(corpus.name) (\(pattern)): regex chunks")
        }
    }

    @Test func countingEachDistinctChunkOnceChangesNoMerge() {
        // minbpe counts every chunk of the text; the naive trainer counts each distinct chunk once
        // and weights it by its frequency. Every chunk with count 1, repeats and all, is minbpe's way.
        for corpus in trainingCorpora {
            let chunks = Pretokenizer(.gpt4).chunks(corpus.text).map { Array($0.utf8) }
            let everyChunk = chunks.map { (bytes: $0, count: 1) }
            let merges = corpus.vocabularySize - 256
            #expect(trainBPENaive(chunks: everyChunk, merges: merges).merges
                    == trainBPENaive(chunks: countDistinctChunks(chunks), merges: merges).merges, "\(corpus.name)")
        }
    }

    @Test func distinctChunksAreCountedInOrderOfFirstAppearance() {
        let counted = countDistinctChunks([[1, 2], [3], [1, 2], [], [3], [1, 2]])
        #expect(counted.map(\.bytes) == [[1, 2], [3], []] && counted.map(\.count) == [3, 2, 1])
        #expect(countDistinctChunks([]).isEmpty)
    }

    @Test func mergePairReplacesLeftToRightWithoutOverlap() {
        #expect(mergePair([97, 97, 97, 98], left: 97, right: 97, into: 256) == [256, 97, 98])
        #expect(mergePair([97, 97, 97, 97], left: 97, right: 97, into: 256) == [256, 256])
        #expect(mergePair([1, 2, 1, 2, 1], left: 1, right: 2, into: 300) == [300, 300, 1])
        #expect(mergePair([], left: 1, right: 2, into: 300) == [] && mergePair([1], left: 1, right: 2, into: 300) == [1])
    }

    @Test func naiveTokenCountsAreTheMergedTextsLength() throws {
        // After each merge, the sum over chunks of tokens x occurrences; after the last, what
        // encoding the training text gives. "aaa" loses one token to (a, a), not two.
        let result = try trainBPENaive(text: "aaabdaaabac", vocabularySize: 259, pattern: .gpt4)
        #expect(result.tokenCounts == [11, 9, 7, 5])
        for corpus in trainingCorpora {
            let result = try trainBPENaive(text: corpus.text, vocabularySize: corpus.vocabularySize, pattern: .gpt4)
            let tokenizer = try BPETokenizer(training: result, pattern: .gpt4)
            #expect(result.tokenCounts.first == corpus.text.utf8.count)
            #expect(result.tokenCounts.last == tokenizer.encodeOrdinary(corpus.text).count, "\(corpus.name)")
        }
    }

    @Test(arguments: BPETrainerKind.allCases)
    func tiesAreBrokenByFirstOccurrenceInTheText(trainer: BPETrainerKind) throws {
        // Every pair occurs twice; the first merge must be the first pair of the text, (c, d),
        // not the smallest ids (a, b) that occur later.
        let result = try trainer.train("cd ab cd ab", vocabularySize: 257)
        #expect(result.merges.map { [$0.left, $0.right] } == [[99, 100]])
    }

    @Test func tokenCountsFallByEachMergesReplacements() throws {
        // A merge of (a, b) with a != b saves one token per occurrence: two occurrences cannot
        // share a token. With a = b they can: a run of n a's holds n - 1 pairs and merges n / 2
        // (rounded down) of them, so the fall is between half the count and the count.
        for corpus in trainingCorpora {
            let result = try trainBPE(text: corpus.text, vocabularySize: corpus.vocabularySize, pattern: .gpt4)
            #expect(result.tokenCounts.first == corpus.text.utf8.count)
            for (k, merge) in result.merges.enumerated() {
                let fall = result.tokenCounts[k] - result.tokenCounts[k + 1]
                if merge.left != merge.right {
                    #expect(fall == merge.count, "\(corpus.name), merge \(k)")
                } else {
                    #expect(merge.count <= 2 * fall && fall <= merge.count, "\(corpus.name), merge \(k)")
                }
            }
            let tokenizer = try BPETokenizer(training: result, pattern: .gpt4)
            #expect(result.tokenCounts.last == tokenizer.encodeOrdinary(corpus.text).count, "\(corpus.name)")
        }
    }

    @Test(arguments: SplitPattern.allCases)
    func fastTokenCountsEqualNaiveAndTheEncodedLength(pattern: SplitPattern) throws {
        // Overlapping pairs are where counting occurrences and counting replacements differ:
        // minbpe's example ("aaa"), runs of one letter (the first chunk, 16 a's, holds (a, a) 15
        // times and merges it 8 times, then (aa, aa) 7 times, merged 4 times), and real text.
        let runs = [16, 9, 7, 4, 1, 2, 3, 12, 5, 31, 8, 6, 2, 64, 11]
            .enumerated().map { String(repeating: ["a", "b", "a", "c"][$0.offset % 4], count: $0.element) }
            .joined(separator: " ")
        let texts = [("minbpe's example", "aaabdaaabac", 259),
                     ("runs of one letter", runs, 320),
                     ("real text", sonnet18, 400)]
        for (name, text, vocabularySize) in texts {
            let fast = try trainBPE(text: text, vocabularySize: vocabularySize, pattern: pattern)
            let naive = try trainBPENaive(text: text, vocabularySize: vocabularySize, pattern: pattern)
            #expect(fast.merges == naive.merges, "\(name) (\(pattern))")
            #expect(fast.tokenCounts == naive.tokenCounts, "\(name) (\(pattern))")
            // After k merges, the text is as long as its encoding with the first k merges.
            let encoded = try (0...fast.merges.count).map { k in
                let firstMerges = BPETrainingResult(merges: Array(fast.merges.prefix(k)), byteCount: fast.byteCount,
                                                    tokenCounts: [], uniqueChunks: 0, chunks: 0)
                return try BPETokenizer(training: firstMerges, pattern: pattern).encodeOrdinary(text).count
            }
            #expect(fast.tokenCounts == encoded, "\(name) (\(pattern))")
        }
        let minbpe = try trainBPE(text: "aaabdaaabac", vocabularySize: 259, pattern: pattern)
        #expect(minbpe.tokenCounts == [11, 9, 7, 5])
    }

    @Test(arguments: BPETrainerKind.allCases)
    func trainingStopsWhenNoPairIsLeft(trainer: BPETrainerKind) throws {
        let result = try trainer.train("ab ab", vocabularySize: 1000)
        #expect(result.merges.count == 2)   // (a, b) then (' ', ab): every chunk is one token
    }

    @Test(arguments: BPETrainerKind.allCases)
    func badTrainingInputIsOneClearError(trainer: BPETrainerKind) {
        #expect(throws: WorkbookError.self) { try trainer.train("", vocabularySize: 300) }
        do {
            _ = try trainer.train("some text", vocabularySize: 255)
            Issue.record("a vocabulary below 256 was accepted")
        } catch let error as WorkbookError {
            #expect(error.message.contains("below 256"))
        } catch { Issue.record("unexpected \(error)") }
    }
}
