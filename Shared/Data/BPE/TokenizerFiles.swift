// Saving and loading a tokenizer in the two formats the Python world reads:
//   tokenizer.tiktoken  tiktoken's rank file: one "base64(token bytes) rank" per line
//                       (tiktoken.load.load_tiktoken_bpe). Ranks only: no pattern, no specials.
//   tokenizer.json      Hugging Face tokenizers: a byte-level BPE model (vocabulary and merges
//                       spelled through GPT-2's bytes-to-unicode table), the split pattern as
//                       its pre-tokenizer, special tokens as "added_tokens".
// A file is untrusted input: every rank, id, merge and string is checked, and a bad file is
// one line saying what is wrong. References: tiktoken/load.py, tokenizers' BPE model docs.
import SharedKernels
import SharedTools

extension BPETokenizer {
    // MARK: Choosing the format

    /// Writes the tokenizer: tiktoken's rank file if `path` ends in ".tiktoken", else tokenizer.json.
    public func save(to path: String) throws {
        let text = path.hasSuffix(".tiktoken") ? try tiktokenRanks() : try huggingFaceJSON()
        try writeTextFile(text, to: path)
    }

    /// Reads either format; a rank file is taken to use GPT-4's split pattern.
    /// The shape of Shared's `Tokenizer.load(from:)`.
    public static func load(from path: String) throws -> BPETokenizer { try load(from: path, pattern: .gpt4) }

