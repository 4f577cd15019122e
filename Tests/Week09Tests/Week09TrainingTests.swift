// Early stopping in the shared trainer (Shared/Training/LanguageModelTraining.swift) on a run that
// overfits: it stops, restores the weights of the best validation loss (the ones in the best
// checkpoint), and evaluates the whole validation split; perplexity is e^loss in the history.
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

/// A fresh folder under /tmp.
func temporaryFolder(_ label: String) -> String {
    var template = Array("/tmp/week09-\(label)-XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(created != nil, "mkdtemp failed")
    return String(cString: created!)
}

@Suite struct Week09TrainingTests {
    @Test func earlyStoppingRestoresTheBestValidationCheckpointOfARunThatOverfits() throws {
        // 80 uniformly random tokens over 6 symbols to train on, 480 others to validate on: nothing
        // generalises (the best validation loss is ln 6 = 1.79), so a model that memorises the
        // training tokens gets worse on validation as it trains.
        var rng = SplitMix64(seed: 1)
        let train = (0..<80).map { _ in rng.int(below: 6) }, validation = (0..<480).map { _ in rng.int(below: 6) }
        var init_ = SplitMix64(seed: 2)
        let model = try GPT(config: GPTConfig(vocabularySize: 6, context: 8, layers: 2, heads: 2, width: 48), maxBatch: 16, rng: &init_)
        let folder = temporaryFolder("early")
        let best = joinPath(folder, "best.safetensors")
        let config = LanguageModelTrainingConfig(
            steps: 600, batchSize: 16, context: 8, learningRate: 3e-3, clip: 1, optimizer: .adamw, evalEvery: 10,
            evalBatch: 16, checkpointPath: joinPath(folder, "last.safetensors"), earlyStoppingPatience: 6,
            bestCheckpointPath: best, evaluateWholeValidationAtEnd: true)
        let trainer = try LanguageModelTrainer(model: model, train: train, validation: validation, config: config, rng: SplitMix64(seed: 3))
        var lines: [String] = []
        let run = try trainer.train(label: "overfit") { lines.append($0) }

        // it stopped early, 6 evaluations after its best, before the 600 steps
        #expect(run.earlyStop != nil, "ran all \(run.stepsDone) steps; validation: \(run.history.map { $0["val_loss"]! })")
        #expect(run.stepsDone < 600 && run.stepsDone == run.bestStep + 6 * 10)
        let validationLosses = run.history.map { $0["val_loss"]! }
        #expect(validationLosses.last! > run.bestValidationLoss + 0.02, "it overfitted: \(validationLosses)")
        #expect(run.history.map { $0["train_loss"]! }.last! < validationLosses.last! - 0.2)
        #expect(run.bestValidationLoss == validationLosses.min()!)
        // the model holds the best weights again, the very ones in the best checkpoint
        #expect(run.restoredStep == run.bestStep)
        #expect(lines.contains { $0.contains("restored the weights of step \(run.bestStep)") })
        #expect(try model.evaluate(ids: validation, context: 8, batch: 16) == run.bestValidationLoss)
        let saved = try TrainingCheckpoint.load(from: best, expectingKind: "gpt")
        #expect(saved.step == run.bestStep)
        for tensor in saved.parameters { #expect(model.tensor(tensor.name) == tensor.data, "\(tensor.name)") }
        // the whole validation split at the end: here the same windows as during training
        #expect(run.fullValidationLoss == run.bestValidationLoss)
        #expect(run.fullValidationTokens == (480 - 8 + 7) / 8 * 8)
        // perplexity and bits per character in every row
        for row in run.history {
            #expect(abs(row["val_perplexity"]! - exp(row["val_loss"]!)) < 1e-9)
            #expect(abs(row["val_bits_per_char"]! - row["val_loss"]! / natsPerBit) < 1e-9)
        }
    }

    @Test func withoutPatienceTheTrainerRunsAllItsStepsAsBefore() throws {
        var rng = SplitMix64(seed: 4)
        let text = (0..<300).map { _ in rng.int(below: 5) }
        func train(_ config: LanguageModelTrainingConfig) throws -> (LanguageModelTrainingRun, [Float]) {
            var init_ = SplitMix64(seed: 5)
            let model = try GPT(config: GPTConfig(vocabularySize: 5, context: 6, layers: 1, heads: 1, width: 8), maxBatch: 4, rng: &init_)
            let trainer = try LanguageModelTrainer(model: model, train: text, validation: text, config: config, rng: SplitMix64(seed: 6))
            let run = try trainer.train(label: "plain")
            return (run, Array(UnsafeBufferPointer(start: model.parameters, count: model.parameterCount)))
        }
        let plain = LanguageModelTrainingConfig(steps: 30, batchSize: 4, context: 6, learningRate: 1e-2, clip: 1, evalEvery: 10, evalBatch: 4)
        let (run, weights) = try train(plain)
        #expect(run.stepsDone == 30 && run.earlyStop == nil && run.fullValidationLoss == nil && run.restoredStep == 30)
        // keeping the best without patience changes no step, only (maybe) the weights at the end
        var keeping = plain
        keeping.keepBest = true
        let (kept, keptWeights) = try train(keeping)
        #expect(kept.stepLosses == run.stepLosses)
        #expect(kept.restoredStep == kept.bestStep)
        if kept.bestStep == 30 { #expect(keptWeights == weights) }
        #expect(throws: WorkbookError.self) {
            var bad = plain
            bad.earlyStoppingPatience = 0
            _ = try train(bad)
        }
    }
}
