// Week 8: the whole GPT against finite differences at tiny configurations (every variant the
// week's experiments switch), and what the model promises: the tied head's shared gradient,
// the parameter layout, determinism, checkpoints that resume bit for bit.
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Shared

/// A tiny GPT and a batch for it: V 11, T 6, C 8, 2 layers, 2 heads, batch 2.
func tinyModel(_ change: (inout GPTConfig) -> Void = { _ in }, seed: UInt64 = 11) throws -> (GPT, [Int], [Int]) {
    var config = GPTConfig(vocabularySize: 11, context: 6, layers: 2, heads: 2, width: 8, bias: true)
    change(&config)
    var rng = SplitMix64(seed: seed)
    let model = try GPT(config: config, maxBatch: 2, rng: &rng)
    // biases and gains away from their 0 / 1 start, so a bug that ignores one shows
    for i in model.matrixCount..<model.parameterCount { model.parameters[i] += rng.normal(mean: 0, std: 0.3) }
    // larger weights than GPT-2's init, so every path carries gradient well above rounding noise
    for i in 0..<model.matrixCount { model.parameters[i] *= 10 }
    let inputs = (0..<12).map { _ in rng.int(below: 11) }, targets = (0..<12).map { _ in rng.int(below: 11) }
    return (model, inputs, targets)
}

/// Checks dLoss/dθ of the whole model on 6 sampled entries of every tensor.
func checkWholeModel(_ model: GPT, inputs: [Int], targets: [Int], training: Bool = false,
                     step: Float = 1e-2) -> GradientCheckResult {
    model.gradientCheck(inputs: inputs, targets: targets, length: 6, training: training, step: step)
}

@Suite struct Week08ModelTests {
    @Test func preNormTiedGELUModelMatchesNumericGradient() throws {
        let (model, inputs, targets) = try tinyModel()
        let result = checkWholeModel(model, inputs: inputs, targets: targets)
        #expect(result.passed, "\(result)")
    }

    @Test func postNormRMSSinusoidalUntiedModelMatchesNumericGradient() throws {
        let (model, inputs, targets) = try tinyModel {
            $0.preNorm = false; $0.norm = .rmsNorm; $0.positions = .sinusoidal; $0.tiedHead = false; $0.bias = false
        }
        let result = checkWholeModel(model, inputs: inputs, targets: targets)
        #expect(result.passed, "\(result)")
    }

    @Test func reluModelMatchesNumericGradient() throws {
        // a smaller step, so that no perturbation carries a hidden unit across ReLU's kink
        let (model, inputs, targets) = try tinyModel { $0.activation = .relu }
        let result = checkWholeModel(model, inputs: inputs, targets: targets, step: 1e-3)
        #expect(result.passed, "\(result)")
    }

    @Test func noPositionsAndDropoutModelMatchesNumericGradient() throws {
        let (model, inputs, targets) = try tinyModel { $0.positions = .none; $0.dropout = 0.2; $0.heads = 4 }
        let result = checkWholeModel(model, inputs: inputs, targets: targets, training: true)
        #expect(result.passed, "\(result)")
    }

    @Test func tiedHeadGathersBothGradients() throws {
        // With the head tied, wte's gradient = the head's part + the embedding's part: zeroing
        // the embedding's scatter (untied copy) must change it.
        let (tied, inputs, targets) = try tinyModel()
        var rng = SplitMix64(seed: 1)
        tied.zeroGradients()
        tied.forward(inputs: inputs, targets: targets, batch: 2, length: 6, rng: &rng)
        tied.backward()
        let (untied, _, _) = try tinyModel { $0.tiedHead = false }
        for view in tied.views { try untied.setTensor(view.name, tied.tensor(view.name)!) }
        try untied.setTensor("lm_head.weight", tied.tensor("wte.weight")!)
        untied.zeroGradients()
        untied.forward(inputs: inputs, targets: targets, batch: 2, length: 6, rng: &rng)
        untied.backward()
        let sum = zip(untied.tensor("wte.weight", gradient: true)!, untied.tensor("lm_head.weight", gradient: true)!).map(+)
        #expect(normRelativeError(tied.tensor("wte.weight", gradient: true)!, sum) < 1e-6)
        #expect(tied.view("lm_head.weight") == nil)
    }

