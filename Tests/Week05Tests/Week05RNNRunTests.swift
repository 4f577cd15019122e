// The week 5 program in-process at --quick: it must learn (validation below the unigram
// entropy), write its outputs into the --out folder, and handle a bad prompt with a message.
import Foundation
import Testing
import Shared
@testable import Week05RNN

@Suite struct Week05RNNRunTests {
    /// A fresh folder under the system's temporary directory (tests never write into the repo).
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("week05-\(UUID().uuidString)").path
    }

    @Test func quickRunBeatsTheUnigramEntropyAndWritesItsOutputs() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try runWeek05(arguments: ["Week05RNN", "--quick", "--out", out, "--threads", "1"])
        #expect(result.run.divergence == nil)
        #expect(result.run.stepsDone == 300)
        // ln 75 ≈ 4.32 at the start; the unigram entropy of the corpus is ≈ 3.31 nats/char
        #expect(result.validationLoss < result.data.unigramEntropy)
        #expect(result.gradientCheck.allSatisfy { $0.passed })
        #expect(result.flowTrained.count == 32 && result.flowUntrained.count == 32)
        #expect(result.finalSample.unicodeScalars.count == 100)
        let metrics = try JSONValue.parse(String(contentsOfFile: out + "/metrics.json", encoding: .utf8))
        guard case .object(let document) = metrics, case .array(let history)? = document["history"],
              case .object(let final)? = document["final"] else {
            Issue.record("metrics.json has no history/final")
            return
        }
        #expect(history.count == 3)   // evaluations at steps 100, 200, 300
        #expect(final["val_bits_per_char"] != nil)
        for plot in ["loss.svg", "gradient_flow.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + plot))
        }
    }

    @Test func samplingAPromptWithUnknownCharactersThrowsAClearMessage() throws {
        var rng = SplitMix64(seed: 1)
        let vocabulary = CharVocabulary(text: "abc \n")
        let model = RecurrentLanguageModel(core: RNN(inputSize: vocabulary.size, hiddenSize: 4, rng: &rng), rng: &rng)
        #expect(throws: WorkbookError.self) {
            try sampleText(model, tokenizer: vocabulary, prompt: "abz", count: 5, sampling: SamplingSettings(), startToken: 0, rng: &rng)
        }
        do {
            _ = try sampleText(model, tokenizer: vocabulary, prompt: "abz", count: 5, sampling: SamplingSettings(), startToken: 0, rng: &rng)
        } catch let error as WorkbookError {
            #expect(error.message.contains("'z'"))
        }
        let text = try sampleText(model, tokenizer: vocabulary, prompt: "ab", count: 5, sampling: SamplingSettings(), startToken: 0, rng: &rng)
        #expect(text.hasPrefix("ab") && text.unicodeScalars.count == 7)
        // the program checks --prompt before training
        #expect(throws: CommandLineError.self) { try CharacterData.load(corpus: nil, prompt: "ROMEO: ☃") }
    }

    @Test func resumeContinuesTheRunExactly() throws {
        // 40 steps straight, against 20 steps and then --steps 40 --resume of the checkpoint
        // the first run wrote: the same losses, validation loss and final sample.
        let straightOut = temporaryFolder(), splitOut = temporaryFolder()
        defer {
            try? FileManager.default.removeItem(atPath: straightOut)
            try? FileManager.default.removeItem(atPath: splitOut)
        }
        let common = ["Week05RNN", "--quick", "--threads", "1", "--eval-every", "10", "--eval-windows", "20",
                      "--no-plots", "--optimizer", "adamw", "--weight-decay", "0.1"]
        let straight = try runWeek05(arguments: common + ["--steps", "40", "--out", straightOut])
        let first = try runWeek05(arguments: common + ["--steps", "20", "--out", splitOut])
        #expect(first.run.stepLosses == Array(straight.run.stepLosses.prefix(20)))
        let resumed = try runWeek05(arguments: common + ["--steps", "40", "--out", splitOut,
                                                         "--resume", splitOut + "/checkpoint.safetensors"])
        #expect(resumed.run.stepLosses == straight.run.stepLosses)
        #expect(resumed.run.history.map { $0["val_loss"] } == straight.run.history.map { $0["val_loss"] })
        #expect(resumed.validationLoss == straight.validationLoss)
        #expect(resumed.finalSample == straight.finalSample)
    }

    @Test func microBatchesThatDoNotDivideTheBatchAreACommandLineError() {
        for arguments in [["--quick", "--micro-batches", "3"], ["--carry", "--micro-batches", "2"]] {
            let options = Options(program: "Week05RNN", summary: "", arguments: ["Week05RNN"] + arguments)
            _ = Week05Config(options)
            guard case .error(let message) = options.parse() else {
                Issue.record("\(arguments) was accepted")
                continue
            }
            #expect(message.contains("--micro-batches") || message.contains("--carry"))
        }
    }

    @Test func carriedStateTrainingRunsOnConsecutiveChunks() throws {
        // --carry: each row walks its own lane of the text; the second batch continues the first.
        let ids = Array(0..<1000).map { $0 % 50 }
        var schedule = try ChunkSchedule(chunks: TextChunks(ids: ids, context: 10), batchSize: 4, consecutive: true)
        var rng = SplitMix64(seed: 2)
        let (first, reset1) = schedule.next(rng: &rng)
        let (second, reset2) = schedule.next(rng: &rng)
        #expect(reset1 && !reset2)
        for b in 0..<4 {
            // row b of the second batch starts right where row b of the first ended
            #expect(second.inputs[b * 10] == first.targets[b * 10 + 9])
        }
    }
}
