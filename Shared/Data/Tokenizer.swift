// Tokenizers (weeks 5-10): text in, token ids 0..<vocabularySize out, and back. The character
// vocabulary of weeks 5-9 implements the protocol here; week 10's byte-level BPE implements it
// too, so every language-model week trains and samples through the same three calls.
// A tokenizer file is untrusted input: `load` checks every field and says in one line what is wrong.
// Reference: https://github.com/karpathy/minbpe (encode / decode / save / load).
import SharedKernels
import SharedTools

/// Turns text into token ids and back.
public protocol Tokenizer {
    /// V: every id `encode` returns is in 0..<V.
    var vocabularySize: Int { get }

    /// The ids of `text`. Throws one clear line naming what the vocabulary cannot encode
    /// (e.g. a prompt with a character the training text never contained).
    func encode(_ text: String) throws -> [Int]

    /// The text of `ids`, each in 0..<vocabularySize (a programming error otherwise).
    func decode(_ ids: [Int]) -> String

    /// Writes the tokenizer to `path` (atomically), so a model can be sampled later with the
    /// exact vocabulary it was trained with.
    func save(to path: String) throws

    /// Reads a file written by `save`. The file is untrusted: a truncated, corrupted or foreign
    /// file throws one clear line naming the file and the problem, never a crash.
    static func load(from path: String) throws -> Self
}

extension CharVocabulary: Tokenizer {
    /// Format tag and version of the file `save` writes.
    static let fileFormat = "workbook-char-vocabulary"
    static let fileVersion = 1
    /// A vocabulary file larger than this is refused before parsing (the largest possible
    /// vocabulary, every Unicode scalar, is under 10 MB of JSON).
    static let maximumFileBytes = 16 << 20

    public var vocabularySize: Int { size }

    /// JSON: {"format": "workbook-char-vocabulary", "version": 1, "characters": [10, 32, ...]},
    /// the characters as code points in id order (ascending).
    public func save(to path: String) throws {
        let document: JSONValue = [
            "format": .string(Self.fileFormat),
            "version": JSONValue(Self.fileVersion),
            "characters": JSONValue(characters.map { Int($0.value) }),
        ]
        try writeTextFile(document.serialized(pretty: false) + "\n", to: path)
    }

    public static func load(from path: String) throws -> CharVocabulary {
        func problem(_ message: String) -> WorkbookError { WorkbookError("vocabulary \(path): \(message)") }
        let bytes = try readFileBytes(path)
        guard bytes.count <= maximumFileBytes else {
            throw problem("\(bytes.count) bytes is far too large for a character vocabulary")
        }
        let document: JSONValue
        do { document = try JSONValue.parse(utf8: bytes) } catch {
            throw problem("not valid JSON (truncated or corrupted?): \(error)")
        }
        guard let object = document.objectValue, object["format"]?.stringValue == fileFormat else {
            throw problem("not a character vocabulary file (no \"format\": \"\(fileFormat)\")")
        }
        guard let version = object["version"]?.intValue, version >= 1 else { throw problem("no valid version") }
        guard version <= fileVersion else {
            throw problem("version \(version) was written by a newer workbook; this one reads up to version \(fileVersion)")
        }
        guard let list = object["characters"]?.arrayValue, !list.isEmpty else {
            throw problem("no characters (an empty vocabulary cannot encode anything)")
        }
        var characters: [Unicode.Scalar] = []
        characters.reserveCapacity(list.count)
        for (id, entry) in list.enumerated() {
            guard let code = entry.intValue, code >= 0, code <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(code)) else {
                throw problem("entry \(id) is not a Unicode code point: \(entry.serialized(pretty: false))")
            }
            guard characters.last.map({ $0.value < scalar.value }) ?? true else {
                throw problem("entry \(id) (U+\(String(code, radix: 16, uppercase: true))) is out of order or repeated; "
                              + "the characters must be in ascending code-point order")
            }
            characters.append(scalar)
        }
        return CharVocabulary(sortedCharacters: characters)
    }
}
