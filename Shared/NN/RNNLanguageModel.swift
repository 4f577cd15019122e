// A character-level language model around a recurrent core (weeks 5-6): one-hot characters
// in, the RNN or LSTM over T steps, a linear head to V logits at every step, softmax
// cross-entropy against the next character. Also: evaluation over a whole text, and sampling
// with a temperature. Reference: Karpathy, "The Unreasonable Effectiveness of Recurrent
// Neural Networks" (2015), and his min-char-rnn.py.

/// core (RNN or LSTM) -> head: logits_t = h_t·W + b.
///   headWeight W: (H, V)   headBias b: (V)   (PyTorch Linear init: uniform ±1/√H)
public final class RecurrentLanguageModel {
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
    }

    /// Every trainable tensor: the core's, then the head's.
    public var parameters: [Parameter] { core.parameters + [headWeight, headBias] }

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

    /// Mean cross-entropy (nats per character) over a whole text, cut into non-overlapping
    /// windows of T characters, each starting from a zero state (as the PyTorch baseline
    /// measures it), B windows per forward pass.   ids: (N) character ids.
    public func evaluate(ids: [Int], steps T: Int, batch B: Int = 64) throws -> Double {
        let chunks = try TextChunks(ids: ids, blockSize: T)
        let starts = chunks.sequentialStarts
        var workspaces: [Int: Workspace] = [:]   // one per batch size (the last batch is smaller)
        var total = 0.0
        var first = 0
        while first < starts.count {
            let end = min(first + B, starts.count)
            let batch = chunks.batch(starts: Array(starts[first..<end]))
            let size = end - first
            let w = workspaces[size] ?? makeWorkspace(batch: size, steps: T)
            workspaces[size] = w
            total += loss(inputs: batch.inputs, targets: batch.targets, workspace: w) * Double(size * T)
            first = end
        }
        return total / Double(starts.count * T)
    }

    /// Generates `count` character ids after `prompt` (ids; when empty, generation starts by
    /// feeding `startID`, e.g. the id of a newline), from a zero initial state.
    /// Each step: feed one character, p = softmax(logits / temperature), draw the next from p.
    /// temperature < 1 sharpens the distribution (safer, more repetitive text), > 1 flattens it.
    public func sample(prompt: [Int], count: Int, temperature: Float, startID: Int = 0,
                       rng: inout SplitMix64) -> [Int] {
        precondition(temperature > 0, "sample: temperature must be positive, got \(temperature)")
        let V = vocabularySize
        let w = makeWorkspace(batch: 1, steps: 1)
        var output: [Int] = []
        var scaled = [Float](repeating: 0, count: V)
        var probabilities = [Float](repeating: 0, count: V)
        // feed the prompt (or the start character), one step at a time, carrying the state
        let feed = prompt.isEmpty ? [startID] : prompt
        for (index, id) in feed.enumerated() {
            if index > 0 { w.recurrent.carryState() }
            core.forward(ids: [id], workspace: w.recurrent)
        }
        for _ in 0..<count {
            headForward(w)
            for j in 0..<V { scaled[j] = w.logits[j] / temperature }
            softmaxForward(&probabilities, scaled, rows: 1, cols: V)
            let next = rng.categorical(probabilities)
            output.append(next)
            w.recurrent.carryState()
            core.forward(ids: [next], workspace: w.recurrent)
        }
        return output
    }
}
