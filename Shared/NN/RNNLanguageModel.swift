// A character-level language model around a recurrent core (weeks 5-6): one-hot characters
// in, the RNN or LSTM over T steps, a linear head to V logits at every step, softmax
// cross-entropy against the next character. It is a `LanguageModel` (LanguageModel.swift), so
// the shared trainer trains it, the shared sampler samples it, and checkpoints save it.
// Reference: Karpathy, "The Unreasonable Effectiveness of Recurrent
// Neural Networks" (2015), and his min-char-rnn.py.
import SharedKernels
import SharedTools
import SharedData

/// core (RNN or LSTM) -> head: logits_t = h_t·W + b.
///   headWeight W: (H, V)   headBias b: (V)   (PyTorch Linear init: uniform ±1/√H)
public final class RecurrentLanguageModel: LanguageModel {
    public let core: any RecurrentCore
    public let headWeight: Parameter
    public let headBias: Parameter
    /// V, the vocabulary size (input and output).
    public var vocabularySize: Int { core.inputSize }

    public init(core: any RecurrentCore, rng: inout SplitMix64) {
        self.core = core
        let H = core.hiddenSize, V = core.inputSize
        let bound = 1 / Float(H).squareRoot()
        headWeight = Parameter("head.weight", shape: [H, V], value: rng.uniforms(H * V, -bound, bound))
        headBias = Parameter("head.bias", shape: [V], value: rng.uniforms(V, -bound, bound), decays: false)
        parameters = core.parameters + [headWeight, headBias]
        parameterLayout = .consecutive(parameters.map { ($0.name, $0.shape, $0.decays) })
    }

    /// Every trainable tensor: the core's, then the head's.
    public let parameters: [Parameter]
    /// The same tensors as a flat-vector layout, in the same order.
    public let parameterLayout: [ParameterTensorInfo]
    /// The workspaces of the protocol's `loss`, one per (B, T) shape and mode seen, made on first use.
    private var workspaces: [ShapeKey: Workspace] = [:]
    /// The workspace of the last `loss(_:training: true, ...)`, which `backward` differentiates.
    private var trainingWorkspace: Workspace?

    /// The buffers of one training or evaluation step over B sequences of T characters.
    public final class Workspace {
        public let recurrent: RecurrentWorkspace
        /// Inputs and targets reordered time-major: (T, B).
        public var ids: [Int]
        public var targets: [Int]
        /// (T·B, V), rows in time-major order.
        public var logits: [Float]
        public var probs: [Float]
        public var dLogits: [Float]
        /// 1/(T·B) for every row: the mean's weight, for the per-row cross-entropy backward.
        var rowWeights: [Float]
        /// Per-row losses (T·B), for evaluation.
        var rowLosses: [Float]
        public var batch: Int { recurrent.batch }
        public var steps: Int { recurrent.steps }

        init(model: RecurrentLanguageModel, batch B: Int, steps T: Int) {
            let V = model.vocabularySize
            recurrent = model.core.makeWorkspace(batch: B, steps: T)
            ids = [Int](repeating: 0, count: T * B)
            targets = [Int](repeating: 0, count: T * B)
            logits = [Float](repeating: 0, count: T * B * V)
            probs = [Float](repeating: 0, count: T * B * V)
            dLogits = [Float](repeating: 0, count: T * B * V)
            rowWeights = [Float](repeating: 1 / Float(T * B), count: T * B)
            rowLosses = [Float](repeating: 0, count: T * B)
        }
    }

    public func makeWorkspace(batch: Int, steps: Int) -> Workspace {
        Workspace(model: self, batch: batch, steps: steps)
    }

