// Encoding and decoding (BPETokenizer.swift), special tokens, and the saved files
// (TokenizerFiles.swift), on tokenizers trained from seeded text.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week10BPE

/// A tokenizer trained on seeded text with both kinds of words (built once per test).
func makeTestTokenizer(pattern: SplitPattern = .gpt4, vocabularySize: Int = 600,
                       specialTokens: [String] = ["<|endoftext|>", "<|pad|>"]) throws -> BPETokenizer {
    let text = seededText(words: 3000, seed: 21, vocabulary: englishWords + otherWords)
    return try BPETokenizer(training: try trainBPE(text: text, vocabularySize: vocabularySize, pattern: pattern),
                            pattern: pattern, specialTokens: specialTokens)
}

/// The merge-by-rank reference: minbpe's RegexTokenizer.encode_ordinary, chunk by chunk,
/// merging the lowest-ranked pair present until none is left.
func naiveEncode(_ tokenizer: BPETokenizer, _ text: String) -> [Int] {
    var rank: [[Int]: Int] = [:]
    for (r, merge) in tokenizer.merges.enumerated() { rank[[merge.left, merge.right]] = r }
    var out: [Int] = []
    for chunk in naiveChunks(text, pattern: tokenizer.pattern) {
        var ids = Array(chunk.utf8).map { Int(tokenizer.byteTokens[Int($0)]) }
        while ids.count >= 2 {
            let candidates = (0..<(ids.count - 1)).compactMap { i in rank[[ids[i], ids[i + 1]]].map { (r: $0, i: i) } }
            guard let best = candidates.min(by: { $0.r < $1.r }) else { break }
            let merge = tokenizer.merges[best.r]
            var merged: [Int] = [], i = 0
            while i < ids.count {
                if i + 1 < ids.count && ids[i] == merge.left && ids[i + 1] == merge.right { merged.append(merge.id); i += 2 }
                else { merged.append(ids[i]); i += 1 }
            }
            ids = merged
        }
        out += ids
    }
    return out
}

/// A fresh temporary folder.
func temporaryFolder(_ name: String) -> String {
    let path = "/tmp/week10-tests-\(getpid())-\(name)"
    try? createDirectories(path)
    return path
}

@Suite struct Week10TokenizerTests {
    @Test(arguments: SplitPattern.allCases)
    func encodeEqualsTheNaiveEncoder(pattern: SplitPattern) throws {
        let tokenizer = try makeTestTokenizer(pattern: pattern)
        for text in variedCorpus + randomTexts(count: 300, seed: 5) + [seededText(words: 500, seed: 77, vocabulary: englishWords)] {
            #expect(tokenizer.encodeOrdinary(text) == naiveEncode(tokenizer, text), "\(text.debugDescription)")
        }
    }

    @Test func longChunksTakeTheHeapPathAndAgree() throws {
        // Chunks over 64 bytes (a long word, a long run of spaces) use the heap-based merge.
        let tokenizer = try makeTestTokenizer()
        for text in [String(repeating: "a", count: 1000), String(repeating: "thethe", count: 50),
                     String(repeating: " ", count: 300) + "x", String(repeating: "é", count: 99), String(repeating: "🦊", count: 40)] {
            #expect(tokenizer.encodeOrdinary(text) == naiveEncode(tokenizer, text))
        }
    }

    @Test func roundTripOfArbitraryBytes() throws {
        // Thousands of random byte strings, most of them invalid UTF-8: decode(encode(b)) == b.
        let tokenizer = try makeTestTokenizer()
        var rng = SplitMix64(seed: 99)
        let pieces: [[UInt8]] = [Array("the ".utf8), Array("é".utf8), Array("🦊".utf8), [0xFF], [0xC3], [0x80], [0xE6, 0x9D], [0x0A], [0x20, 0x20]]
        for trial in 0..<3000 {
            var bytes: [UInt8] = []
            for _ in 0..<rng.int(below: 24) {
                if rng.int(below: 2) == 0 { bytes.append(UInt8(rng.int(below: 256))) } else { bytes += pieces[rng.int(below: pieces.count)] }
            }
            let ids = tokenizer.encode(bytes: bytes)
            #expect(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.baseVocabularySize })
            #expect(tokenizer.decodeBytes(ids) == bytes, "trial \(trial): \(bytes)")
        }
        for text in ["", "?", "🦊", "a\u{0}b", "héllo wörld 東京"] {
            #expect(tokenizer.decode(try tokenizer.encode(text)) == text)
        }
        // Display-only decoding replaces what is not UTF-8.
        #expect(tokenizer.decode(tokenizer.encode(bytes: [0x61, 0xFF, 0x62])) == "a\u{FFFD}b")
    }

    @Test func specialTokens() throws {
        let tokenizer = try makeTestTokenizer()
        let eot = tokenizer.specialTokenID("<|endoftext|>")!, pad = tokenizer.specialTokenID("<|pad|>")!
        #expect(eot == tokenizer.baseVocabularySize && pad == eot + 1 && tokenizer.vocabularySize == pad + 1)
        let text = "one<|endoftext|>two <|pad|>"
        let allowed = try tokenizer.encode(text, specialTokens: .allowAll)
        #expect(allowed == tokenizer.encodeOrdinary("one") + [eot] + tokenizer.encodeOrdinary("two ") + [pad])
        #expect(tokenizer.decode(allowed) == text)
        // Only <|endoftext|> allowed: <|pad|> in the text is an error.
        #expect(throws: WorkbookError.self) { try tokenizer.encode(text, specialTokens: .allow(["<|endoftext|>"])) }
        #expect(try tokenizer.encode("a<|endoftext|>", specialTokens: .allow(["<|endoftext|>"])) == tokenizer.encodeOrdinary("a") + [eot])
        // The default rejects; as text, the string is split and merged like any other.
        #expect(throws: WorkbookError.self) { try tokenizer.encode(text) }
        let asText = try tokenizer.encode(text, specialTokens: .encodeAsText)
        #expect(asText == tokenizer.encodeOrdinary(text) && !asText.contains(eot) && tokenizer.decode(asText) == text)
        #expect(try tokenizer.encode("no specials here") == tokenizer.encodeOrdinary("no specials here"))
    }

