// Part 4, models (a) and (b): an LSTM encoder–decoder (Sutskever et al. 2014,
// https://arxiv.org/abs/1409.3215), without and with attention over the encoder states
// (Luong et al. 2015, https://arxiv.org/abs/1508.04025, "global attention", general score).
// The encoder reads the L source digits; the decoder starts from the encoder's final (h, c) and
// reads a start symbol and then the answer so far (teacher forcing in training, its own
// guesses when evaluated). Without attention everything the decoder knows about the source
// went through that one final state: the context-vector bottleneck. With attention, at every
// answer step the decoder state s_t asks all encoder states e_1 … e_L:
//   q_t = s_t·W_q      c_t = Σ_j softmax_j(q_t·e_j/√H)·e_j      logits = [s_t ; c_t]·W_out + b
// The LSTM itself (gates, BPTT) is week 6's, from Shared/NN/LSTM.swift.
import Shared

/// What every toy-task model can do: a training step's loss and gradients, and greedy answers.
protocol ToyModel: AnyObject {
    var parameters: [Parameter] { get }
    /// Mean cross-entropy over the B·L answer tokens (teacher forcing), gradients added into
    /// `parameters`. sources, targets: (B, L) digits.
    func lossAndGradients(sources: [Int], targets: [Int], batch B: Int) -> Double
    /// The teacher-forced logits behind that loss (keeping what `backward` needs): (rows, 10).
    func trainingLogits(sources: [Int], targets: [Int], batch B: Int) -> [Float]
    /// Backward of the last `trainingLogits`: adds into every parameter's grad.
    func backward(dLogits: [Float])
    /// Greedy answers (B, L), each step fed the model's own previous guess, and the attention
    /// maps of that run: one (B, L, L) block per head, [b, answer step, source position]
    /// (empty for a model without attention).
    func predict(sources: [Int], batch B: Int) -> (answers: [Int], attention: [[Float]])
}

/// (A, B, W) -> (B, A, W): swaps the first two axes (batch-major <-> time-major).
func transposeBatchAndTime<C: RandomAccessCollection>(_ x: C, first A: Int, second Bs: Int, width W: Int) -> [Float]
    where C.Element == Float, C.Index == Int
{
    var out = [Float](repeating: 0, count: A * Bs * W)
    let start = x.startIndex
    for a in 0..<A { for b in 0..<Bs { for w in 0..<W { out[(b * A + a) * W + w] = x[start + (a * Bs + b) * W + w] } } }
    return out
}

/// (B, T) ids -> (T, B) ids.
func timeMajor(_ ids: [Int], batch B: Int, time T: Int) -> [Int] {
    var out = [Int](repeating: 0, count: B * T)
    for b in 0..<B { for t in 0..<T { out[t * B + b] = ids[b * T + t] } }
    return out
}

/// Index of the largest of `count` values starting at `offset` (the first one on ties).
func argmax(_ values: [Float], offset: Int, count: Int) -> Int {
    var best = 0
    for i in 1..<count where values[offset + i] > values[offset + best] { best = i }
    return best
}

final class LSTMEncoderDecoder: ToyModel {
    let vocabulary: Int
    let hidden: Int
    let usesAttention: Bool
    let encoder: LSTM
    /// Reads the start symbol (id = vocabulary) and the digits: V + 1 inputs.
    let decoder: LSTM
    /// W_q: (H, H), only with attention.
    let queryWeight: Parameter?
    /// [s_t ; c_t] (2H) or s_t (H) -> V logits.
    let head: Linear

    var startSymbol: Int { vocabulary }

    init(vocabulary V: Int, hidden H: Int, attention: Bool, rng: inout SplitMix64) {
        vocabulary = V
        hidden = H
        usesAttention = attention
        // Wxh at ±1, not ±1/√H: with one-hot digits the default bound leaves the inputs too weak
        // against the recurrent weights and the attention read never locks on (see LSTM.init).
        encoder = LSTM(inputSize: V, hiddenSize: H, inputBound: 1, rng: &rng)
        decoder = LSTM(inputSize: V + 1, hiddenSize: H, inputBound: 1, rng: &rng)
        queryWeight = attention
            ? Parameter("attention.query_weight", shape: [H, H], value: rng.gaussians(H * H, std: 1 / Float(H).squareRoot()))
            : nil
        head = Linear(attention ? 2 * H : H, V, name: "head", initialization: .xavier, rng: &rng)
    }

