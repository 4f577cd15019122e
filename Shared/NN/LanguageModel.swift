// What every language model of the workbook offers the shared training loop
// (LanguageModelTraining.swift), the sampler (Sampling.swift) and checkpoints: the
// character RNN and LSTM of weeks 5-6 and the GPT of weeks 8-10 all conform.
// The shape follows llm.c's gpt2_forward / gpt2_backward: a forward on a (B, T) batch of token
// ids that keeps what the backward needs, a backward that adds into the gradients, and the
// parameters as named slices of one flat parameter vector. Reference: https://github.com/karpathy/llm.c
import SharedKernels
import SharedTools
import SharedData

/// Where one named tensor sits in a model's flat parameter vector (llm.c's ParameterTensors).
/// The vector is all tensors back to back in `LanguageModel.parameterLayout` order: a model
/// with one parameter arena (the GPT) stores it exactly so, and `offset` is the tensor's place
/// in that arena; a model with one buffer per tensor (the RNN) has the same layout virtually.
/// The optimizer's moments, the gradient norm and checkpoints are laid out and walked by it.
public struct ParameterTensorInfo: Equatable {
    /// Unique within the model; the checkpoint tensor name ("lstm.hidden_weight", "h.0.ln_1.weight").
    public let name: String
    /// Row-major shape, e.g. [H, 4H]; its product is `count`.
    public let shape: [Int]
    /// Index of the tensor's first element in the flat parameter vector.
    public let offset: Int
    /// Number of elements, shape.reduce(1, *).
    public let count: Int
    /// Whether weight decay applies: true for matrices (weights, embeddings), false for
    /// biases and normalisation gains (nanoGPT's and llm.c's decay groups).
    public let decays: Bool

    public init(name: String, shape: [Int], offset: Int, decays: Bool) {
        self.name = name
        self.shape = shape
        self.offset = offset
        self.count = shape.reduce(1, *)
        self.decays = decays
    }
}

extension Array where Element == ParameterTensorInfo {
    /// The layout of tensors stored one after another, in order: offsets 0, count₀, count₀+count₁, ...
    public static func consecutive(_ tensors: [(name: String, shape: [Int], decays: Bool)]) -> [ParameterTensorInfo] {
        var offset = 0
        return tensors.map { tensor in
            let info = ParameterTensorInfo(name: tensor.name, shape: tensor.shape, offset: offset, decays: tensor.decays)
            offset += info.count
            return info
        }
    }

    /// Total elements of the flat parameter vector.
    public var scalarCount: Int { reduce(0) { $0 + $1.count } }
}

/// The state of one sequence being generated token by token: for a recurrent model its hidden
/// (and cell) state, for the GPT its KV cache. Made by `LanguageModel.makeDecodingState()`,
/// advanced only by `nextTokenLogits(after:state:)` of the same model, and valid while the
/// model's weights do not change (a training step in between makes it stale: make a new one).
public protocol DecodingState: AnyObject {
    /// Tokens fed so far (prompt and generated).
    var tokenCount: Int { get }
}

/// A next-token language model over token ids 0..<vocabularySize, trainable by
/// `LanguageModelTrainer` and sampled by `generate(_:prompt:...)`.
///
/// Training protocol, per optimizer step (what the trainer does):
///   zeroGradients(); for each micro-batch { loss(batch, training: true); backward(lossScale:) };
///   then the optimizer reads and updates the tensors through withParameterBuffers.
/// Every buffer a forward needs for a (B, T) batch is allocated by the model on first use of
/// that shape and reused afterwards: no allocation per step.
public protocol LanguageModel: AnyObject {
    /// V: token ids are 0..<V, and logits have V columns.
    var vocabularySize: Int { get }

    /// The longest T a forward accepts (the GPT's context), nil when any length works (a
    /// recurrent model).
    var contextLength: Int? { get }

    /// Model kind written into checkpoints and checked when loading ("char-rnn", "char-lstm",
    /// "gpt"), so a file of one model is never read as another.
    var kind: String { get }

    /// The trainable tensors in a fixed order, each with its name, shape, offset in the flat
    /// parameter vector and decay group. Offsets tile 0..<parameterLayout.scalarCount.
    var parameterLayout: [ParameterTensorInfo] { get }

