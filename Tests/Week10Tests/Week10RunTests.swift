// The week program end to end (--quick on an inline corpus: tests never read Datasets/), and
// its command line.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week10BPE

@Suite struct Week10RunTests {
    @Test func quickRunTrainsSavesAndReloads() throws {
        let folder = temporaryFolder("run")
        let corpus = joinPath(folder, "corpus.txt")
        try writeTextFile(seededText(words: 4000, seed: 31, vocabulary: englishWords + otherWords), to: corpus)
        let out = joinPath(folder, "out")
        let options = Options(program: "Week10BPE", summary: "", arguments: ["Week10BPE", "--quick", "--corpus", corpus,
                                                                              "--vocab-size=400", "--out", out])
        let config = Week10Config(options)
        #expect(options.parse() == .run)
        var lines: [String] = []
        let result = try runWeek10(config, configJSON: options.config) { lines.append($0) }
        #expect(result.training?.merges.count == 144)
        #expect(result.tokenizer.vocabularySize == 401)   // + <|endoftext|>
        #expect(result.roundTripExact)
        #expect(result.bytesPerToken > 1.5)
        #expect(lines.contains { $0.contains("sample: [") })
        for name in ["tokenizer.json", "tokenizer.tiktoken", "metrics.json", "bytes_per_token.svg"] {
            #expect(result.files.contains(joinPath(out, name)), "\(name)")
        }
        let metrics = try JSONValue.parse(readTextFile(joinPath(out, "metrics.json")))
        #expect(metrics["week"]?.stringValue == "Week10BPE")
        #expect(metrics["config"]?["vocab_size"]?.intValue == 400)
        #expect(metrics["final"]?["round_trip_exact"]?.boolValue == true)
        let history = metrics["history"]?.arrayValue ?? []
        #expect(history.count == 144 / 16 + 1)
        #expect(history.last?["vocab_size"]?.intValue == 400)
        #expect(try readTextFile(joinPath(out, "bytes_per_token.svg")).contains("bytes per token"))

        // --tokenizer loads the saved file instead of training, and encodes the same.
        let reload = Options(program: "Week10BPE", summary: "", arguments: ["Week10BPE", "--corpus", corpus, "--quick",
                                                                             "--tokenizer", joinPath(out, "tokenizer.json"),
                                                                             "--out", joinPath(folder, "out2")])
        let reloaded = try runWeek10(Week10Config(reload), configJSON: reload.config) { _ in }
        #expect(reloaded.training == nil)
        #expect(reloaded.corpusTokens == result.corpusTokens)
    }

    @Test func badCommandLinesAreErrors() {
        func outcome(_ arguments: [String]) -> Options.Outcome {
            let options = Options(program: "Week10BPE", summary: "", arguments: ["Week10BPE"] + arguments)
            _ = Week10Config(options)
            return options.parse()
        }
        #expect(outcome([]) == .run)
        #expect(outcome(["--help"]) == .help)
        guard case .error(let low) = outcome(["--vocab-size", "100"]) else { Issue.record("vocab 100 accepted"); return }
        #expect(low.contains("below 256"))
        guard case .error(let pattern) = outcome(["--pattern", "gpt3"]) else { Issue.record("gpt3 accepted"); return }
        #expect(pattern.contains("gpt4"))
        guard case .error = outcome(["--vocab-sise", "300"]) else { Issue.record("typo accepted"); return }
    }

    @Test func missingOrEmptyCorpusIsOneClearError() throws {
        let folder = temporaryFolder("corpus")
        let empty = joinPath(folder, "empty.txt")
        try writeTextFile("", to: empty)
        for (path, expected) in [(joinPath(folder, "missing.txt"), "no such file"), (empty, "empty")] {
            let options = Options(program: "Week10BPE", summary: "", arguments: ["Week10BPE", "--corpus", path, "--out", folder])
            do {
                _ = try runWeek10(Week10Config(options), configJSON: options.config) { _ in }
                Issue.record("\(path) was accepted")
            } catch let error as WorkbookError {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }
}