    /// Forward pass and mean cross-entropy (nats per character) of a batch.
    ///   inputs, targets: (B, T) batch-major, as `TextChunks` gives them.
    /// The recurrent core starts from the workspace's initial state (zero unless carried or set).
    @discardableResult
    public func loss(inputs: [Int], targets: [Int], workspace w: Workspace) -> Double {
        let B = w.batch, T = w.steps, V = vocabularySize
        precondition(inputs.count == B * T && targets.count == B * T,
                     "loss: \(inputs.count) inputs / \(targets.count) targets for B \(B) x T \(T)")
        // (B, T) -> (T, B): each time step's B characters become contiguous
        for b in 0..<B {
            for t in 0..<T {
                w.ids[t * B + b] = inputs[b * T + t]
                w.targets[t * B + b] = targets[b * T + t]
            }
        }
        core.forward(ids: w.ids, workspace: w.recurrent)
        headForward(w)
        return softmaxCrossEntropyForward(probs: &w.probs, logits: w.logits, targets: w.targets,
                                          rows: T * B, classes: V)
    }

    /// logits (T·B, V) = [h_1 … h_T] (T·B, H) · W (H, V) + b: one gemm over every step.
    func headForward(_ w: Workspace) {
        let rows = w.batch * w.steps, H = core.hiddenSize, V = vocabularySize
        w.recurrent.hidden.withUnsafeBufferPointer { hb in
            headWeight.value.withUnsafeBufferPointer { wb in
                w.logits.withUnsafeMutableBufferPointer { lb in
                    gemm(m: rows, n: V, k: H, a: hb.baseAddress! + w.batch * H, lda: H,
                         b: wb.baseAddress!, ldb: V, beta: 0, c: lb.baseAddress!, ldc: V)
                }
            }
        }
        biasAddForward(&w.logits, headBias.value, rows: rows, cols: V)
    }

    /// Backward of `loss` (call right after it). Adds into every parameter's grad.
    ///   dLogits = (p − onehot(y)) / (T·B)
    ///   dW += Hᵀ·dLogits    db += Σ_rows dLogits    dH = dLogits·Wᵀ -> the core's BPTT
    public func backward(_ w: Workspace) {
        let rows = w.batch * w.steps, H = core.hiddenSize, V = vocabularySize
        for i in 0..<w.dLogits.count { w.dLogits[i] = 0 }
        softmaxCrossEntropyBackward(dLogits: &w.dLogits, dLosses: w.rowWeights, probs: w.probs,
                                    targets: w.targets, rows: rows, classes: V)
        w.recurrent.hidden.withUnsafeBufferPointer { hb in
            w.dLogits.withUnsafeBufferPointer { db in
                headWeight.grad.withUnsafeMutableBufferPointer { dW in
                    gemm(transposeA: true, m: H, n: V, k: rows, a: hb.baseAddress! + w.batch * H, lda: H,
                         b: db.baseAddress!, ldb: V, beta: 1, c: dW.baseAddress!, ldc: V)
                }
                headWeight.value.withUnsafeBufferPointer { wb in
                    w.recurrent.dHidden.withUnsafeMutableBufferPointer { dh in
                        gemm(transposeB: true, m: rows, n: H, k: V, a: db.baseAddress!, lda: V,
                             b: wb.baseAddress!, ldb: V, beta: 0, c: dh.baseAddress!, ldc: H)
                    }
                }
            }
        }
        biasBackward(dBias: &headBias.grad, dOut: w.dLogits, rows: rows, cols: V)
        core.backward(workspace: w.recurrent)
    }

    // MARK: LanguageModel

    /// Training and evaluation never share a workspace: an evaluation between two carried
    /// training batches must not overwrite the state they carry.
    struct ShapeKey: Hashable { let batch: Int, steps: Int, training: Bool }

    public var contextLength: Int? { nil }
    /// "char-rnn" or "char-lstm".
    public var kind: String { "char-" + core.kind }

    public func withParameterBuffers<R>(_ index: Int,
                                        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let parameter = parameters[index]
        return try parameter.value.withUnsafeMutableBufferPointer { values in
            try parameter.grad.withUnsafeMutableBufferPointer { gradients in try body(values, gradients) }
        }
    }

    public func zeroGradients() { parameters.zeroGrad() }