    /// Both LSTMs name their tensors "lstm.*" (they are distinct objects; this week saves no
    /// checkpoint, so the names only label gradient checks).
    var parameters: [Parameter] {
        encoder.parameters + decoder.parameters + (queryWeight.map { [$0] } ?? []) + head.parameters
    }

    /// One attention read for Tq queries per sequence over the L encoder states.
    ///   decoderStates: (B, Tq, H)   encoderStates: (B, L, H)
    /// Returns queries q = s·W_q (B, Tq, H), contexts (B, Tq, H), weights (B, 1, Tq, L).
    private func attend(decoderStates: [Float], encoderStates: [Float], batch B: Int, queries Tq: Int, keys L: Int)
        -> (queries: [Float], contexts: [Float], weights: [Float])
    {
        let H = hidden
        var queries = [Float](repeating: 0, count: B * Tq * H)
        matmul(&queries, decoderStates, queryWeight!.value, m: B * Tq, n: H, k: H)
        var contexts = [Float](repeating: 0, count: B * Tq * H), weights = [Float](repeating: 0, count: B * Tq * L)
        // one head: (B, Tq, H) is (B, 1, Tq, H); keys and values are both the encoder states
        scaledDotProductAttentionForward(&contexts, probabilities: &weights, query: queries, key: encoderStates,
                                         value: encoderStates,
                                         shape: AttentionShape(batch: B, heads: 1, queryTime: Tq, keyTime: L, headSize: H))
        return (queries, contexts, weights)
    }

    /// [a ; b] row by row: a, b (N, H) -> (N, 2H).
    private func concatenate(_ a: [Float], _ b: [Float], rows N: Int) -> [Float] {
        let H = hidden
        var out = [Float](repeating: 0, count: N * 2 * H)
        for n in 0..<N {
            for j in 0..<H { out[n * 2 * H + j] = a[n * H + j]; out[n * 2 * H + H + j] = b[n * H + j] }
        }
        return out
    }

    /// Runs the encoder; returns its workspace and its states batch-major (B, L, H).
    private func encode(_ sources: [Int], batch B: Int, length L: Int) -> (workspace: RecurrentWorkspace, states: [Float]) {
        let workspace = encoder.makeWorkspace(batch: B, steps: L)
        encoder.forward(ids: timeMajor(sources, batch: B, time: L), workspace: workspace)
        return (workspace, transposeBatchAndTime(workspace.outputs, first: L, second: B, width: hidden))
    }

    /// What `backward` needs from the last `trainingLogits`.
    private struct Cache {
        let batch: Int, length: Int
        let encoderWorkspace: RecurrentWorkspace, decoderWorkspace: RecurrentWorkspace
        let encoderStates: [Float], decoderStates: [Float]   // (B, L, H) each
        let read: (queries: [Float], contexts: [Float], weights: [Float])?
    }
    private var cache: Cache?

    func trainingLogits(sources: [Int], targets: [Int], batch B: Int) -> [Float] {
        let L = sources.count / B, H = hidden, N = B * L
        // encoder, then the decoder from the encoder's final (h, c), reading start + answer[0..<L-1]
        let (encoderWorkspace, encoderStates) = encode(sources, batch: B, length: L)
        var decoderInputs = [Int](repeating: startSymbol, count: N)
        for b in 0..<B { for t in 1..<max(L, 1) { decoderInputs[b * L + t] = targets[b * L + t - 1] } }
        let decoderWorkspace = decoder.makeWorkspace(batch: B, steps: L)
        decoderWorkspace.setInitialState(encoderWorkspace.finalState)
        decoder.forward(ids: timeMajor(decoderInputs, batch: B, time: L), workspace: decoderWorkspace)
        let decoderStates = transposeBatchAndTime(decoderWorkspace.outputs, first: L, second: B, width: H)
        // the head reads s_t, or [s_t ; c_t]
        let read = usesAttention ? attend(decoderStates: decoderStates, encoderStates: encoderStates, batch: B, queries: L, keys: L) : nil
        let features = read.map { concatenate(decoderStates, $0.contexts, rows: N) } ?? decoderStates
        cache = Cache(batch: B, length: L, encoderWorkspace: encoderWorkspace, decoderWorkspace: decoderWorkspace,
                      encoderStates: encoderStates, decoderStates: decoderStates, read: read)
        return head.forward(features, rows: N)
    }

