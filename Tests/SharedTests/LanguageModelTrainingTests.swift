// The shared language-model trainer (Shared/Training/LanguageModelTraining.swift) on small recurrent
// models: --resume continues bit for bit, micro-batches accumulate to the whole batch's step,
// the flat-vector Adam moves exactly as the per-tensor Adam, weight decay skips biases,
// divergence stops with one line and finite weights, and bad settings are refused.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct LanguageModelTrainingTests {
    /// A repeating text with some structure, as ids over a vocabulary of 11.
    static let text: [Int] = {
        var rng = SplitMix64(seed: 5)
        return (0..<3000).map { i in (i % 7 == 0) ? rng.int(below: 11) : (i * 3) % 11 }
    }()

    static func model(lstm: Bool = false, seed: UInt64 = 3) -> RecurrentLanguageModel {
        var rng = SplitMix64(seed: seed)
        let core: any RecurrentCore = lstm ? LSTM(inputSize: 11, hiddenSize: 8, rng: &rng) : RNN(inputSize: 11, hiddenSize: 8, rng: &rng)
        return RecurrentLanguageModel(core: core, rng: &rng)
    }

    static func config(steps: Int, carry: Bool = false, microBatches: Int = 1, checkpoint: String? = nil,
                       optimizer: AdamVariant = .adam, weightDecay: Float = 0) -> LanguageModelTrainingConfig {
        LanguageModelTrainingConfig(steps: steps, batchSize: 4, context: 6, learningRate: 1e-2, clip: 1,
                                    microBatches: microBatches, optimizer: optimizer,
                                    schedule: .warmupCosine(lr: 1e-2, minLR: 1e-3, warmupSteps: 3, totalSteps: steps),
                                    weightDecay: weightDecay, carryState: carry, evalEvery: 4, evalWindows: 10,
                                    sampleEvery: 5, sampleLength: 8, checkpointPath: checkpoint)
    }

    static func values(_ model: RecurrentLanguageModel) -> [[Float]] { model.parameters.map(\.value) }

    @Test(arguments: [(false, false), (true, false), (false, true)])
    func resumeIsBitExact(lstm: Bool, carry: Bool) throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let train = Array(Self.text[..<2500]), validation = Array(Self.text[2500...])
        // 12 steps in one go
        let straightModel = Self.model(lstm: lstm)
        let straight = try LanguageModelTrainer(model: straightModel, train: train, validation: validation,
                                                config: Self.config(steps: 12, carry: carry), rng: SplitMix64(seed: 9))
        let straightRun = try straight.train(label: "straight")
        // 6 steps, saved, then a fresh model and trainer resumed from the file for the other 6
        let path = folder + "/run.safetensors"
        let firstHalf = try LanguageModelTrainer(model: Self.model(lstm: lstm), train: train, validation: validation,
                                                 config: Self.config(steps: 12, carry: carry, checkpoint: path), rng: SplitMix64(seed: 9))
        try firstHalf.train(label: "first", stopAfter: 6)
        #expect(firstHalf.step == 6 && ToolsTestSupport.fileExists(path))
        let resumedModel = Self.model(lstm: lstm, seed: 77)   // other initial weights: all must come from the file
        let resumed = try LanguageModelTrainer(model: resumedModel, train: train, validation: validation,
                                               config: Self.config(steps: 12, carry: carry), rng: SplitMix64(seed: 1))
        try resumed.resume(from: path)
        let resumedRun = try resumed.train(label: "resumed")
        #expect(resumedRun.stepLosses == straightRun.stepLosses)
        #expect(resumedRun.gradientNorms == straightRun.gradientNorms)
        func withoutSeconds(_ history: [[String: Double]]) -> [[String: Double]] {
            history.map { row in var copy = row; copy["seconds"] = nil; return copy }
        }
        #expect(withoutSeconds(resumedRun.history) == withoutSeconds(straightRun.history))
        #expect(resumedRun.samples.map(\.text) == straightRun.samples.filter { $0.step > 6 }.map(\.text))
        #expect(Self.values(resumedModel) == Self.values(straightModel))
        #expect(resumed.rng.state == straight.rng.state)
        #expect(resumed.optimizer.firstMoment == straight.optimizer.firstMoment)
    }

    @Test func resumeRefusesOtherSettingsAndOtherModels() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/run.safetensors"
        let trainer = try LanguageModelTrainer(model: Self.model(), train: Self.text, validation: Self.text,
                                               config: Self.config(steps: 2, checkpoint: path), rng: SplitMix64(seed: 1))
        try trainer.train(label: "t")
        var other = Self.config(steps: 4)
        other.batchSize = 2
        let differentBatch = try LanguageModelTrainer(model: Self.model(), train: Self.text, validation: Self.text,
                                                      config: other, rng: SplitMix64(seed: 1))
        #expect(throws: WorkbookError.self) { try differentBatch.resume(from: path) }
        let lstm = try LanguageModelTrainer(model: Self.model(lstm: true), train: Self.text, validation: Self.text,
                                            config: Self.config(steps: 4), rng: SplitMix64(seed: 1))
        do {
            try lstm.resume(from: path)
            Issue.record("an RNN checkpoint was loaded into an LSTM")
        } catch let error as WorkbookError {
            #expect(error.message.contains("char-rnn") && !error.message.contains("\n"))
        }
    }

    @Test func twoMicroBatchesOfHalfTheRowsMakeTheSameStep() throws {
        // The same batch of B = 4 once whole and once as 2 micro-batches of 2 rows: the same
        // loss and gradient up to float rounding, and after one Adam step the same weights.
        let whole = Self.model(), split = Self.model()
        var rng = SplitMix64(seed: 4)
        let batch = try TextChunks(ids: Self.text, context: 6).randomBatch(batchSize: 4, rng: &rng)
        whole.zeroGradients()
        let loss = try whole.loss(batch, training: true, carryState: false)
        whole.backward(lossScale: 1)
        split.zeroGradients()
        var splitLoss = 0.0
        for rows in [0..<2, 2..<4] {
            splitLoss += try split.loss(batch.rows(rows), training: true, carryState: false) / 2
            split.backward(lossScale: 0.5)
        }
        #expect(abs(loss - splitLoss) < 1e-6)
        for (a, b) in zip(whole.parameters, split.parameters) {
            #expect(normRelativeError(a.grad, b.grad) < 1e-5, "\(a.name)")
        }
        // through the trainer: one step with microBatches 1 and 2 from the same RNG
        let one = Self.model(), two = Self.model()
        for (model, k) in [(one, 1), (two, 2)] {
            let trainer = try LanguageModelTrainer(model: model, train: Self.text, validation: Self.text,
                                                   config: Self.config(steps: 1, microBatches: k), rng: SplitMix64(seed: 8))
            _ = try trainer.trainStep()
        }
        for (a, b) in zip(one.parameters, two.parameters) {
            let largest = zip(a.value, b.value).map { abs($0 - $1) }.max() ?? 0
            #expect(largest < 1e-5, "\(a.name): weights differ by \(largest)")
        }
        // and the batch must split evenly
        #expect(throws: WorkbookError.self) {
            try LanguageModelTrainer(model: Self.model(), train: Self.text, validation: Self.text,
                                     config: Self.config(steps: 1, microBatches: 3), rng: SplitMix64(seed: 1))
        }
    }

    @Test func flatAdamMovesExactlyAsThePerTensorAdam() throws {
        // Twenty clipped steps through the trainer vs the per-tensor Adam + trainingStep of
        // RNNTraining.swift on the same batches: bit-identical losses and weights.
        let ours = Self.model(lstm: true), reference = Self.model(lstm: true)
        let config = LanguageModelTrainingConfig(steps: 20, batchSize: 4, context: 6, learningRate: 5e-3, clip: 0.5,
                                                 evalEvery: 100, evalWindows: 5)
        let trainer = try LanguageModelTrainer(model: ours, train: Self.text, validation: Self.text, config: config,
                                               rng: SplitMix64(seed: 2))
        let adam = Adam(reference.parameters, learningRate: 5e-3)
        let workspace = reference.makeWorkspace(batch: 4, steps: 6)
        let chunks = try TextChunks(ids: Self.text, context: 6)
        var rng = SplitMix64(seed: 2)
        for _ in 0..<20 {
            let step = try #require(try trainer.trainStep())
            let expected = trainingStep(reference, optimizer: adam, workspace: workspace,
                                        batch: chunks.randomBatch(batchSize: 4, rng: &rng), carry: false, clip: 0.5)
            #expect(step.loss == expected.loss && step.gradientNorm == expected.gradientNorm)
        }
        #expect(Self.values(ours) == Self.values(reference))
    }

    @Test func weightDecayLeavesBiasesAlone() throws {
        // With zero gradients Adam's own step is 0, so AdamW only shrinks: the matrices by
        // (1 − lr·λ), the biases not at all.
        let model = Self.model()
        let before = Self.values(model)
        let adamW = ParameterVectorAdam(layout: model.parameterLayout, variant: .adamw, learningRate: 0.1, weightDecay: 0.5)
        model.zeroGradients()
        adamW.step(model)
        for (parameter, old) in zip(model.parameters, before) {
            let expected = parameter.decays ? old.map { $0 * (1 - 0.1 * 0.5) } : old
            #expect(parameter.value == expected, "\(parameter.name)")
        }
        #expect(model.parameterLayout.filter { !$0.decays }.map(\.name) == ["rnn.bias", "head.bias"])
    }

    @Test func divergenceStopsWithOneLineAndFiniteWeights() throws {
        let model = Self.model()
        // a learning rate no model survives, and no clipping
        let config = LanguageModelTrainingConfig(steps: 50, batchSize: 4, context: 6, learningRate: 1e30, clip: nil,
                                                 evalEvery: 100, evalWindows: 5)
        let run = try LanguageModelTrainer(model: model, train: Self.text, validation: Self.text, config: config,
                                           rng: SplitMix64(seed: 3)).train(label: "diverge")
        let message = try #require(run.divergence)
        #expect(message.hasPrefix("diverged at step") && !message.contains("\n"))
        #expect(run.stepsDone < 50)
        #expect(run.stepLosses.allSatisfy(\.isFinite) && run.gradientNorms.allSatisfy(\.isFinite))
        #expect(model.parameters.allSatisfy { $0.value.allSatisfy(\.isFinite) })
    }

    @Test func badSettingsAreOneClearLine() {
        for (steps, batch, block, clip) in [(0, 4, 6, Float(1)), (5, 4, 6, Float(-1)), (5, 4, 5000, Float(1))] {
            do {
                _ = try LanguageModelTrainer(model: Self.model(), train: Self.text, validation: Self.text,
                                             config: LanguageModelTrainingConfig(steps: steps, batchSize: batch, context: block,
                                                                                 learningRate: 1e-3, clip: clip, evalEvery: 1),
                                             rng: SplitMix64(seed: 1))
                Issue.record("steps \(steps), block \(block), clip \(clip) was accepted")
            } catch let error as WorkbookError {
                #expect(!error.message.isEmpty && !error.message.contains("\n"))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func parameterLayoutTilesTheFlatVector() {
        let model = Self.model(lstm: true)
        var offset = 0
        for (info, parameter) in zip(model.parameterLayout, model.parameters) {
            #expect(info.offset == offset && info.count == parameter.count && info.shape == parameter.shape)
            offset += info.count
        }
        #expect(offset == model.parameterCount && model.parameterCount == model.parameters.scalarCount)
        #expect(model.kind == "char-lstm")
    }
}