    /// Reads either format (told apart by the first character: "{" is JSON). A rank file does
    /// not record its split pattern: `pattern` gives it.
    public static func load(from path: String, pattern: SplitPattern) throws -> BPETokenizer {
        let text = try readTextFile(path)   // "cannot read PATH: No such file or directory"
        do {
            if text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).first == "{" {
                return try fromHuggingFaceJSON(text)
            }
            return try fromTiktokenRanks(text, pattern: pattern)
        } catch let error as WorkbookError {
            throw WorkbookError("\(path): \(error.message)")
        }
    }

    // MARK: tiktoken

    /// The rank file: id i's bytes in base64, a space, i; one line per id (specials left out,
    /// as tiktoken takes them separately).
    /// Throws if two ids spell the same bytes (the format maps bytes to one rank) or if a merge
    /// could not be recovered from the ranks alone (see `fromTiktokenRanks`).
    public func tiktokenRanks() throws -> String {
        try checkDistinctSpellings()
        var lines: [String] = []
        lines.reserveCapacity(tokenBytes.count)
        for (id, bytes) in tokenBytes.enumerated() { lines.append(base64Encode(bytes) + " \(id)") }
        let text = lines.joined(separator: "\n") + "\n"
        let reread = try BPETokenizer.fromTiktokenRanks(text, pattern: pattern)
        guard reread.merges.map({ [$0.left, $0.right, $0.id] }) == merges.map({ [$0.left, $0.right, $0.id] }) else {
            let rank = (0..<merges.count).first { k in
                k >= reread.merges.count || reread.merges[k] != merges[k]
            } ?? merges.count
            throw WorkbookError("merge \(rank) cannot be recovered from tiktoken ranks (another split of its bytes "
                                + "merges first): save as tokenizer.json instead")
        }
        return text
    }

    /// Reads a rank file. Ranks must be 0, 1, 2, ... once each, the 256 single bytes among them.
    /// The merges are recovered as minbpe's `recover_merges` does: the token of rank r is what
    /// BPE with ranks below r makes of its bytes, which must be exactly two tokens.
    public static func fromTiktokenRanks(_ text: String, pattern: SplitPattern) throws -> BPETokenizer {
        var entries: [(bytes: [UInt8], rank: Int)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let bytes = base64Decode(parts[0]), let rank = Int(parts[1]), rank >= 0 else {
                throw WorkbookError("line \(number + 1) is not 'base64 rank': \(line.prefix(60))")
            }
            entries.append((bytes, rank))
        }
        guard !entries.isEmpty else { throw WorkbookError("no ranks in the file (empty or not a tiktoken rank file)") }
        var byRank = [[UInt8]?](repeating: nil, count: entries.count)
        var rankOf: [[UInt8]: Int] = [:]
        for entry in entries {
            guard entry.rank < entries.count else {
                throw WorkbookError("rank \(entry.rank) is out of order: \(entries.count) lines need ranks 0..<\(entries.count)")
            }
            guard byRank[entry.rank] == nil else { throw WorkbookError("rank \(entry.rank) appears twice") }
            guard rankOf[entry.bytes] == nil else { throw WorkbookError("rank \(entry.rank) repeats the bytes of rank \(rankOf[entry.bytes]!)") }
            byRank[entry.rank] = entry.bytes
            rankOf[entry.bytes] = entry.rank
        }
        let tokenBytes = byRank.map { $0! }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            guard let rank = rankOf[[UInt8(byte)]] else { throw WorkbookError("byte \(byte) has no rank: not a byte-level BPE file (truncated?)") }
            byteTokens[byte] = Int32(rank)
        }
        // Recover each merge: BPE on the token's bytes using only lower ranks (tiktoken's rule:
        // merge the adjacent pair whose joined bytes have the lowest rank) must stop at two parts.
        var merges: [(left: Int, right: Int, id: Int)] = []
        for (rank, bytes) in tokenBytes.enumerated() where bytes.count > 1 {
            var parts = bytes.map { [$0] }
            while parts.count > 2 {
                var best = -1, bestRank = Int.max
                for k in 0..<(parts.count - 1) {
                    if let r = rankOf[parts[k] + parts[k + 1]], r < rank, r < bestRank { best = k; bestRank = r }
                }
                if best < 0 { break }
                parts[best] += parts[best + 1]
                parts.remove(at: best + 1)
            }
            guard parts.count == 2, let left = rankOf[parts[0]], let right = rankOf[parts[1]], left < rank, right < rank else {
                throw WorkbookError("rank \(rank) cannot be built by merging two lower ranks: not a BPE rank file")
            }
            merges.append((left, right, rank))
        }
        return try BPETokenizer(pattern: pattern, tokenBytes: tokenBytes, byteTokens: byteTokens,
                                merges: merges, specialTokens: [])
    }

    // MARK: Hugging Face tokenizer.json

    /// The pre-tokenizer of each pattern: GPT-2's is built into ByteLevel (use_regex); GPT-4's
    /// is a Split by its regex, then ByteLevel only for the byte-to-unicode spelling.
    private func preTokenizerJSON() -> String {
        let byteLevel = { (useRegex: Bool) in
            #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": \#(useRegex)}"#
        }
        switch pattern {
        case .gpt2: return byteLevel(true)
        case .gpt4:
            return #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "#
                + JSONValue.string(pattern.regex).description + #"}, "behavior": "Isolated", "invert": false}, "#
                + byteLevel(false) + "]}"
        }
    }

    /// tokenizer.json for `tokenizers.Tokenizer.from_file`. Throws if two ids spell the same
    /// bytes (its vocabulary maps each string to one id).
    public func huggingFaceJSON() throws -> String {
        try checkDistinctSpellings()
        let spell = { (id: Int) in JSONValue.string(byteLevelSpelling(self.tokenBytes[id])).description }
        let vocabulary = tokenBytes.indices.map { "    \(spell($0)): \($0)" }.joined(separator: ",\n")
        let mergeLines = merges.map { "    [\(spell($0.left)), \(spell($0.right))]" }.joined(separator: ",\n")
        let added = specialTokens.map {
            #"    {"id": \#($0.id), "content": \#(JSONValue.string($0.text).description), "single_word": false, "#
                + #""lstrip": false, "rstrip": false, "normalized": false, "special": true}"#
        }.joined(separator: ",\n")
        return """
        {
          "version": "1.0",
          "truncation": null,
          "padding": null,
          "added_tokens": [\(added.isEmpty ? "" : "\n" + added + "\n  ")],
          "normalizer": null,
          "pre_tokenizer": \(preTokenizerJSON()),
          "post_processor": null,
          "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
          "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": {
        \(vocabulary)
            },
            "merges": [
        \(mergeLines)
            ]
          }
        }

        """
    }

    /// Reads a tokenizer.json with a byte-level BPE model and one of our two pre-tokenizers.
    public static func fromHuggingFaceJSON(_ text: String) throws -> BPETokenizer {
        let document = try JSONValue.parse(text)
        guard let model = document["model"], model["type"]?.stringValue == "BPE" else {
            throw WorkbookError("not a BPE tokenizer.json (no \"model\" of type \"BPE\")")
        }
        let pattern = try patternOf(preTokenizer: document["pre_tokenizer"])
        guard let vocabulary = model["vocab"]?.objectValue else { throw WorkbookError("model.vocab is missing or not an object") }
        var tokenBytes = [[UInt8]?](repeating: nil, count: vocabulary.count)
        var idOf: [String: Int] = [:]
        for (spelling, value) in vocabulary {
            guard let id = value.intValue, id >= 0, id < vocabulary.count else {
                throw WorkbookError("vocabulary entry \(spelling) has id \(value), outside 0..<\(vocabulary.count)")
            }
            guard tokenBytes[id] == nil else { throw WorkbookError("id \(id) appears twice in the vocabulary") }
            guard let bytes = bytesOfByteLevelSpelling(spelling) else {
                throw WorkbookError("vocabulary entry \(spelling) is not in the byte-level alphabet")
            }
            tokenBytes[id] = bytes
            idOf[spelling] = id
        }
        let allBytes = tokenBytes.map { $0! }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for (id, bytes) in allBytes.enumerated() where bytes.count == 1 { byteTokens[Int(bytes[0])] = Int32(id) }
        if let missing = byteTokens.firstIndex(of: -1) {
            throw WorkbookError("byte \(missing) is not in the vocabulary: not a byte-level BPE tokenizer")
        }
        guard let mergeList = model["merges"]?.arrayValue else { throw WorkbookError("model.merges is missing or not a list") }
        var merges: [(left: Int, right: Int, id: Int)] = []
        for (rank, entry) in mergeList.enumerated() {
            // Either ["a", "b"] (tokenizers >= 0.20) or "a b" (older files).
            let parts: [String]
            if let pair = entry.arrayValue { parts = pair.compactMap(\.stringValue) }
            else if let line = entry.stringValue { parts = line.split(separator: " ").map(String.init) }
            else { parts = [] }
            guard parts.count == 2, let left = idOf[parts[0]], let right = idOf[parts[1]], let id = idOf[parts[0] + parts[1]] else {
                throw WorkbookError("merge \(rank) (\(entry)) names a token missing from the vocabulary")
            }
            merges.append((left, right, id))
        }
        var specials: [(text: String, id: Int)] = []
        for entry in document["added_tokens"]?.arrayValue ?? [] {
            guard let content = entry["content"]?.stringValue, let id = entry["id"]?.intValue else {
                throw WorkbookError("an added token lacks its content or id")
            }
            specials.append((content, id))
        }
        return try BPETokenizer(pattern: pattern, tokenBytes: allBytes, byteTokens: byteTokens, merges: merges,
                                specialTokens: specials.sorted { $0.id < $1.id })
    }

    /// Which of our patterns a pre_tokenizer entry is.
    private static func patternOf(preTokenizer: JSONValue?) throws -> SplitPattern {
        if let p = preTokenizer, p["type"]?.stringValue == "ByteLevel", p["use_regex"]?.boolValue ?? true {
            return .gpt2
        }
        if let p = preTokenizer, p["type"]?.stringValue == "Sequence", let steps = p["pretokenizers"]?.arrayValue,
           steps.count == 2, steps[1]["type"]?.stringValue == "ByteLevel", steps[1]["use_regex"]?.boolValue == false,
           let regex = steps[0]["pattern"]?["Regex"]?.stringValue,
           let pattern = SplitPattern.allCases.first(where: { $0.regex == regex }) {
            return pattern
        }
        throw WorkbookError("the pre-tokenizer is neither GPT-2's ByteLevel nor a Split by the GPT-4 or GPT-2 "
                            + "pattern followed by ByteLevel: this tokenizer cannot reproduce it")
    }

    /// Both file formats map a token's bytes to one id.
    private func checkDistinctSpellings() throws {
        var seen: [[UInt8]: Int] = [:]
        for (id, bytes) in tokenBytes.enumerated() {
            if let earlier = seen[bytes] {
                throw WorkbookError("tokens \(earlier) and \(id) spell the same bytes (\(describeToken(id))); "
                                    + "tiktoken and tokenizer.json files cannot hold both")
            }
            seen[bytes] = id
        }
    }
}