    /// The forward in reverse: head, the [s ; c] split, attention (the encoder states get gradient
    /// as keys and as values), W_q, then BPTT through the decoder and, through the state it
    /// started from, the encoder.
    func backward(dLogits: [Float]) {
        guard let cache else { preconditionFailure("LSTMEncoderDecoder.backward: no forward to go back through") }
        let B = cache.batch, L = cache.length, H = hidden, N = B * L
        let dFeatures = head.backward(dLogits)
        var dDecoderStates = [Float](repeating: 0, count: N * H)
        var dEncoderStates = [Float](repeating: 0, count: N * H)
        if let read = cache.read {
            // features = [s ; c]: split the gradient
            var dContexts = [Float](repeating: 0, count: N * H)
            for n in 0..<N {
                for j in 0..<H { dDecoderStates[n * H + j] = dFeatures[n * 2 * H + j]; dContexts[n * H + j] = dFeatures[n * 2 * H + H + j] }
            }
            // c = attention(q, e, e)
            var dQueries = [Float](repeating: 0, count: N * H), dKeys = [Float](repeating: 0, count: N * H)
            scaledDotProductAttentionBackward(dQuery: &dQueries, dKey: &dKeys, dValue: &dEncoderStates, dOut: dContexts,
                                              query: read.queries, key: cache.encoderStates, value: cache.encoderStates,
                                              probabilities: read.weights,
                                              shape: AttentionShape(batch: B, heads: 1, queryTime: L, keyTime: L, headSize: H))
            for i in 0..<(N * H) { dEncoderStates[i] += dKeys[i] }
            // q = s·W_q:  dW_q += sᵀ·dq,  ds += dq·W_qᵀ
            matmul(&queryWeight!.grad, cache.decoderStates, dQueries, m: H, n: H, k: N, transposeA: true, beta: 1)
            matmul(&dDecoderStates, dQueries, queryWeight!.value, m: N, n: H, k: H, transposeB: true, beta: 1)
        } else {
            dDecoderStates = dFeatures
        }
        // BPTT through the decoder; its initial state was the encoder's final state
        cache.decoderWorkspace.dHidden = transposeBatchAndTime(dDecoderStates, first: B, second: L, width: H)
        decoder.backward(workspace: cache.decoderWorkspace)
        cache.encoderWorkspace.dFinalState = cache.decoderWorkspace.dInitialState
        cache.encoderWorkspace.dHidden = transposeBatchAndTime(dEncoderStates, first: B, second: L, width: H)
        encoder.backward(workspace: cache.encoderWorkspace)
    }

    func lossAndGradients(sources: [Int], targets: [Int], batch B: Int) -> Double {
        let N = sources.count, V = vocabulary
        let logits = trainingLogits(sources: sources, targets: targets, batch: B)
        var probabilities = [Float](repeating: 0, count: N * V)
        let loss = softmaxCrossEntropyForward(probs: &probabilities, logits: logits, targets: targets, rows: N, classes: V)
        var dLogits = [Float](repeating: 0, count: N * V)
        softmaxCrossEntropyBackward(dLogits: &dLogits, probs: probabilities, targets: targets, rows: N, classes: V)
        backward(dLogits: dLogits)
        return loss
    }

    func predict(sources: [Int], batch B: Int) -> (answers: [Int], attention: [[Float]]) {
        let L = sources.count / B, V = vocabulary
        let (encoderWorkspace, encoderStates) = encode(sources, batch: B, length: L)
        var state = encoderWorkspace.finalState
        var tokens = [Int](repeating: startSymbol, count: B)
        var answers = [Int](repeating: 0, count: B * L)
        var maps = [Float](repeating: 0, count: usesAttention ? B * L * L : 0)
        let step = decoder.makeWorkspace(batch: B, steps: 1)
        for t in 0..<L {
            // one decoder step from the previous state, reading the previous guess
            step.setInitialState(state)
            decoder.forward(ids: tokens, workspace: step)
            state = step.finalState
            let s = Array(step.outputs)   // (B, H)
            var features = s
            if usesAttention {
                let read = attend(decoderStates: s, encoderStates: encoderStates, batch: B, queries: 1, keys: L)
                features = concatenate(s, read.contexts, rows: B)
                for b in 0..<B { for j in 0..<L { maps[(b * L + t) * L + j] = read.weights[b * L + j] } }
            }
            let logits = head.forward(features, rows: B)
            for b in 0..<B {
                tokens[b] = argmax(logits, offset: b * V, count: V)
                answers[b * L + t] = tokens[b]
            }
        }
        return (answers, usesAttention ? [maps] : [])
    }
}