    /// Calls `body` with tensor `index` (of `parameterLayout`) as two flat buffers of `count`
    /// floats: its values and its gradient (dLoss/dvalue, same layout). Both may be read and
    /// written (the optimizer updates values; zeroing and clipping write gradients). The
    /// pointers are valid only inside `body`.
    func withParameterBuffers<R>(_ index: Int,
                                 _ body: (_ values: UnsafeMutableBufferPointer<Float>,
                                          _ gradients: UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R

    /// Sets every gradient to zero (once per optimizer step, before the first backward).
    /// The default walks the tensors; an arena model may clear its gradient arena in one go.
    func zeroGradients()

    /// Forward pass and mean cross-entropy (nats per token) of one batch.
    ///   batch.inputs, batch.targets: (B, T) batch-major token ids, each in 0..<V;
    ///   targets[b, t] is the token that follows inputs[b, t].
    /// training: true for a step that `backward` will follow (dropout on, activations kept);
    ///   false for evaluation (dropout off).
    /// carryState: a stateful model starts from the state its previous forward on a batch of
    ///   this shape ended in (truncated BPTT over consecutive chunks) instead of from zero;
    ///   a model without state across batches (the GPT) throws if asked.
    /// Throws one clear line for a batch it cannot take (T above `contextLength`).
    func loss(_ batch: TextBatch, training: Bool, carryState: Bool) throws -> Double

    /// Backward of the last `loss(_:training: true, ...)`: adds (+=) into every gradient the
    /// gradient of lossScale × (that batch's mean loss). lossScale 1 is the plain gradient;
    /// 1/k lets k equal micro-batches accumulate into the gradient of their overall mean.
    func backward(lossScale: Float)

    /// Mean cross-entropy (nats per token) over a whole token stream, cut into non-overlapping
    /// windows of T tokens (a tail shorter than a window falls off), each window on its own
    /// (a recurrent model starts each from a zero state), B windows per forward pass.
    ///   ids: (N) token ids, N ≥ T + 1. A default implementation (over `loss`) is provided.
    func evaluate(ids: [Int], context T: Int, batch B: Int) throws -> Double

    /// A fresh decoding state at the start of a sequence (nothing fed yet). Whatever the
    /// model prepares once per generation (packed weights, an empty KV cache) happens here.
    func makeDecodingState() throws -> any DecodingState

    /// Feeds `tokens` (at least one, in order) after those already in `state`, advances
    /// `state`, and returns the logits (V) of the token that would come next. A prompt goes
    /// in as one call (a GPT may prefill it in one pass), then one call per generated token.
    func nextTokenLogits(after tokens: [Int], state: any DecodingState) throws -> [Float]

    /// What a checkpoint must hold beyond parameters and optimizer state for a resumed run to
    /// continue bit for bit: the state a stateful model carries between batches, a dropout
    /// generator's state. Default: nothing.
    func resumeState() -> (tensors: [NamedTensor], metadata: [String: String])

    /// Puts back what `resumeState()` saved (tensors by name, metadata by key). Throws one
    /// clear line when something is missing or has the wrong shape. Default: nothing to do.
    func restoreResumeState(tensors: [String: NamedTensor], metadata: [String: String]) throws
}

extension LanguageModel {
    public func zeroGradients() {
        for index in parameterLayout.indices {
            withParameterBuffers(index) { _, gradients in gradients.update(repeating: 0) }
        }
    }

    public func evaluate(ids: [Int], context T: Int, batch B: Int) throws -> Double {
        precondition(B >= 1, "evaluate: batch must be positive, got \(B)")
        let chunks = try TextChunks(ids: ids, context: T)
        let starts = chunks.sequentialStarts
        var total = 0.0
        var first = 0
        while first < starts.count {
            let end = min(first + B, starts.count)
            let batch = chunks.batch(starts: Array(starts[first..<end]))
            total += try loss(batch, training: false, carryState: false) * Double((end - first) * T)
            first = end
        }
        return total / Double(starts.count * T)
    }

    public func resumeState() -> (tensors: [NamedTensor], metadata: [String: String]) { ([], [:]) }

    public func restoreResumeState(tensors: [String: NamedTensor], metadata: [String: String]) throws {}

    /// Number of trainable scalars.
    public var parameterCount: Int { parameterLayout.scalarCount }

    /// Every tensor's values, named and shaped as in `parameterLayout` (for checkpoints).
    public func parameterTensors() -> [NamedTensor] {
        parameterLayout.enumerated().map { index, info in
            withParameterBuffers(index) { values, _ in NamedTensor(name: info.name, shape: info.shape, data: Array(values)) }
        }
    }

    /// Sets every tensor's values from `tensors` (by name), each checked to have its shape.
    /// Throws one clear line naming the first missing or misshapen tensor.
    public func loadParameters(_ tensors: [String: NamedTensor]) throws {
        for (index, info) in parameterLayout.enumerated() {
            guard let tensor = tensors[info.name] else {
                throw CheckpointMismatch("has no tensor '\(info.name)' (is it from another model?)")
            }
            guard tensor.shape == info.shape, tensor.data.count == info.count else {
                throw CheckpointMismatch("tensor '\(info.name)' has shape \(tensor.shape), this model needs \(info.shape)")
            }
            withParameterBuffers(index) { values, _ in
                tensor.data.withUnsafeBufferPointer { values.baseAddress!.update(from: $0.baseAddress!, count: info.count) }
            }
        }
    }
}