// MARK: - GPT-2's bytes-to-unicode table

/// GPT-2 spells every byte as a printable character, so a token is a readable string in JSON:
/// the 188 printable Latin-1 bytes stand for themselves, the other 68 (control characters,
/// space, ...) are shifted to U+0100 and up, in byte order: ' ' (0x20) -> 'Ġ', '\n' -> 'Ċ'.
let byteLevelAlphabet: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var shifted: UInt32 = 256
    for byte in 0..<256 {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        if printable {
            table[byte] = Unicode.Scalar(UInt32(byte))!
        } else {
            table[byte] = Unicode.Scalar(shifted)!
            shifted += 1
        }
    }
    return table
}()

/// bytes -> their byte-level spelling.
func byteLevelSpelling(_ bytes: [UInt8]) -> String {
    var scalars = String.UnicodeScalarView()
    for byte in bytes { scalars.append(byteLevelAlphabet[Int(byte)]) }
    return String(scalars)
}

private let byteOfSpelling: [UInt32: UInt8] = {
    var table: [UInt32: UInt8] = [:]
    for (byte, scalar) in byteLevelAlphabet.enumerated() { table[scalar.value] = UInt8(byte) }
    return table
}()

/// A byte-level spelling -> its bytes; nil if a character is not in the alphabet.
func bytesOfByteLevelSpelling(_ text: String) -> [UInt8]? {
    var bytes: [UInt8] = []
    for scalar in text.unicodeScalars {
        guard let byte = byteOfSpelling[scalar.value] else { return nil }
        bytes.append(byte)
    }
    return bytes.isEmpty ? nil : bytes
}

