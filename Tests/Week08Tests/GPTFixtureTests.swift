// Week 8: the Swift GPT against PyTorch. Fixtures/make_gpt_fixture.py (torch only) wrote a tiny
// GPT's weights, a batch, and PyTorch's logits, loss, every parameter gradient and the losses
// of 10 AdamW steps; here we load the weights and must reproduce all of it (llm.c's test_gpt2).
import Foundation
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

/// A plain safetensors file (F32 tensors only), as PyTorch's side writes it: no workbook
/// metadata, so not `Checkpoint.load`. Every offset is checked against the file.
struct SafetensorsFile {
    var tensors: [String: (shape: [Int], data: [Float])] = [:]
    var metadata: [String: String] = [:]

    init(path: String) throws {
        let bytes = try readFileBytes(path)
        guard bytes.count >= 8 else { throw WorkbookError("\(path): too short") }
        var length = 0
        for i in 0..<8 { length |= Int(bytes[i]) << (8 * i) }
        guard length > 0, 8 + length <= bytes.count else { throw WorkbookError("\(path): bad header length") }
        guard case .object(let header) = try JSONValue.parse(utf8: Array(bytes[8..<(8 + length)])) else {
            throw WorkbookError("\(path): header is not an object")
        }
        let dataStart = 8 + length
        for (name, entry) in header {
            if name == "__metadata__" {
                for (key, value) in entry.objectValue ?? [:] { metadata[key] = value.stringValue }
                continue
            }
            guard entry["dtype"]?.stringValue == "F32", let shape = entry["shape"]?.arrayValue?.compactMap(\.intValue),
                  let offsets = entry["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2,
                  offsets[1] - offsets[0] == 4 * shape.reduce(1, *), dataStart + offsets[1] <= bytes.count
            else { throw WorkbookError("\(path): tensor '\(name)' has a bad entry") }
            var values = [Float](repeating: 0, count: shape.reduce(1, *))
            for i in 0..<values.count {
                let o = dataStart + offsets[0] + 4 * i
                values[i] = Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8
                                  | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
            tensors[name] = (shape, values)
        }
    }

    func values(_ name: String) throws -> [Float] {
        guard let tensor = tensors[name] else { throw WorkbookError("fixture has no tensor '\(name)'") }
        return tensor.data
    }
}

/// The committed fixture, or the file named by the environment variable GPT_FIXTURE (one made
/// at another size with make_gpt_fixture.py's FIXTURE_SIZE, checked by hand).
func fixturePath() -> String {
    ProcessInfo.processInfo.environment["GPT_FIXTURE"] ?? parentDirectory(of: #filePath) + "/Fixtures/gpt_fixture.safetensors"
}

@Suite struct Week08PyTorchFixtureTests {
    /// The fixture's GPT, loaded into ours, and its batch.
    func loadFixture() throws -> (GPT, SafetensorsFile, inputs: [Int], targets: [Int]) {
        let file = try SafetensorsFile(path: fixturePath())
        func number(_ key: String) throws -> Int {
            guard let value = file.metadata[key].flatMap(Int.init) else { throw WorkbookError("fixture metadata lacks \(key)") }
            return value
        }
        let config = GPTConfig(vocabularySize: try number("vocab_size"), context: try number("context"),
                               layers: try number("layers"), heads: try number("heads"), width: try number("width"),
                               bias: true, tiedHead: true)
        var rng = SplitMix64(seed: 0)
        let model = try GPT(config: config, maxBatch: try number("batch"), rng: &rng)
        for view in model.views { try model.setTensor(view.name, try file.values(view.name)) }
        #expect(Set(file.tensors.keys.filter { $0.contains(".") && !$0.hasPrefix("grad.") })
                == Set(model.views.map(\.name)))
        return (model, file, try file.values("inputs").map { Int($0) }, try file.values("targets").map { Int($0) })
    }

    @Test func logitsLossAndEveryGradientMatchPyTorch() throws {
        let (model, file, inputs, targets) = try loadFixture()
        let B = model.maxBatch, T = model.config.context, V = model.config.vocabularySize
        var rng = SplitMix64(seed: 0)
        model.zeroGradients()
        let loss = model.forward(inputs: inputs, targets: targets, batch: B, length: T, rng: &rng)!
        let logits = Array(UnsafeBufferPointer(start: model.logits, count: B * T * V))
        #expect(normRelativeError(logits, try file.values("logits")) < 1e-4)
        #expect(abs(loss - Double(try file.values("loss")[0])) < 1e-4 * abs(loss))
        model.backward()
        for view in model.views {
            let error = normRelativeError(model.tensor(view.name, gradient: true)!, try file.values("grad." + view.name))
            #expect(error < 1e-4, "gradient of \(view.name): relative error \(error)")
        }
    }

    @Test func tenAdamWStepsMatchPyTorch() throws {
        let (model, file, inputs, targets) = try loadFixture()
        let expected = try file.values("adamw_losses")
        func number(_ key: String) -> Float { Float(file.metadata[key].flatMap(Double.init) ?? .nan) }
        let T = model.config.context, lr = number("lr")
        // the fixture's loop: AdamW at a constant rate, betas (0.9, beta2), clipping, decay on matrices
        let training = LanguageModelTrainingConfig(
            steps: expected.count, batchSize: model.maxBatch, context: T, learningRate: lr, clip: number("clip"),
            optimizer: .adamw, schedule: .constant(lr: lr), beta1: 0.9, beta2: number("beta2"), eps: 1e-8,
            weightDecay: number("weight_decay"), evalEvery: 1_000, evalBatch: model.maxBatch)
        let filler = Array(repeating: 0, count: T + 1)
        let trainer = try LanguageModelTrainer(model: model, train: filler, validation: filler, config: training,
                                               rng: SplitMix64(seed: 0))
        let batch = TextBatch(inputs: inputs, targets: targets, batchSize: model.maxBatch, context: T)
        for step in 0..<expected.count {
            let loss = try #require(try trainer.trainStep(on: batch)).loss
            #expect(abs(loss - Double(expected[step])) < 1e-4, "AdamW step \(step): \(loss) vs PyTorch \(expected[step])")
        }
    }
}

/// A whole PyTorch training run to replay, made by hand with Fixtures/replay_gpt_training.py
/// and named by the environment variable GPT_REPLAY; without it the test below does not run.
let replayPath = ProcessInfo.processInfo.environment["GPT_REPLAY"]

@Suite struct Week08PyTorchReplayTests {
    /// From PyTorch's initial weights, on PyTorch's batches and schedule, our trainer must give
    /// the same first losses (to 1e-3; float rounding then makes the two runs part ways, as
    /// two PyTorch runs on different hardware would) and the same loss at the end of the run:
    /// the mean of the last tenth of the steps within 0.05.
    @Test(.enabled(if: replayPath != nil)) func replayedTrainingTracksPyTorch() throws {
        let file = try SafetensorsFile(path: replayPath!)
        func number(_ key: String) throws -> Double {
            guard let value = file.metadata[key].flatMap(Double.init) else { throw WorkbookError("replay metadata lacks \(key)") }
            return value
        }
        let B = Int(try number("batch")), T = Int(try number("context"))
        let config = GPTConfig(vocabularySize: Int(try number("vocab_size")), context: T, layers: Int(try number("layers")),
                               heads: Int(try number("heads")), width: Int(try number("width")), bias: false, tiedHead: true)
        var rng = SplitMix64(seed: 0)
        let model = try GPT(config: config, maxBatch: B, rng: &rng)
        for view in model.views { try model.setTensor(view.name, try file.values(view.name)) }
        let expected = try file.values("train_losses")
        let steps = expected.count, lr = Float(try number("lr"))
        let schedule = LearningRateSchedule.nanoGPT(lr: lr, minLR: Float(try number("min_lr")),
                                                    warmupSteps: Int(try number("warmup")), decaySteps: steps)
        let training = LanguageModelTrainingConfig(
            steps: steps, batchSize: B, context: T, learningRate: lr, clip: 1, optimizer: .adamw, schedule: schedule,
            beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, evalEvery: steps + 1, evalBatch: B)
        let filler = Array(repeating: 0, count: T + 1)
        let trainer = try LanguageModelTrainer(model: model, train: filler, validation: filler, config: training,
                                               rng: SplitMix64(seed: 0))
        let inputs = try file.values("train_inputs").map { Int($0) }, targets = try file.values("train_targets").map { Int($0) }
        var losses: [Double] = []
        for step in 0..<steps {
            let rows = (step * B * T)..<((step + 1) * B * T)
            let batch = TextBatch(inputs: Array(inputs[rows]), targets: Array(targets[rows]), batchSize: B, context: T)
            losses.append(try #require(try trainer.trainStep(on: batch)).loss)
        }
        for step in 0..<min(5, steps) {
            #expect(abs(losses[step] - Double(expected[step])) < 1e-3, "step \(step): \(losses[step]) vs PyTorch \(expected[step])")
        }
        let tail = max(1, steps / 10)
        let ours = losses.suffix(tail).reduce(0, +) / Double(tail)
        let theirs = expected.suffix(tail).map(Double.init).reduce(0, +) / Double(tail)
        #expect(abs(ours - theirs) < 0.05, "mean loss of the last \(tail) steps: ours \(ours), PyTorch \(theirs)")
    }
}
