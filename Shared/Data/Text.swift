// Character-level text for the language-model weeks (5-9): the embedded Shakespeare corpus
// or a user's --corpus file, a character vocabulary (a `Tokenizer`, Tokenizer.swift), a 90/10
// train/validation split, and random chunks of T tokens with their next-token targets (as in
// nanoGPT's get_batch). The splits, schedules and measures built on them are in TextData.swift. Reference: https://github.com/karpathy/nanoGPT/blob/master/data/shakespeare_char/prepare.py
import SharedKernels
import SharedTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded corpus: eight Shakespeare plays, ~1 MB of ASCII (Datasets/README.md).
public enum Shakespeare {
    /// The text of Datasets/shakespeare.txt.
    public static func load() throws -> String {
        try TextCorpus.load(path: DatasetFiles.path("shakespeare.txt")).text
    }
}

/// The sorted unique characters of a text, each given an id 0..<size (nanoGPT's stoi / itos).
/// A "character" is a Unicode scalar (what Python's `str` indexes), not a Swift `Character`
/// (a grapheme cluster): "\r\n" is two characters, "é" written as e + U+0301 is two.
/// That keeps lengths and vocabularies the same as the Python baselines.
public struct CharVocabulary: Equatable {
    /// id -> character, sorted by code point.
    public let characters: [Unicode.Scalar]
    /// character -> id.
    private let ids: [Unicode.Scalar: Int]
    /// The same for code points below 256 (all of ASCII), as a plain table: encoding a
    /// 1 MB corpus does a million lookups, and an array index is much cheaper than hashing.
    /// -1 = not in the vocabulary.
    private let latin1IDs: [Int]

    public init(text: String) {
        self.init(sortedCharacters: Set(text.unicodeScalars).sorted { $0.value < $1.value })
    }

    /// The vocabulary of `characters`, which must be unique and in ascending code-point order
    /// (what `load(from:)` reads back after checking it).
    init(sortedCharacters: [Unicode.Scalar]) {
        characters = sortedCharacters
        var ids: [Unicode.Scalar: Int] = [:]
        var latin1IDs = [Int](repeating: -1, count: 256)
        for (id, character) in characters.enumerated() {
            ids[character] = id
            if character.value < 256 { latin1IDs[Int(character.value)] = id }
        }
        self.ids = ids
        self.latin1IDs = latin1IDs
    }

    public var size: Int { characters.count }

    /// The ids of `s`, one per character. Throws, naming the first character not in the
    /// vocabulary (e.g. a prompt with a letter the training text never contained).
    public func encode(_ s: String) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(s.utf8.count)
        for character in s.unicodeScalars {
            if character.value < 256, latin1IDs[Int(character.value)] >= 0 {
                out.append(latin1IDs[Int(character.value)])
                continue
            }
            guard let id = ids[character] else {
                throw WorkbookError("character \(CharVocabulary.describe(character)) is not in the "
                                    + "vocabulary of \(size) characters the model was trained on")
            }
            out.append(id)
        }
        return out
    }

    /// The text of `ids` (each in 0..<size).
    public func decode(_ ids: [Int]) -> String {
        var scalars = String.UnicodeScalarView()
        for id in ids {
            precondition(id >= 0 && id < size, "decode: id \(id) outside 0..<\(size)")
            scalars.append(characters[id])
        }
        return String(scalars)
    }

    /// The id of one character, nil when it is not in the vocabulary.
    public func id(of character: Unicode.Scalar) -> Int? { ids[character] }

    /// "'é' (U+00E9)"; control characters are shown escaped: "'\n' (U+000A)".
    static func describe(_ character: Unicode.Scalar) -> String {
        let hex = String(character.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        let shown = character.value < 0x20 || character.value == 0x7F
            ? character.escaped(asASCII: true) : String(character)
        return "'\(shown)' (\(code))"
    }
}

/// A text and its character ids, ready for a character-level model.
public struct TextCorpus {
    /// Where the text came from (a path, or "Shakespeare").
    public let name: String
    public let text: String
    public let vocabulary: CharVocabulary
    /// The whole text as ids: (N), N = number of characters.
    public let ids: [Int]
    /// How many bytes of the file were not valid UTF-8 and became U+FFFD (see `load`).
    public let replacedBytes: Int

    /// Builds the vocabulary from `text` itself.
    public init(text: String, name: String, replacedBytes: Int = 0) throws {
        guard !text.isEmpty else { throw WorkbookError("\(name): the text is empty") }
        self.name = name
        self.text = text
        self.replacedBytes = replacedBytes
        vocabulary = CharVocabulary(text: text)
        ids = try vocabulary.encode(text)  // cannot fail: every character is in its own vocabulary
    }

    /// Reads a UTF-8 text file (a user's `--corpus PATH`).
    ///
    /// - An empty file (or a missing one) throws.
    /// - Bytes that are not valid UTF-8 (a Latin-1 file, say) do not stop the run: each
    ///   invalid sequence is decoded as U+FFFD "�", as Python's errors="replace" does, and a
    ///   warning on stderr says how many bytes were replaced (also kept in `replacedBytes`),
    ///   so the learner can convert the file (`iconv -f latin1 -t utf-8`) if that matters.
    /// - A file that is mostly not text (over half its bytes invalid) is rejected instead.
    public static func load(path: String, warn: Bool = true) throws -> TextCorpus {
        guard fileExists(path) else { throw WorkbookError("\(path): no such file") }
        let bytes = try readFileBytes(path)
        guard !bytes.isEmpty else { throw WorkbookError("\(path): the file is empty") }
        let (text, replaced) = decodeUTF8(bytes)
        if replaced * 2 > bytes.count {
            throw WorkbookError("\(path): \(replaced) of \(bytes.count) bytes are not valid UTF-8; "
                                + "this does not look like a text file")
        }
        if replaced > 0 && warn {
            fputs("warning: \(path): \(replaced) bytes were not valid UTF-8 and were replaced by U+FFFD\n", stderr)
        }
        return try TextCorpus(text: text, name: path, replacedBytes: replaced)
    }

