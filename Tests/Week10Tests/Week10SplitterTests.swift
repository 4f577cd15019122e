// The hand-written splitter (Pretokenizer.swift) against the regular expressions themselves.
import Foundation
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week10BPE

/// Text that exercises every alternative of both patterns.
let variedCorpus: [String] = [
    "Hello world! It's a test, isn't it? I'LL say WE'VE and you'd've they're 'tis.",
    "Numbers: 1 12 123 1234 12345 1234567890 3.14159 -42 +7 1,000,000 ١٢٣٤ ⅔ Ⅻ ²³",
    "Whitespace:  two  \t tab\n\nnewlines\r\n crlf   \n   trailing   ",
    "   leading spaces and a final run     ",
    "Punctuation!!! ... ?!? \"quotes\" (parens) [brackets] {braces} <tags/> --dashes-- __init__ a.b.c",
    "non-ASCII: naïve café Größe Привет мир 東京タワー 서울 مرحبا שלום Ελληνικά ǅemal",
    "emoji: 🦊🦊 👍🏽 👨‍👩‍👧 ❤️ 🇫🇷 a😀b 😀 😀\n",
    "mixed: x=1;y=2\tz  =  3\n\tdef f(a, b):\n\t\treturn a+b  # comment\n",
    "apostrophes: ' 's 'S 'x ''s don't DON'T rock'n'roll ’curly’",
    "\n\n\n", " ", "a", "'", "''", "\r", " \n", "\u{0B}\u{0C}\u{85}\u{A0}\u{2028}\u{3000}x\u{2003}y",
    "line\u{2028}sep and nbsp\u{A0}here",
    "\u{1F600}\u{1F600}   \u{1F600}",
    "tab\tbefore\t\tletters and ?punct and\t?punct\n!\n\n?\r\n",
]

/// Seeded random strings over an alphabet chosen to hit the boundaries between classes.
func randomTexts(count: Int, seed: UInt64) -> [String] {
    let alphabet: [String] = ["a", "Z", "é", "東", "1", "٣", "½", " ", "  ", "\t", "\n", "\r", "\r\n", "'", "'s", "'LL",
                              "!", ".", "😀", "\u{A0}", "\u{2028}", "-", "_", "x", "ve", "re"]
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        (0..<(1 + rng.int(below: 30))).map { _ in alphabet[rng.int(below: alphabet.count)] }.joined()
    }
}

@Suite struct Week10SplitterTests {
    @Test(arguments: SplitPattern.allCases)
    func splitterEqualsTheRegexOnTheVariedCorpus(pattern: SplitPattern) {
        let splitter = Pretokenizer(pattern)
        for text in variedCorpus + [variedCorpus.joined(separator: "\n")] {
            #expect(splitter.chunks(text) == naiveChunks(text, pattern: pattern), "\(pattern): \(text.debugDescription)")
        }
    }

    @Test(arguments: SplitPattern.allCases)
    func splitterEqualsTheRegexOnRandomText(pattern: SplitPattern) {
        let splitter = Pretokenizer(pattern)
        var mismatches = 0
        for text in randomTexts(count: 2000, seed: pattern == .gpt4 ? 41 : 42) where splitter.chunks(text) != naiveChunks(text, pattern: pattern) {
            mismatches += 1
            if mismatches <= 3 {
                Issue.record("\(pattern): \(text.debugDescription): \(splitter.chunks(text)) vs \(naiveChunks(text, pattern: pattern))")
            }
        }
        #expect(mismatches == 0)
    }

    @Test func gpt4AndGPT2DifferWhereTheyShould() {
        // GPT-4: at most 3 digits, contractions in any case, one leading symbol before letters.
        #expect(Pretokenizer(.gpt4).chunks("12345 HE'S (the") == ["123", "45", " HE", "'S", " (", "the"])
        #expect(Pretokenizer(.gpt2).chunks("12345 HE'S (the") == ["12345", " HE", "'", "S", " (", "the"])
        #expect(Pretokenizer(.gpt4).chunks("x  y\n\n z") == ["x", " ", " y", "\n\n", " z"])
        #expect(Pretokenizer(.gpt2).chunks("he'LL") == ["he", "'", "LL"])
    }

    @Test func chunksTileArbitraryBytes() {
        // Invalid UTF-8 (stray continuation bytes, truncated sequences) still splits into
        // chunks that cover every byte once, in order.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let bytes = (0..<rng.int(below: 40)).map { _ in UInt8(rng.int(below: 256)) }
            for pattern in SplitPattern.allCases {
                var covered = 0, tiles = true
                bytes.withUnsafeBufferPointer { buffer in
                    Pretokenizer(pattern).forEachChunk(in: buffer) { start, end in
                        if start != covered || end <= start { tiles = false }
                        covered = end
                    }
                }
                #expect(tiles && covered == bytes.count)
            }
        }
    }
}