    @Test func layoutPutsMatricesFirstWithNanoGPTNames() throws {
        var rng = SplitMix64(seed: 1)
        let model = try GPT(config: GPTConfig(vocabularySize: 65), maxBatch: 1, rng: &rng)
        // nanoGPT's CPU model: 804,096 parameters with the tied matrix counted once
        #expect(model.parameterCount == 804_096)
        #expect(model.views.first?.name == "wte.weight")
        #expect(model.views.allSatisfy { ($0.shape.count == 2) == ($0.offset < model.matrixCount) })
        #expect(model.view("h.3.mlp.c_proj.weight")?.shape == [128, 512])
        #expect(model.view("h.0.ln_1.bias") == nil)   // bias off: LayerNorm has a gain only
        #expect(throws: WorkbookError.self) { try GPTConfig(vocabularySize: 65, heads: 3).validate() }
    }

    @Test func trainingIsDeterministicAndLossFalls() throws {
        let text = Array(repeating: Array("abcabcabd hello world. "), count: 40).flatMap { $0 }
        let corpus = try TextCorpus(text: String(text), name: "toy")
        let (train, validation) = corpus.split()
        func run() throws -> [Double] {
            var rng = SplitMix64(seed: 3)
            let model = try GPT(config: GPTConfig(vocabularySize: corpus.vocabulary.size, context: 16, layers: 1,
                                                  heads: 2, width: 16), maxBatch: 4, rng: &rng)
            var training = GPTTrainingConfig()
            training.steps = 60; training.batchSize = 4; training.learningRate = 1e-2; training.warmupSteps = 5
            let trainer = try GPTTrainer(model: model, training: training, train: train, validation: validation, seed: 3)
            for _ in 0..<training.steps { trainer.trainStep() }
            return trainer.stepLosses
        }
        let first = try run(), second = try run()
        #expect(first == second)
        #expect(first.suffix(5).reduce(0, +) / 5 < 0.6 * first[0])
    }

    @Test func checkpointResumesBitExactly() throws {
        let text = Array(repeating: Array("to be or not to be, that is the question. "), count: 20).flatMap { $0 }
        let corpus = try TextCorpus(text: String(text), name: "toy")
        let (train, validation) = corpus.split()
        func makeTrainer() throws -> GPTTrainer {
            var rng = SplitMix64(seed: 4)
            let model = try GPT(config: GPTConfig(vocabularySize: corpus.vocabulary.size, context: 8, layers: 1,
                                                  heads: 2, width: 8, dropout: 0.1), maxBatch: 3, rng: &rng)
            var training = GPTTrainingConfig()
            training.steps = 12; training.batchSize = 3; training.warmupSteps = 2; training.evalBatches = 2
            return try GPTTrainer(model: model, training: training, train: train, validation: validation, seed: 4)
        }
        let straight = try makeTrainer()
        for step in 1...12 { straight.trainStep(); if step == 6 { straight.evaluate(elapsed: 0) } }
        let first = try makeTrainer()
        for _ in 1...6 { first.trainStep() }
        first.evaluate(elapsed: 0)
        let path = "/tmp/week08-resume-test-\(getpid()).safetensors"
        defer { unlink(path) }
        try first.save(to: path, elapsed: 1)
        let resumed = try makeTrainer()
        try resumed.resume(from: path)
        for _ in 7...12 { resumed.trainStep() }
        #expect(resumed.stepLosses == straight.stepLosses)
        #expect(resumed.step == 12)
        // a checkpoint of another shape is refused with one line
        var rng = SplitMix64(seed: 1)
        let other = try GPTTrainer(model: GPT(config: GPTConfig(vocabularySize: corpus.vocabulary.size, context: 8,
                                                                 layers: 2, heads: 2, width: 8), maxBatch: 12, rng: &rng),
                                   training: GPTTrainingConfig(), train: train, validation: validation, seed: 1)
        #expect(throws: WorkbookError.self) { try other.resume(from: path) }
    }
}