    /// The embedded Shakespeare corpus.
    public static func shakespeare() throws -> TextCorpus {
        try load(path: DatasetFiles.path("shakespeare.txt"))
    }

    /// Decodes UTF-8, replacing each maximal invalid sequence by U+FFFD; also returns how
    /// many input bytes were invalid.
    public static func decodeUTF8(_ bytes: [UInt8]) -> (text: String, replacedBytes: Int) {
        // The usual case, fast: valid UTF-8 decodes without a single U+FFFD. (A text that
        // really contains U+FFFD just takes the slow path below, which counts correctly.)
        let quick = String(decoding: bytes, as: UTF8.self)
        if !quick.unicodeScalars.contains("\u{FFFD}") { return (quick, 0) }
        var scalars = String.UnicodeScalarView()
        var replaced = 0
        var parser = Unicode.UTF8.ForwardParser()
        var input = bytes.makeIterator()
        loop: while true {
            switch parser.parseScalar(from: &input) {
            case .valid(let encoded): scalars.append(Unicode.UTF8.decode(encoded))
            case .error(let length):
                replaced += length
                scalars.append("\u{FFFD}")
            case .emptyInput: break loop
            }
        }
        return (String(scalars), replaced)
    }

    /// nanoGPT's split: the first `trainFraction` of the ids (90% by default) for training,
    /// the rest for validation. Contiguous, not shuffled, so validation text is unseen text.
    public func split(trainFraction: Double = 0.9) -> (train: [Int], validation: [Int]) {
        precondition(trainFraction > 0 && trainFraction < 1, "split: trainFraction \(trainFraction) not in (0, 1)")
        let cut = Int(Double(ids.count) * trainFraction)
        return (Array(ids[..<cut]), Array(ids[cut...]))
    }
}

/// One mini-batch of text chunks: inputs (B, T) and targets (B, T), where
/// targets[b, t] = inputs[b, t + 1] within the text: the character that follows.
public struct TextBatch {
    public var inputs: [Int]
    public var targets: [Int]
    /// B, rows.
    public let batchSize: Int
    /// T, tokens per row.
    public let context: Int

    /// inputs, targets: (B, T) row-major, B·T ids each.
    public init(inputs: [Int], targets: [Int], batchSize B: Int, context T: Int) {
        precondition(B >= 1 && T >= 1 && inputs.count == B * T && targets.count == B * T,
                     "TextBatch: \(inputs.count) inputs and \(targets.count) targets for B \(B) x T \(T)")
        self.inputs = inputs
        self.targets = targets
        batchSize = B
        context = T
    }

    /// Rows `rows` of this batch as a batch of their own (a micro-batch for gradient accumulation).
    public func rows(_ rows: Range<Int>) -> TextBatch {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= batchSize && !rows.isEmpty,
                     "TextBatch.rows: \(rows) outside 0..<\(batchSize)")
        let T = context, range = (rows.lowerBound * T)..<(rows.upperBound * T)
        return TextBatch(inputs: Array(inputs[range]), targets: Array(targets[range]), batchSize: rows.count, context: T)
    }
}

/// Draws random contiguous chunks of `context` characters (nanoGPT's get_batch).
/// Checked once at creation: the ids must hold at least context + 1 characters.
public struct TextChunks {
    /// The ids to draw from: (N).
    public let ids: [Int]
    /// T, the context length.
    public let context: Int

    public init(ids: [Int], context: Int) throws {
        guard context >= 1 else { throw WorkbookError("the context must be at least 1, got \(context)") }
        guard ids.count >= context + 1 else {
            throw WorkbookError("the text has \(ids.count) characters, fewer than the context + 1 = "
                                + "\(context + 1): use a longer text or a shorter context")
        }
        self.ids = ids
        self.context = context
    }

    /// How many distinct chunk starts there are: N - T.
    public var startCount: Int { ids.count - context }

    /// B chunks at uniform random starts s in 0..<(N - T):
    /// inputs[b, :] = ids[s ..< s+T], targets[b, :] = ids[s+1 ... s+T].
    public func randomBatch(batchSize B: Int, rng: inout SplitMix64) -> TextBatch {
        let starts = (0..<B).map { _ in rng.int(below: startCount) }
        return batch(starts: starts)
    }

    /// The chunks starting at `starts` (each in 0..<startCount), in order.
    public func batch(starts: [Int]) -> TextBatch {
        let T = context
        var inputs = [Int](repeating: 0, count: starts.count * T)
        var targets = [Int](repeating: 0, count: starts.count * T)
        for (b, start) in starts.enumerated() {
            precondition(start >= 0 && start < startCount, "batch: start \(start) outside 0..<\(startCount)")
            for t in 0..<T {
                inputs[b * T + t] = ids[start + t]
                targets[b * T + t] = ids[start + t + 1]
            }
        }
        return TextBatch(inputs: inputs, targets: targets, batchSize: starts.count, context: T)
    }

    /// Non-overlapping chunk starts 0, T, 2T, ... that cover the text once (the last
    /// N mod T characters fall off): for evaluating on a whole validation text.
    public var sequentialStarts: [Int] {
        Array(stride(from: 0, to: startCount, by: context))
    }
}
