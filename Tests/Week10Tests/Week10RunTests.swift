// The week program end to end (--quick on an inline corpus: tests never read Datasets/), and
// its command line.
import Foundation
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week10BPE
import TestSupport

@Suite struct Week10RunTests {
    /// Runs the built Week10BPE program.
    func program(_ arguments: [String]) throws -> ProgramRun { try runBuiltProgram("Week10BPE", arguments) }

    @Test func quickRunTrainsSavesAndReloads() throws {
        let folder = temporaryFolder("run")
        let corpus = joinPath(folder, "corpus.txt")
        try writeTextFile(seededText(words: 4000, seed: 31, vocabulary: englishWords + otherWords), to: corpus)
        let out = joinPath(folder, "out")
        let run = try program(["--quick", "--corpus", corpus, "--vocab-size=400", "--out", out])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("sample: ["))
        let metrics = try JSONValue.parse(readTextFile(joinPath(out, "metrics.json")))
        let final = try #require(metrics["final"])
        #expect(final["merges"]?.intValue == 144)
        #expect(final["vocab_size"]?.intValue == 401)   // + <|endoftext|>
        #expect(final["round_trip_exact"]?.boolValue == true)
        #expect((final["bytes_per_token"]?.doubleValue ?? 0) > 1.5)
        #expect(metrics["week"]?.stringValue == "Week10BPE")
        #expect(metrics["config"]?["vocab_size"]?.intValue == 400)
        let history = metrics["history"]?.arrayValue ?? []
        #expect(history.count == 144 / 16 + 1)
        #expect(history.last?["vocab_size"]?.intValue == 400)
        #expect(try readTextFile(joinPath(out, "bytes_per_token.svg")).contains("bytes per token"))
        #expect(FileManager.default.fileExists(atPath: joinPath(out, "tokenizer.tiktoken")))

        // --tokenizer loads the saved file instead of training, and encodes the same.
        let out2 = joinPath(folder, "out2")
        let reload = try program(["--corpus", corpus, "--quick", "--tokenizer", joinPath(out, "tokenizer.json"), "--out", out2])
        #expect(reload.status == 0, "\(reload.standardError)")
        #expect(reload.standardOutput.contains("loaded ") && !reload.standardOutput.contains("training:"))
        let reloaded = try JSONValue.parse(readTextFile(joinPath(out2, "metrics.json")))
        #expect(reloaded["final"]?["corpus_tokens"]?.intValue == final["corpus_tokens"]?.intValue)
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
            let run = try program(["--corpus", path, "--out", folder])
            #expect(run.status == 1 && run.standardError.contains(expected), "\(run.standardError)")
        }
    }
}
