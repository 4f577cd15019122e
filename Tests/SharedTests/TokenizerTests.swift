// The Tokenizer protocol's character vocabulary (Shared/Data/Tokenizer.swift) and the text data
// of Shared/Data/TextData.swift: round trips, one clear error for text it cannot encode, a saved
// vocabulary read back equal, untrusted files refused with one line, and the measures.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct TokenizerTests {
    @Test func charVocabularyRoundTripsAndNamesWhatItCannotEncode() throws {
        let vocabulary = CharVocabulary(text: "hello, wörld 🙂\n")
        let tokenizer: any Tokenizer = vocabulary
        for text in ["", "h", "hello", "wörld 🙂\n"] {
            #expect(tokenizer.decode(try tokenizer.encode(text)) == text)
        }
        #expect(tokenizer.vocabularySize == vocabulary.characters.count)
        do {
            _ = try tokenizer.encode("hex")
            Issue.record("'x' was encoded")
        } catch let error as WorkbookError {
            #expect(error.message.contains("'x'") && !error.message.contains("\n"))
        }
    }

    @Test func savedVocabularyLoadsBackEqual() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let vocabulary = CharVocabulary(text: "The quick brown fox, é, 🙂\r\n\t")
        try vocabulary.save(to: folder + "/vocab.json")
        let loaded = try CharVocabulary.load(from: folder + "/vocab.json")
        #expect(loaded == vocabulary)
        #expect(try loaded.encode("quick 🙂") == vocabulary.encode("quick 🙂"))
    }

    @Test func untrustedVocabularyFilesAreRefusedWithOneLine() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let good = #"{"format":"workbook-char-vocabulary","version":1,"characters":[10,32,97]}"#
        let bad = [
            "", "{", "[1,2]", String(good.dropLast(5)),
            #"{"format":"something-else","version":1,"characters":[10]}"#,
            #"{"format":"workbook-char-vocabulary","version":2,"characters":[10]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":[]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":[97,32]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":[32,32]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":[55296]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":[-1]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":[1.5]}"#,
            #"{"format":"workbook-char-vocabulary","version":1,"characters":["a"]}"#,
        ]
        let path = folder + "/vocab.json"
        ToolsTestSupport.writeBytes(Array(good.utf8), to: path)
        #expect(try CharVocabulary.load(from: path).size == 3)
        for text in bad {
            ToolsTestSupport.writeBytes(Array(text.utf8), to: path)
            do {
                _ = try CharVocabulary.load(from: path)
                Issue.record("accepted: \(text)")
            } catch let error as WorkbookError {
                #expect(error.message.hasPrefix("vocabulary \(path)") || error.message.hasPrefix("cannot read"), "\(error)")
                #expect(!error.message.contains("\n"))
            }
        }
        #expect(throws: WorkbookError.self) { try CharVocabulary.load(from: folder + "/missing.json") }
    }

    @Test func unigramEntropyAndBitsPerCharacter() throws {
        // two equally likely symbols: ln 2 nats = 1 bit; one symbol: 0
        #expect(abs(unigramEntropy([0, 1, 0, 1], vocabularySize: 3) - natsPerBit) < 1e-12)
        #expect(unigramEntropy([2, 2, 2], vocabularySize: 3) == 0)
        #expect(abs(bitsPerCharacter(natsPerToken: natsPerBit) - 1) < 1e-12)
        #expect(abs(bitsPerCharacter(natsPerToken: 3 * natsPerBit, charactersPerToken: 3) - 1) < 1e-12)
    }

    @Test func validationSliceAndMicroBatchRows() throws {
        let ids = Array(0..<100)
        #expect(try validationSlice(ids, context: 10, windows: 3) == Array(0...30))
        #expect(try validationSlice(ids, context: 10, windows: nil) == ids)
        #expect(throws: WorkbookError.self) { try validationSlice([1, 2], context: 5, windows: nil) }
        let batch = try TextChunks(ids: ids, context: 4).batch(starts: [0, 10, 20])
        let rows = batch.rows(1..<3)
        #expect(rows.inputs == [10, 11, 12, 13, 20, 21, 22, 23] && rows.targets == [11, 12, 13, 14, 21, 22, 23, 24])
        #expect(rows.batchSize == 2 && rows.context == 4)
    }
}