    /// The protocol's forward: `loss(inputs:targets:workspace:)` on this shape's workspace,
    /// from a zero state, or (carryState) from the state the previous batch of this shape ended in.
    public func loss(_ batch: TextBatch, training: Bool, carryState: Bool) throws -> Double {
        let key = ShapeKey(batch: batch.batchSize, steps: batch.context, training: training)
        let w = workspaces[key] ?? makeWorkspace(batch: key.batch, steps: key.steps)
        workspaces[key] = w
        if carryState { w.recurrent.carryState() } else { w.recurrent.resetState() }
        if training { trainingWorkspace = w }
        return loss(inputs: batch.inputs, targets: batch.targets, workspace: w)
    }

    /// Backward of the last training `loss`, the mean over its T·B characters scaled by lossScale.
    public func backward(lossScale: Float) {
        guard let w = trainingWorkspace else {
            preconditionFailure("backward(lossScale:) needs a loss(_:training: true, ...) first")
        }
        let weight = 1 / Float(w.batch * w.steps) * lossScale   // × 1 is exact: lossScale 1 is the plain mean
        for i in 0..<w.rowWeights.count { w.rowWeights[i] = weight }
        backward(w)
    }

    /// The state one generated sequence carries: h (and c) in a one-step workspace, and Whh
    /// packed once for the whole generation.
    final class RecurrentDecodingState: DecodingState {
        let workspace: Workspace
        let packedHiddenWeight: PackedMatrix
        var tokenCount = 0
        init(workspace: Workspace, packedHiddenWeight: PackedMatrix) {
            self.workspace = workspace
            self.packedHiddenWeight = packedHiddenWeight
        }
    }

    public func makeDecodingState() throws -> any DecodingState {
        RecurrentDecodingState(workspace: makeWorkspace(batch: 1, steps: 1), packedHiddenWeight: core.makePackedHiddenWeight())
    }

    /// Feeds the tokens one step at a time (B = T = 1), carrying the state, then the head:
    /// logits = h·W + b (V).
    public func nextTokenLogits(after tokens: [Int], state: any DecodingState) throws -> [Float] {
        guard let state = state as? RecurrentDecodingState else {
            throw WorkbookError("nextTokenLogits: the decoding state was made by another model")
        }
        guard !tokens.isEmpty else { throw WorkbookError("nextTokenLogits: no token to feed") }
        let w = state.workspace, V = vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || $0 >= V }) {
            throw WorkbookError("token \(bad) is outside the vocabulary 0..<\(V)")
        }
        for token in tokens {
            if state.tokenCount > 0 { w.recurrent.carryState() }
            core.forward(ids: [token], workspace: w.recurrent, packedHiddenWeight: state.packedHiddenWeight)
            state.tokenCount += 1
        }
        headForward(w)
        return w.logits
    }

    /// The state the training batches carry from one step to the next (--carry), so a resumed
    /// run continues its lanes from the same hidden (and cell) state.
    public func resumeState() -> (tensors: [NamedTensor], metadata: [String: String]) {
        guard let w = trainingWorkspace else { return ([], [:]) }
        let state = w.recurrent.finalState
        return ([NamedTensor(name: "resume.carried_state", shape: [w.batch, core.stateSize], data: state)],
                ["carried_state_steps": String(w.steps)])
    }

    public func restoreResumeState(tensors: [String: NamedTensor], metadata: [String: String]) throws {
        guard let tensor = tensors["resume.carried_state"] else { return }
        guard tensor.shape.count == 2, tensor.shape[1] == core.stateSize, tensor.shape[0] >= 1,
              let steps = metadata["carried_state_steps"].flatMap({ Int($0) }), steps >= 1 else {
            throw WorkbookError("checkpoint: carried state of shape \(tensor.shape) does not fit this model (state size \(core.stateSize))")
        }
        let key = ShapeKey(batch: tensor.shape[0], steps: steps, training: true)
        let w = workspaces[key] ?? makeWorkspace(batch: key.batch, steps: key.steps)
        workspaces[key] = w
        w.recurrent.setFinalState(tensor.data)
        trainingWorkspace = w
    }
}
