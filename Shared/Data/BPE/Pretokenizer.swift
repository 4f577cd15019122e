// Pre-tokenization: before any merge is learned, the text is cut into chunks by a regular
// expression, and merges never cross a chunk boundary. GPT-2 and GPT-4 (cl100k) each have a
// pattern; this file matches them by hand, character class by character class, because a
// regex engine spends most of a tokenizer's time here. The tests check every chunk against
// NSRegularExpression running the real patterns. Reference: tiktoken's openai_public.py.
import SharedKernels
import SharedTools

/// The split pattern of a byte-level BPE tokenizer.
public enum SplitPattern: String, CaseIterable, Sendable {
    /// GPT-4's cl100k pattern (minbpe's default): case-insensitive contractions, at most three
    /// digits per chunk, a letter run may take one leading non-letter (" the", "(the").
    case gpt4
    /// GPT-2's pattern: case-sensitive contractions, an optional leading space before a run of
    /// letters, of digits or of other symbols.
    case gpt2

    /// The regular expression, exactly as tiktoken and Hugging Face tokenizers spell it.
    public var regex: String {
        switch self {
        case .gpt4:
            return #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
        case .gpt2:
            return #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        }
    }
}

/// What the patterns ask of a character: \p{L}, \p{N}, \s, or none of them ("other":
/// punctuation, symbols, emoji).
@usableFromInline enum CharacterClass: UInt8 {
    case letter, number, space, other
}

/// The class of an ASCII byte, by comparisons (the common case; no table, no decoding).
@usableFromInline @inline(__always)
func asciiClass(_ byte: UInt8) -> CharacterClass {
    if byte &- 0x30 < 10 { return .number }                   // 0-9
    if (byte | 0x20) &- 0x61 < 26 { return .letter }          // A-Z, a-z
    if byte == 0x20 || byte &- 0x09 < 5 { return .space }     // space, \t \n \v \f \r
    return .other
}

/// \s is Unicode's White_Space property (tab to carriage return, space, U+0085, U+00A0, ...);
/// \p{L} and \p{N} are the general categories L* and N*.
func characterClass(of scalar: Unicode.Scalar) -> CharacterClass {
    let properties = scalar.properties
    if properties.isWhitespace { return .space }
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
    case .decimalNumber, .letterNumber, .otherNumber: return .number
    default: return .other
    }
}

/// Splits UTF-8 text into the chunks its pattern matches, without a regex engine.
/// Each alternative of the pattern becomes a few lines below, tried in the pattern's order
/// (a regex takes the first alternative that matches at the current position).
public struct Pretokenizer: Sendable {
    public let pattern: SplitPattern

    public init(_ pattern: SplitPattern) { self.pattern = pattern }

    /// Calls `body(start, end)` for every chunk of `text` (valid UTF-8), in order: byte ranges
    /// start..<end that tile the whole text.
    @inlinable
    public func forEachChunk(in text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        var i = 0
        let n = text.count
        while i < n {
            let end = pattern == .gpt4 ? gpt4Chunk(text, from: i) : gpt2Chunk(text, from: i)
            body(i, end)
            i = end
        }
    }

    /// The chunks of a string, as strings (for the lesson and the tests).
    public func chunks(_ text: String) -> [String] {
        var bytes = Array(text.utf8)
        var out: [String] = []
        bytes.withUnsafeMutableBufferPointer { buffer in
            forEachChunk(in: UnsafeBufferPointer(buffer)) { start, end in
                out.append(String(decoding: buffer[start..<end], as: UTF8.self))
            }
        }
        return out
    }

    // MARK: The character under the cursor