    @Test func specialTokenCollidingWithALearnedTokenIsRejected() throws {
        let text = seededText(words: 500, seed: 1, vocabulary: englishWords)
        let result = try trainBPE(text: text, vocabularySize: 400, pattern: .gpt4)
        do {
            _ = try BPETokenizer(training: result, pattern: .gpt4, specialTokens: [" the"])
            Issue.record("a special token spelling a learned token was accepted")
        } catch let error as WorkbookError {
            #expect(error.message.contains("collides with learned token"))
        }
        #expect(throws: WorkbookError.self) { try BPETokenizer(training: result, pattern: .gpt4, specialTokens: ["<a>", "<a>"]) }
        #expect(throws: WorkbookError.self) { try BPETokenizer(training: result, pattern: .gpt4, specialTokens: ["a"]) }
    }

    @Test(arguments: SplitPattern.allCases)
    func savedFilesRoundTrip(pattern: SplitPattern) throws {
        let tokenizer = try makeTestTokenizer(pattern: pattern)
        let folder = temporaryFolder("files-\(pattern)")
        let json = joinPath(folder, "tokenizer.json"), ranks = joinPath(folder, "tokenizer.tiktoken")
        try tokenizer.save(to: json)
        try tokenizer.save(to: ranks)
        let fromJSON = try BPETokenizer.load(from: json)
        let fromRanks = try BPETokenizer.load(from: ranks, pattern: pattern)
        let sample = variedCorpus.joined(separator: " ") + seededText(words: 300, seed: 8, vocabulary: englishWords)
        for loaded in [fromJSON, fromRanks] {
            #expect(loaded.pattern == pattern)
            #expect(loaded.merges.map { [$0.left, $0.right, $0.id] } == tokenizer.merges.map { [$0.left, $0.right, $0.id] })
            #expect(loaded.tokenBytes == tokenizer.tokenBytes)
            #expect(loaded.encodeOrdinary(sample) == tokenizer.encodeOrdinary(sample))
        }
        // tokenizer.json keeps the special tokens; the rank file has none.
        #expect(fromJSON.specialTokens.map(\.text) == ["<|endoftext|>", "<|pad|>"])
        #expect(fromJSON.specialTokens.map(\.id) == tokenizer.specialTokens.map(\.id))
        #expect(fromRanks.specialTokens.isEmpty)
    }

    @Test func corruptTruncatedOrMissingFilesAreOneClearError() throws {
        let tokenizer = try makeTestTokenizer()
        let folder = temporaryFolder("corrupt")
        let json = try tokenizer.huggingFaceJSON(), ranks = try tokenizer.tiktokenRanks()
        func loadError(_ name: String, _ text: String) -> String {
            let path = joinPath(folder, name)
            try? writeTextFile(text, to: path)
            do {
                _ = try BPETokenizer.load(from: path)
                return "loaded"
            } catch let error as WorkbookError {
                return error.message
            } catch { return "\(error)" }
        }
        let cases: [(String, String, String)] = [
            ("truncated.json", String(json.prefix(json.count / 2)), "truncated.json: "),
            ("no-model.json", #"{"model": {"type": "WordPiece"}}"#, "not a BPE tokenizer.json"),
            ("bad-merge.json", json.replacingFirst("\"merges\": [\n    [", with: "\"merges\": [\n    [\"zzzz\", "), "names a token missing"),
            ("bad-id.json", json.replacingFirst("\": 0,", with: "\": 7000,"), "outside"),
            ("cut-mid-line.tiktoken", String(ranks.prefix(ranks.count / 2 + 3)), "cut-mid-line.tiktoken: "),
            ("few.tiktoken", ranks.split(separator: "\n").prefix(200).joined(separator: "\n"), "has no rank"),
            ("garbage.tiktoken", "not base64 at all\n", "line 1 is not 'base64 rank'"),
            ("duplicate.tiktoken", ranks + "IQ== 9999\n", "out of order"),
            ("empty.tiktoken", "", "no ranks"),
        ]
        for (name, text, expected) in cases {
            let message = loadError(name, text)
            #expect(message.contains(expected), "\(name): \(message)")
            #expect(!message.contains("\n"), "\(name): more than one line")
        }
        do {
            _ = try BPETokenizer.load(from: joinPath(folder, "does-not-exist.json"))
            Issue.record("a missing file loaded")
        } catch let error as WorkbookError {
            #expect(error.message.contains("No such file"))
        }
    }

    @Test func base64RoundTripsAndRejectsBadInput() {
        var rng = SplitMix64(seed: 3)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8(rng.int(below: 256)) }
            if length > 0 { #expect(base64Decode(base64Encode(bytes)) == bytes) }
        }
        #expect(base64Encode(Array("Man".utf8)) == "TWFu" && base64Encode([0x4D]) == "TQ==")
        for bad in ["TQ=", "T===", "TQ=a", "@@@@", "TW Fu"] { #expect(base64Decode(bad) == nil, "\(bad)") }
    }
}

extension String {
    /// The text with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
