// The fast trainer (BPETrainer.swift) against the naive one (NaiveBPE.swift), merge for merge.
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

@Suite struct Week10TrainerTests {
    @Test func minbpeKnownAnswer() throws {
        // minbpe's test: "aaabdaaabac", 3 merges -> [258, 100, 258, 97, 99].
        let result = try trainBPE(text: "aaabdaaabac", vocabularySize: 259, pattern: .gpt4)
        let tokenizer = try BPETokenizer(training: result, pattern: .gpt4)
        #expect(result.merges.map { [$0.left, $0.right] } == [[97, 97], [256, 97], [257, 98]])
        #expect(tokenizer.encodeOrdinary("aaabdaaabac") == [258, 100, 258, 97, 99])
        #expect(tokenizer.decode([258, 100, 258, 97, 99]) == "aaabdaaabac")
    }

    @Test(arguments: SplitPattern.allCases)
    func fastTrainerEqualsNaiveTrainerMergeForMerge(pattern: SplitPattern) throws {
        for corpus in trainingCorpora {
            let fast = try trainBPE(text: corpus.text, vocabularySize: corpus.vocabularySize, pattern: pattern)
            let naive = naiveBPEMerges(text: corpus.text, vocabularySize: corpus.vocabularySize, pattern: pattern)
            #expect(fast.merges.count == naive.count, "\(corpus.name)")
            let firstDifference = zip(fast.merges, naive).enumerated().first {
                $0.element.0.left != $0.element.1.left || $0.element.0.right != $0.element.1.right
                    || $0.element.0.count != $0.element.1.count
            }
            #expect(firstDifference == nil, "\(corpus.name) (\(pattern)): merge \(firstDifference?.offset ?? -1) differs")
        }
    }

    @Test func tiesAreBrokenByFirstOccurrenceInTheText() throws {
        // Every pair occurs twice; the first merge must be the first pair of the text, (c, d),
        // not the smallest ids (a, b) that occur later.
        let result = try trainBPE(text: "cd ab cd ab", vocabularySize: 257, pattern: .gpt4)
        #expect(result.merges.map { [$0.left, $0.right] } == [[99, 100]])
    }

    @Test func tokenCountsFallByEachMergesCount() throws {
        let text = seededText(words: 400, seed: 9, vocabulary: englishWords)
        let result = try trainBPE(text: text, vocabularySize: 400, pattern: .gpt4)
        let tokenizer = try BPETokenizer(training: result, pattern: .gpt4)
        #expect(result.tokenCounts.first == text.utf8.count)
        for (k, merge) in result.merges.enumerated() { #expect(result.tokenCounts[k] - result.tokenCounts[k + 1] == merge.count) }
        // The count after the last merge is what encoding the training text gives.
        #expect(result.tokenCounts.last == tokenizer.encodeOrdinary(text).count)
    }

    @Test func trainingStopsWhenNoPairIsLeft() throws {
        let result = try trainBPE(text: "ab ab", vocabularySize: 1000, pattern: .gpt4)
        #expect(result.merges.count == 2)   // (a, b) then (' ', ab): every chunk is one token
    }

    @Test func badTrainingInputIsOneClearError() {
        #expect(throws: WorkbookError.self) { try trainBPE(text: "", vocabularySize: 300, pattern: .gpt4) }
        do {
            _ = try trainBPE(text: "some text", vocabularySize: 255, pattern: .gpt4)
            Issue.record("a vocabulary below 256 was accepted")
        } catch let error as WorkbookError {
            #expect(error.message.contains("below 256"))
        } catch { Issue.record("unexpected \(error)") }
    }
}