    /// The class and byte length of the character starting at byte `i`.
    @usableFromInline @inline(__always)
    func character(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (kind: CharacterClass, length: Int) {
        let lead = text[i]
        if lead < 0x80 { return (asciiClass(lead), 1) }
        return decodeAndClassify(text, at: i)
    }

    /// The slow path for a multi-byte UTF-8 sequence. Bytes that do not start a well-formed
    /// sequence (only possible in `encode(bytes:)` of arbitrary bytes) count as one "other"
    /// character each, so chunks still tile the input and the round trip stays exact.
    @usableFromInline
    func decodeAndClassify(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (kind: CharacterClass, length: Int) {
        let lead = UInt32(text[i])
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        guard lead >= 0xC2 && lead <= 0xF4, i + length <= text.count else { return (.other, 1) }
        var value = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for k in 1..<length {
            let continuation = text[i + k]
            guard continuation & 0xC0 == 0x80 else { return (.other, 1) }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        // Overlong forms and surrogates are not characters either.
        let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= smallest, let scalar = Unicode.Scalar(value) else { return (.other, 1) }
        return (characterClass(of: scalar), length)
    }

    /// The end of the run of characters of class `kind` that starts at byte `i`.
    @usableFromInline @inline(__always)
    func endOfRun(_ text: UnsafeBufferPointer<UInt8>, from i: Int, _ kind: CharacterClass) -> Int {
        var j = i
        while j < text.count {
            let c = character(text, at: j)
            if c.kind != kind { break }
            j += c.length
        }
        return j
    }

    /// A whitespace run from `i` (which is whitespace): its end, the start of its last
    /// character, the end of its last \r or \n (nil if none), and its length in characters.
    @usableFromInline @inline(__always)
    func whitespaceRun(_ text: UnsafeBufferPointer<UInt8>, from i: Int)
        -> (end: Int, lastStart: Int, afterLastNewline: Int?, characters: Int) {
        var j = i, lastStart = i, afterLastNewline: Int? = nil, characters = 0
        while j < text.count {
            let c = character(text, at: j)
            if c.kind != .space { break }
            if text[j] == 0x0A || text[j] == 0x0D { afterLastNewline = j + 1 }
            lastStart = j
            j += c.length
            characters += 1
        }
        return (j, lastStart, afterLastNewline, characters)
    }

    /// The end of `'s`, `'d`, `'m`, `'t`, `'ll`, `'ve`, `'re` at `i`, or nil.
    /// ignoringCase: GPT-4's (?i:...) (ASCII letters only: the ICU oracle folds no other
    /// character onto these seven).
    @usableFromInline @inline(__always)
    func contractionEnd(_ text: UnsafeBufferPointer<UInt8>, from i: Int, ignoringCase: Bool) -> Int? {
        guard text[i] == UInt8(ascii: "'"), i + 1 < text.count else { return nil }
        let fold: (UInt8) -> UInt8 = { ignoringCase && $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let first = fold(text[i + 1])
        if first == UInt8(ascii: "s") || first == UInt8(ascii: "d") || first == UInt8(ascii: "m")
            || first == UInt8(ascii: "t") { return i + 2 }
        guard i + 2 < text.count else { return nil }
        let second = fold(text[i + 2])
        switch (first, second) {
        case (UInt8(ascii: "l"), UInt8(ascii: "l")), (UInt8(ascii: "v"), UInt8(ascii: "e")),
             (UInt8(ascii: "r"), UInt8(ascii: "e")): return i + 3
        default: return nil
        }
    }

    // MARK: GPT-4

    /// The end of the chunk starting at `i`, by the cl100k pattern:
    ///   '(?i:[sdmt]|ll|ve|re) | [^\r\n\p{L}\p{N}]?+\p{L}+ | \p{N}{1,3} |
    ///    ?[^\s\p{L}\p{N}]++[\r\n]* | \s*[\r\n] | \s+(?!\S) | \s+
    @usableFromInline
    func gpt4Chunk(_ text: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        let n = text.count
        if let end = contractionEnd(text, from: i, ignoringCase: true) { return end }
        let c = character(text, at: i)
        let next = i + c.length
        // [^\r\n\p{L}\p{N}]?+\p{L}+ : a letter run, with at most one leading character that
        // is not a letter, digit or line break (" the", "(the", "\tthe").
        if c.kind == .letter { return endOfRun(text, from: next, .letter) }
        let isLineBreak = text[i] == 0x0A || text[i] == 0x0D
        if c.kind != .number && !isLineBreak && next < n && character(text, at: next).kind == .letter {
            return endOfRun(text, from: next, .letter)
        }
        // \p{N}{1,3} : up to three digits.
        if c.kind == .number {
            var j = next, digits = 1
            while digits < 3 && j < n {
                let d = character(text, at: j)
                if d.kind != .number { break }
                j += d.length
                digits += 1
            }
            return j
        }
        //  ?[^\s\p{L}\p{N}]++[\r\n]* : symbols, maybe after one space, and the line breaks after them.
        var symbolsStart: Int? = nil
        if c.kind == .other { symbolsStart = i }
        else if text[i] == 0x20 && next < n && character(text, at: next).kind == .other { symbolsStart = next }
        if let start = symbolsStart {
            var j = endOfRun(text, from: start, .other)
            while j < n && (text[j] == 0x0A || text[j] == 0x0D) { j += 1 }
            return j
        }
        // Whitespace. \s*[\r\n] : up to and including the run's last line break.
        let run = whitespaceRun(text, from: i)
        if let end = run.afterLastNewline { return end }
        // \s+(?!\S) : the run but its last character, which then leads the next chunk (" the");
        // the whole run at the end of the text. \s+ : a single space before a non-space.
        return run.end == n || run.characters == 1 ? run.end : run.lastStart
    }

    // MARK: GPT-2

    /// The end of the chunk starting at `i`, by GPT-2's pattern:
    ///   '(?:[sdmt]|ll|ve|re) |  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ | \s+(?!\S) | \s+
    @usableFromInline
    func gpt2Chunk(_ text: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        let n = text.count
        if let end = contractionEnd(text, from: i, ignoringCase: false) { return end }
        let c = character(text, at: i)
        // " ?" then a run of one class: letters, digits or other symbols.
        if c.kind != .space { return endOfRun(text, from: i + c.length, c.kind) }
        if text[i] == 0x20 && i + 1 < n {
            let d = character(text, at: i + 1)
            if d.kind != .space { return endOfRun(text, from: i + 1 + d.length, d.kind) }
        }
        let run = whitespaceRun(text, from: i)
        return run.end == n || run.characters == 1 ? run.end : run.lastStart
    }
}
