// The GPT as a `LanguageModel` (LanguageModel.swift): what the shared training loop, the sampler
// and checkpoints of weeks 9-10 need from it. The parameter layout is the arena's own (views in
// arena order, matrices first, matrices decaying); dropout draws from the model's own generator,
// which a checkpoint saves so a resumed run continues bit for bit.
import SharedKernels
import SharedTools
import SharedData

/// A sequence being generated: the tokens so far and, unless made without one, the key/value
/// cache of the last ≤ T of them (GPTKVCache.swift).
///
/// The context policy is nanoGPT's: the logits of the next token are those of the model run on
/// the last T tokens (`idx[:, -block_size:]`), positions 0 ..< T. While the sequence fits, each
/// step appends one row to the cache. Once it has T tokens, the next token shifts the window by
/// one, which changes every cached row's position (and so every key and value after block 0):
/// the cache is then recomputed from the last T tokens in one prefill pass. Past the context a
/// step therefore costs what the uncached path costs; below it, one row instead of t.
public final class GPTDecodingState: DecodingState {
    public private(set) var tokens: [Int] = []
    public var tokenCount: Int { tokens.count }
    /// nil: every step reruns the model on the whole window (the reference path).
    public let cache: GPTKVCache?
    /// How many times the window overflowed and the cache was recomputed from the last T tokens.
    public private(set) var recomputations = 0

    init(cache: GPTKVCache?) { self.cache = cache }

    func append(_ new: [Int]) { tokens += new }
    func noteRecomputation() { recomputations += 1 }
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
        guard batch.context >= 1, batch.context <= config.context else {
            throw WorkbookError("the GPT reads at most \(config.context) tokens, the batch has T = \(batch.context)")
        }
        guard batch.batchSize >= 1, batch.batchSize <= maxBatch else {
            throw WorkbookError("the GPT was sized for batches of at most \(maxBatch), got \(batch.batchSize)")
        }
        return forward(inputs: batch.inputs, targets: batch.targets, batch: batch.batchSize, length: batch.context,
                       training: training, rng: &dropoutRNG) ?? .nan
    }

    public func makeDecodingState() throws -> any DecodingState { GPTDecodingState(cache: makeKVCache()) }

    /// A decoding state with (the default) or without a key/value cache; without one every step
    /// reruns `forward` on the whole window (for checking the cache and for `Bench generate`).
    public func makeDecodingState(cached: Bool) -> GPTDecodingState {
        GPTDecodingState(cache: cached ? makeKVCache() : nil)
    }

    public func nextTokenLogits(after tokens: [Int], state: any DecodingState) throws -> [Float] {
        guard let state = state as? GPTDecodingState else {
            throw WorkbookError("this decoding state was not made by a GPT")
        }
        guard !tokens.isEmpty else { throw WorkbookError("nextTokenLogits needs at least one token") }
        guard tokens.allSatisfy({ $0 >= 0 && $0 < config.vocabularySize }) else {
            throw WorkbookError("a token id is outside 0..<\(config.vocabularySize)")
        }
        state.append(tokens)
        let T = config.context
        guard let cache = state.cache else {
            // the reference: the whole window of the last ≤ T tokens, every step
            let window = Array(state.tokens.suffix(T))
            forward(inputs: window, targets: nil, batch: 1, length: window.count, rng: &dropoutRNG)
            let V = config.vocabularySize
            return Array(UnsafeBufferPointer(start: logits + (window.count - 1) * V, count: V))
        }
        if cache.length + tokens.count <= T && cache.length == state.tokens.count - tokens.count {
            return decode(tokens, into: cache)       // the new rows fit: append them
        }
        // the window moved (or a prompt longer than T came in): crop to the last T, prefill again
        if cache.length > 0 { state.noteRecomputation() }
        cache.reset()
        return decode(Array(state.tokens.suffix(T)), into: cache)
    }

    /// The dropout generator, and the architecture: RMSNorm and LayerNorm, Pre-LN and Post-LN,
    /// GELU and ReLU have tensors of the same shapes, so the shapes alone cannot tell a
    /// checkpoint of another model from one of this model.
    public func resumeState() -> (tensors: [NamedTensor], metadata: [String: String]) {
        ([], ["gpt_dropout_rng": String(dropoutRNG.state), "gpt_config": config.json.serialized()])
    }

    public func restoreResumeState(tensors: [String: NamedTensor], metadata: [String: String]) throws {
        if let text = metadata["gpt_config"] {
            let saved = try GPTConfig(json: try JSONValue.parse(text))
            guard saved == config else {
                throw CheckpointMismatch("holds a GPT with \(text), this run builds \(config.json.serialized()): "
                                         + "give the model flags it was trained with")
            }
        }
        guard let text = metadata["gpt_dropout_rng"], let state = UInt64(text) else {
            throw CheckpointMismatch("lacks the GPT's dropout generator state (gpt_dropout_rng)")
        }
        dropoutRNG.state = state
    }
}
