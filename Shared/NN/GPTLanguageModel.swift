// The GPT as a `LanguageModel` (LanguageModel.swift): what the shared training loop, the sampler
// and checkpoints of weeks 9-10 need from it. The parameter layout is the arena's own (views in
// arena order, matrices first, matrices decaying); dropout draws from the model's own generator,
// which a checkpoint saves so a resumed run continues bit for bit.

/// A sequence being generated: the tokens so far. Each step reruns the model on the last T of
/// them (no KV cache yet: at T = 64 one forward on 64 tokens costs well under a millisecond).
public final class GPTDecodingState: DecodingState {
    public var tokens: [Int] = []
    public var tokenCount: Int { tokens.count }
}

extension GPT: LanguageModel {
    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int? { config.context }
    public var kind: String { "gpt" }

    public var parameterLayout: [ParameterTensorInfo] {
        views.map { ParameterTensorInfo(name: $0.name, shape: $0.shape, offset: $0.offset, decays: $0.offset < matrixCount) }
    }

    public func withParameterBuffers<R>(_ index: Int,
                                        _ body: (_ values: UnsafeMutableBufferPointer<Float>,
                                                 _ gradients: UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let view = views[index]
        return try body(UnsafeMutableBufferPointer(start: parameters + view.offset, count: view.count),
                        UnsafeMutableBufferPointer(start: gradients + view.offset, count: view.count))
    }

    public func loss(_ batch: TextBatch, training: Bool, carryState: Bool) throws -> Double {
        guard !carryState else { throw WorkbookError("the GPT carries no state from one batch to the next (no --carry)") }
        guard batch.blockSize >= 1, batch.blockSize <= config.context else {
            throw WorkbookError("the GPT reads at most \(config.context) tokens, the batch has T = \(batch.blockSize)")
        }
        guard batch.batchSize >= 1, batch.batchSize <= maxBatch else {
            throw WorkbookError("the GPT was sized for batches of at most \(maxBatch), got \(batch.batchSize)")
        }
        return forward(inputs: batch.inputs, targets: batch.targets, batch: batch.batchSize, length: batch.blockSize,
                       training: training, rng: &dropoutRNG) ?? .nan
    }

    public func makeDecodingState() throws -> any DecodingState { GPTDecodingState() }

    public func nextTokenLogits(after tokens: [Int], state: any DecodingState) throws -> [Float] {
        guard let state = state as? GPTDecodingState else {
            throw WorkbookError("this decoding state was not made by a GPT")
        }
        guard !tokens.isEmpty else { throw WorkbookError("nextTokenLogits needs at least one token") }
        guard tokens.allSatisfy({ $0 >= 0 && $0 < config.vocabularySize }) else {
            throw WorkbookError("a token id is outside 0..<\(config.vocabularySize)")
        }
        state.tokens += tokens
        let window = Array(state.tokens.suffix(config.context))
        forward(inputs: window, targets: nil, batch: 1, length: window.count, rng: &dropoutRNG)
        let V = config.vocabularySize
        return Array(UnsafeBufferPointer(start: logits + (window.count - 1) * V, count: V))
    }

    public func resumeState() -> (tensors: [NamedTensor], metadata: [String: String]) {
        ([], ["gpt_dropout_rng": String(dropoutRNG.state)])
    }

    public func restoreResumeState(tensors: [String: NamedTensor], metadata: [String: String]) throws {
        guard let text = metadata["gpt_dropout_rng"], let state = UInt64(text) else {
            throw WorkbookError("checkpoint lacks the GPT's dropout generator state (gpt_dropout_rng)")
        }
        dropoutRNG.state = state
    }
}
