// The week program end to end (--quick on an inline corpus: tests never read Datasets/): the
// lesson run, the inference tool on its checkpoint (--json, --interactive from lines of input),
// bad checkpoints and bad knobs as one clear line.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week09Sampling
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A play-shaped text of `lines` lines from a small word list (seeded).
func playText(lines: Int, seed: UInt64) -> String {
    let speakers = ["ROMEO", "JULIET", "NURSE", "KING"]
    let words = ["the", "love", "night", "and", "my", "lord", "sweet", "is", "not", "a", "fair", "day", "come", "thou", "art"]
    var rng = SplitMix64(seed: seed)
    var text = ""
    for _ in 0..<lines {
        text += speakers[rng.int(below: speakers.count)] + ":\n"
        let count = 3 + rng.int(below: 6)
        text += (0..<count).map { _ in words[rng.int(below: words.count)] }.joined(separator: " ") + ".\n\n"
    }
    return text
}

@Suite(.serialized) struct Week09RunTests {
    static func config(_ arguments: [String]) -> (Week09Config, Options) {
        let options = Options(program: "Week09Sampling", summary: "", arguments: ["Week09Sampling"] + arguments)
        let config = Week09Config(options)
        return (config, options)
    }

    @Test func quickLessonTrainsComparesAndTheToolSamplesItsCheckpoint() throws {
        let folder = temporaryFolder("run")
        let corpus = joinPath(folder, "corpus.txt")
        try writeTextFile(playText(lines: 900, seed: 7), to: corpus)
        let out = joinPath(folder, "out")
        let (config, options) = Self.config(["--quick", "--corpus", corpus, "--out", out, "--steps", "80", "--eval-every", "20"])
        #expect(options.parse() == .run)
        var lines: [String] = [], written = ""
        let result = try runWeek09(config, configJSON: options.config, readLine: { nil }, write: { written += $0 }) { lines.append($0) }

        // training with validation, perplexity and the whole split at the end
        let run = try #require(result.training)
        #expect(run.history.count == 4)   // steps 20, 40, 60, 80
        #expect(run.history.last!["val_loss"]! < run.history.first!["val_loss"]!)
        #expect(run.fullValidationLoss! < log(Double(result.model.vocabulary.size)))
        #expect(run.fullValidationTokens > 0 && lines.contains { $0.contains("whole validation split (\(run.fullValidationTokens) characters") })
        // the KV cache agrees with the full recompute
        #expect(result.cacheCheck?.identical == true)
        // the comparison: every setting measured; greedy is the most likely, T 1.5 the least
        #expect(result.comparison.count == week09SamplerGrid.count)
        let byName = Dictionary(uniqueKeysWithValues: result.comparison.map { ($0.name, $0) })
        #expect(byName["greedy"]!.meanLogLikelihood > byName["T 1.5"]!.meanLogLikelihood)
        #expect(lines.contains { $0.hasPrefix("setting") && $0.contains("distinct-2") })
        // the streamed sample: the prompt, then at most --max-tokens characters
        #expect(written.hasPrefix("ROMEO:"))
        #expect(result.generation!.generatedIDs.count == 60)
        for name in ["best.safetensors", "checkpoint.safetensors", "training.svg", "sampling.svg", "metrics.json"] {
            #expect(result.files.contains(joinPath(out, name)), "\(name)")
        }
        let metrics = try JSONValue.parse(readTextFile(joinPath(out, "metrics.json")))
        #expect(metrics["week"]?.stringValue == "Week09Sampling")
        #expect(metrics["final"]?["val_tokens"]?.intValue == run.fullValidationTokens)
        #expect(metrics["final"]?["sampling"]?["greedy"]?["distinct_2"] != nil)
        #expect(metrics["history"]?.arrayValue?.first?["val_perplexity"]?.doubleValue != nil)
        #expect(try readTextFile(joinPath(out, "training.svg")).contains("perplexity"))

        // a second lesson run in the same folder reuses the best checkpoint
        let (again, againOptions) = Self.config(["--quick", "--corpus", corpus, "--out", out, "--steps", "80", "--samples", "1"])
        let reused = try runWeek09(again, configJSON: againOptions.config, readLine: { nil }, write: { _ in }) { _ in }
        #expect(reused.training == nil && reused.reusedCheckpoint == joinPath(out, "best.safetensors"))

        // the inference tool: --checkpoint, --prompt, --max-tokens, --json (greedy, so reproducible)
        let json = joinPath(folder, "out.json")
        let (tool, toolOptions) = Self.config(["--checkpoint", joinPath(out, "best.safetensors"), "--prompt", "KING:\n",
                                               "--max-tokens", "20", "--temperature", "0", "--json", json, "--out", out])
        #expect(tool.mode == .prompt)
        var streamed = ""
        let answer = try runWeek09(tool, configJSON: toolOptions.config, readLine: { nil }, write: { streamed += $0 }) { _ in }
        let document = try JSONValue.parse(readTextFile(json))
        let promptIDs = document["prompt_ids"]?.arrayValue?.compactMap(\.intValue) ?? []
        let generatedIDs = document["generated_ids"]?.arrayValue?.compactMap(\.intValue) ?? []
        #expect(answer.model.vocabulary.decode(promptIDs) == "KING:\n")
        #expect(generatedIDs.count == 20 && document["text"]?.stringValue == answer.model.vocabulary.decode(generatedIDs))
        #expect(streamed == "KING:\n" + answer.model.vocabulary.decode(generatedIDs) + "\n")
        let lastLogits = document["last_logits"]?.arrayValue?.compactMap(\.doubleValue).map(Float.init) ?? []
        let expected = try answer.model.gpt.nextTokenLogits(after: promptIDs, state: answer.model.gpt.makeDecodingState(cached: false))
        #expect(lastLogits == expected)
        #expect(generatedIDs.first == expected.indices.max { expected[$0] < expected[$1] })

        // --interactive: prompts line by line until end of input, from any line source (a pipe)
        var input = ["ROMEO:", "", "NURSE:"].makeIterator()
        let (interactive, interactiveOptions) = Self.config(["--checkpoint", joinPath(out, "best.safetensors"), "--interactive",
                                                             "--max-tokens", "15", "--out", out])
        var output = "", notes: [String] = []
        let session = try runWeek09(interactive, configJSON: interactiveOptions.config, readLine: { input.next() },
                                    write: { output += $0 }) { notes.append($0) }
        #expect(session.promptsAnswered == 3)
        #expect(output.split(separator: "\n", omittingEmptySubsequences: false).count >= 4)
        #expect(notes.contains("(empty prompt: starting from a newline)"))

        // a prompt with a character the model never saw: one line naming it, as a bad flag
        let (bad, badOptions) = Self.config(["--checkpoint", joinPath(out, "best.safetensors"), "--prompt", "ROMEë", "--out", out])
        do {
            _ = try runWeek09(bad, configJSON: badOptions.config, readLine: { nil }, write: { _ in }) { _ in }
            Issue.record("a prompt outside the vocabulary was accepted")
        } catch let error as CommandLineError {   // a bad command line: the program exits with 2
            #expect(error.message.hasPrefix("--prompt:") && error.message.contains("U+00EB") && !error.message.contains("\n"))
        }
    }