// MARK: - Base64 (RFC 4648, with padding)

private let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

func base64Encode(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let b0 = UInt32(bytes[i]), b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
        let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
        let group = b0 << 16 | b1 << 8 | b2
        out.append(base64Digits[Int(group >> 18 & 63)])
        out.append(base64Digits[Int(group >> 12 & 63)])
        out.append(i + 1 < bytes.count ? base64Digits[Int(group >> 6 & 63)] : UInt8(ascii: "="))
        out.append(i + 2 < bytes.count ? base64Digits[Int(group & 63)] : UInt8(ascii: "="))
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

/// nil if `text` is not padded base64 (wrong length, a foreign character, misplaced '=').
func base64Decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard !digits.isEmpty, digits.count % 4 == 0 else { return nil }
    var out: [UInt8] = []
    for start in stride(from: 0, to: digits.count, by: 4) {
        var group: UInt32 = 0, padding = 0
        for k in 0..<4 {
            let d = digits[start + k]
            let value: UInt32
            switch d {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(d - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(d - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(d - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "=") where start + 4 == digits.count && k >= 2: value = 0; padding += 1
            default: return nil
            }
            if padding > 0 && d != UInt8(ascii: "=") { return nil }
            group = group << 6 | value
        }
        out.append(UInt8(group >> 16 & 0xFF))
        if padding < 2 { out.append(UInt8(group >> 8 & 0xFF)) }
        if padding < 1 { out.append(UInt8(group & 0xFF)) }
    }
    return out
}