    @Test func badKnobsAreOneLineErrors() {
        func outcome(_ arguments: [String]) -> Options.Outcome { Self.config(arguments).1.parse() }
        #expect(outcome([]) == .run)
        #expect(outcome(["--help"]) == .help)
        #expect(outcome(["--temperature", "0", "--top-k", "3", "--top-p", "0.9", "--min-p", "0"]) == .run)
        for arguments in [["--temperature", "-1"], ["--top-k", "0"], ["--top-k", "2.5"], ["--top-p", "0"], ["--top-p", "1.5"],
                          ["--min-p", "1"], ["--min-p", "-0.1"], ["--repetition-penalty", "0"], ["--max-tokens", "-3"],
                          ["--interactive", "--json", "x.json"], ["--tempreature", "1"]] {
            guard case .error(let message) = outcome(arguments) else { Issue.record("\(arguments) accepted"); continue }
            #expect(!message.isEmpty && !message.contains("\n"), "\(arguments): \(message)")
        }
        #expect(Self.config(["--stop", "\\n\\n"]).0.stop == "\n\n")
    }

    @Test func badCheckpointsAreOneClearLine() throws {
        let folder = temporaryFolder("bad")
        let vocabulary = Week09ExportTests.vocabulary
        let model = try tinyGPT(seed: 71)
        let good = joinPath(folder, "good.safetensors")
        try Checkpoint.save(model.parameterTensors(), kind: "gpt", config: week09CheckpointConfig(model: model.config, vocabulary: vocabulary),
                            step: 0, rngState: 0, to: good)
        let noFallback: () throws -> CharVocabulary = { throw WorkbookError("no corpus here") }
        let loaded = try loadWeek09Checkpoint(good, fallbackVocabulary: noFallback)
        #expect(loaded.vocabulary == vocabulary)
        #expect(try loaded.gpt.nextTokenLogits(after: [1, 2], state: loaded.gpt.makeDecodingState(cached: true))
                == model.nextTokenLogits(after: [1, 2], state: model.makeDecodingState(cached: true)))

        let bytes = try readFileBytes(good)
        var cases: [(String, String)] = []   // (file, a word the message must contain)
        let truncated = joinPath(folder, "truncated.safetensors")
        try writeFileAtomically(Array(bytes.prefix(bytes.count / 2)), to: truncated)
        cases.append((truncated, "truncated"))
        var flipped = bytes
        flipped[bytes.count - 10] ^= 0x40
        let corrupt = joinPath(folder, "corrupt.safetensors")
        try writeFileAtomically(flipped, to: corrupt)
        cases.append((corrupt, "corrupted"))
        let lstm = joinPath(folder, "lstm.safetensors")
        try Checkpoint.save([NamedTensor(name: "lstm.weight", shape: [2], data: [1, 2])], kind: "char-lstm", config: "{}",
                            step: 0, rngState: 0, to: lstm)
        cases.append((lstm, "char-lstm"))
        let otherVocabulary = joinPath(folder, "vocabulary.safetensors")
        try Checkpoint.save(model.parameterTensors(), kind: "gpt",
                            config: week09CheckpointConfig(model: model.config, vocabulary: CharVocabulary(text: "abcdefg")),
                            step: 0, rngState: 0, to: otherVocabulary)
        cases.append((otherVocabulary, "vocabulary"))
        // a week 8 checkpoint (no vocabulary inside) with a corpus of another vocabulary
        let week08 = joinPath(folder, "week08.safetensors")
        try Checkpoint.save(model.parameterTensors(), kind: "gpt", config: model.config.json.serialized(), step: 0, rngState: 0, to: week08)
        #expect(try loadWeek09Checkpoint(week08, fallbackVocabulary: { vocabulary }).vocabulary == vocabulary)
        var wrongSize = model.config
        wrongSize.width = 32
        let misshapen = joinPath(folder, "misshapen.safetensors")
        try Checkpoint.save(model.parameterTensors(), kind: "gpt", config: week09CheckpointConfig(model: wrongSize, vocabulary: vocabulary),
                            step: 0, rngState: 0, to: misshapen)
        cases.append((misshapen, "shape"))
        cases.append((joinPath(folder, "missing.safetensors"), "cannot read"))
        for (path, word) in cases {
            do {
                _ = try loadWeek09Checkpoint(path, fallbackVocabulary: noFallback)
                Issue.record("\(path) loaded")
            } catch {
                let message = "\(error)"
                #expect(message.contains(word) && !message.contains("\n"), "\(path): \(message)")
            }
        }
        do {
            _ = try loadWeek09Checkpoint(week08, fallbackVocabulary: { CharVocabulary(text: "xyz") })
            Issue.record("a week 8 checkpoint with another vocabulary loaded")
        } catch let error as WorkbookError {
            #expect(error.message.contains("another vocabulary") && !error.message.contains("\n"), "\(error.message)")
        }
    }
}
