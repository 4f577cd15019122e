// Part 4, model (c), and part 5: a small decoder-only Transformer (Vaswani et al. 2017; the
// GPT layout of nanoGPT, https://github.com/karpathy/nanoGPT/blob/master/model.py) on the toy
// task written as one sequence, source ++ answer, predicting each next token under a causal
// mask (minGPT's sort demo). No recurrence: every position reads every earlier one directly.
//   x = wte[token] + position(t)
//   block: x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))     mlp = Linear(C, 4C), GELU, Linear(4C, C)
//   logits = ln_f(x)·W_head + b
// Attention is permutation-equivariant: without the position term the model sees a bag of
// tokens (plus what the causal mask leaks: how many tokens came before). Three choices, part 5:
// none, learned (a (T, C) table, GPT-2), sinusoidal (fixed sines and cosines, Vaswani et al.).
// The layers are Modules (week 4's API); the attention layer is Shared/NN/AttentionLayer.swift.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

enum PositionEncoding: String, CaseIterable {
    case none, learned, sinusoidal
}

/// LayerNorm as a Module: out = (x − μ)/σ ⊙ weight + bias over the last axis.
///   x: (N, C). weight starts at 1, bias at 0 (neither decays).
final class LayerNormLayer: Module {
    let weight: Parameter
    let bias: Parameter
    var isTraining = true
    private var input: [Float] = [], mean: [Float] = [], rstd: [Float] = []
    private var rows = 0

    init(_ C: Int, name: String) {
        weight = Parameter(name + ".weight", shape: [C], value: [Float](repeating: 1, count: C), decays: false)
        bias = Parameter(name + ".bias", shape: [C], value: [Float](repeating: 0, count: C), decays: false)
    }

    var parameters: [Parameter] { [weight, bias] }

    func forward(_ x: [Float], rows N: Int) -> [Float] {
        let C = weight.count
        var out = [Float](repeating: 0, count: N * C)
        mean = [Float](repeating: 0, count: N)
        rstd = [Float](repeating: 0, count: N)
        layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: weight.value, bias: bias.value, rows: N, cols: C)
        input = x
        rows = N
        return out
    }

    func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        var dX = [Float](repeating: 0, count: dOut.count)
        layerNormBackward(dX: &dX, dWeight: &weight.grad, dBias: &bias.grad, dOut: dOut, x: input,
                          weight: weight.value, mean: mean, rstd: rstd, rows: rows, cols: weight.count)
        return dX
    }
}

/// One pre-norm Transformer block (GPT-2's): two residual branches.
///   a = x + attn(ln_1(x))        out = a + mlp(ln_2(a))          x, a, out: (B·T, C)
/// backward: the residual passes dOut straight through and adds the branch's gradient:
///   dA = dOut + ln_2ᵀ(mlpᵀ(dOut))     dX = dA + ln_1ᵀ(attnᵀ(dA))
final class TransformerBlock: Module {
    let norm1: LayerNormLayer
    let attention: MultiHeadSelfAttention
    let norm2: LayerNormLayer
    let mlp: Sequential
    var isTraining = true

    init(embedding C: Int, heads H: Int, time T: Int, name: String, rng: inout SplitMix64) {
        norm1 = LayerNormLayer(C, name: name + ".ln_1")
        attention = MultiHeadSelfAttention(embedding: C, heads: H, time: T, mask: AttentionMask(causal: true),
                                           name: name + ".attn", rng: &rng)
        norm2 = LayerNormLayer(C, name: name + ".ln_2")
        mlp = Sequential([Linear(C, 4 * C, name: name + ".mlp.c_fc", rng: &rng), GELU(),
                          Linear(4 * C, C, name: name + ".mlp.c_proj", initialization: .xavier, rng: &rng)])
    }

    var parameters: [Parameter] { norm1.parameters + attention.parameters + norm2.parameters + mlp.parameters }

    func forward(_ x: [Float], rows N: Int) -> [Float] {
        let attended = attention.forward(norm1.forward(x, rows: N), rows: N)
        var a = x
        for i in 0..<a.count { a[i] += attended[i] }
        let transformed = mlp.forward(norm2.forward(a, rows: N), rows: N)
        var out = a
        for i in 0..<out.count { out[i] += transformed[i] }
        return out
    }

    func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        var dA = norm2.backward(mlp.backward(dOut), needsInputGradient: true)
        for i in 0..<dA.count { dA[i] += dOut[i] }
        var dX = norm1.backward(attention.backward(dA), needsInputGradient: true)
        for i in 0..<dX.count { dX[i] += dA[i] }
        return dX
    }
}

/// The decoder-only model of the toy task. Sequences are source ++ answer minus the last token:
/// T = 2L − 1 positions; only the last L predictions (the answer) are scored.
final class ToyTransformer: ToyModel {
    let vocabulary: Int
    let length: Int
    let embedding: Int
    let positions: PositionEncoding
    let tokenEmbedding: Parameter      // wte (V, C)
    let positionEmbedding: Parameter?  // wpe (T, C), learned positions only
    let fixedPositions: [Float]        // (T, C): the sinusoids, or zeros
    let blocks: [TransformerBlock]
    let finalNorm: LayerNormLayer
    let head: Linear

    var time: Int { 2 * length - 1 }

    init(vocabulary V: Int, length L: Int, embedding C: Int, heads H: Int, layers: Int, positions: PositionEncoding,
         rng: inout SplitMix64) {
        vocabulary = V
        length = L
        embedding = C
        self.positions = positions
        let T = 2 * L - 1
        // GPT-2's initialisation of both tables, N(0, 0.02²); the LayerNorms rescale the sum
        tokenEmbedding = Parameter("wte", shape: [V, C], value: rng.gaussians(V * C, std: 0.02))
        positionEmbedding = positions == .learned ? Parameter("wpe", shape: [T, C], value: rng.gaussians(T * C, std: 0.02)) : nil
        fixedPositions = positions == .sinusoidal ? sinusoidalPositions(length: T, width: C) : [Float](repeating: 0, count: T * C)
        blocks = (0..<layers).map { TransformerBlock(embedding: C, heads: H, time: T, name: "h.\($0)", rng: &rng) }
        finalNorm = LayerNormLayer(C, name: "ln_f")
        head = Linear(C, V, name: "lm_head", initialization: .xavier, rng: &rng)
    }

    var parameters: [Parameter] {
        [tokenEmbedding] + (positionEmbedding.map { [$0] } ?? []) + blocks.flatMap(\.parameters)
            + finalNorm.parameters + head.parameters
    }

    /// inputs (B, T) -> logits (B·T, V), every layer keeping its cache.
    func forwardLogits(inputs: [Int], batch B: Int) -> [Float] {
        let T = time, C = embedding
        var x = [Float](repeating: 0, count: B * T * C)
        embeddingForward(&x, ids: inputs, table: tokenEmbedding.value, vocabulary: vocabulary, dimension: C)
        let table = positionEmbedding?.value ?? fixedPositions
        for b in 0..<B { for i in 0..<(T * C) { x[b * T * C + i] += table[i] } }
        for block in blocks { x = block.forward(x, rows: B * T) }
        return head.forward(finalNorm.forward(x, rows: B * T), rows: B * T)
    }

    /// Backward of `forwardLogits`. Adds into every parameter's grad. dLogits: (B·T, V).
    func backward(dLogits: [Float], inputs: [Int], batch B: Int) {
        let T = time, C = embedding
        var dX = finalNorm.backward(head.backward(dLogits), needsInputGradient: true)
        for block in blocks.reversed() { dX = block.backward(dX, needsInputGradient: true) }
        // x = wte[token] + wpe[t]: both tables collect the gradient of every position using them
        embeddingBackward(dTable: &tokenEmbedding.grad, dOut: dX, ids: inputs, vocabulary: vocabulary, dimension: C)
        if let positionEmbedding {
            for b in 0..<B { for i in 0..<(T * C) { positionEmbedding.grad[i] += dX[b * T * C + i] } }
        }
    }

    /// Mean cross-entropy over the answer positions of next-token rows. inputs, targets: (B, T),
    /// targets `SequenceTasks.ignoreIndex` where nothing is scored. Adds the gradients.
    func nextTokenLossAndGradients(inputs: [Int], targets: [Int], batch B: Int) -> Double {
        let N = B * time, V = vocabulary
        let logits = forwardLogits(inputs: inputs, batch: B)
        var probabilities = [Float](repeating: 0, count: N * V)
        let loss = softmaxCrossEntropyForward(probs: &probabilities, logits: logits, targets: targets, rows: N, classes: V,
                                              ignoreIndex: SequenceTasks.ignoreIndex)
        var dLogits = [Float](repeating: 0, count: N * V)
        softmaxCrossEntropyBackward(dLogits: &dLogits, probs: probabilities, targets: targets, rows: N, classes: V,
                                    ignoreIndex: SequenceTasks.ignoreIndex)
        backward(dLogits: dLogits, inputs: inputs, batch: B)
        return loss
    }

    /// source ++ answer[0..<L−1] (B, T) and the targets (B, T): ignored for the first L − 1
    /// positions, answer[t] at position L − 1 + t (SequenceTasks.nextTokenBatch's layout).
    func nextTokenRows(sources: [Int], targets answers: [Int], batch B: Int) -> (inputs: [Int], targets: [Int]) {
        let L = length, T = time
        var inputs = [Int](repeating: 0, count: B * T), targets = [Int](repeating: SequenceTasks.ignoreIndex, count: B * T)
        for b in 0..<B {
            for t in 0..<L { inputs[b * T + t] = sources[b * L + t] }
            for t in 0..<(L - 1) { inputs[b * T + L + t] = answers[b * L + t] }
            for t in 0..<L { targets[b * T + L - 1 + t] = answers[b * L + t] }
        }
        return (inputs, targets)
    }

    func lossAndGradients(sources: [Int], targets: [Int], batch B: Int) -> Double {
        let rows = nextTokenRows(sources: sources, targets: targets, batch: B)
        return nextTokenLossAndGradients(inputs: rows.inputs, targets: rows.targets, batch: B)
    }

    /// The inputs of the last `trainingLogits`, for `backward(dLogits:)`.
    private var lastInputs: [Int] = []

    /// Logits at every position of the next-token rows: (B·T, V).
    func trainingLogits(sources: [Int], targets: [Int], batch B: Int) -> [Float] {
        lastInputs = nextTokenRows(sources: sources, targets: targets, batch: B).inputs
        return forwardLogits(inputs: lastInputs, batch: B)
    }

    func backward(dLogits: [Float]) {
        backward(dLogits: dLogits, inputs: lastInputs, batch: lastInputs.count / time)
    }

    /// Greedy answers: L forward passes, each filling in the next answer token. Positions not yet
    /// filled hold 0; the causal mask keeps them from affecting the positions being read.
    func predict(sources: [Int], batch B: Int) -> (answers: [Int], attention: [[Float]]) {
        let L = length, T = time, V = vocabulary
        var inputs = [Int](repeating: 0, count: B * T)
        for b in 0..<B { for t in 0..<L { inputs[b * T + t] = sources[b * L + t] } }
        var answers = [Int](repeating: 0, count: B * L)
        for t in 0..<L {
            let logits = forwardLogits(inputs: inputs, batch: B)
            for b in 0..<B {
                let guess = argmax(logits, offset: (b * T + L - 1 + t) * V, count: V)
                answers[b * L + t] = guess
                if L + t < T { inputs[b * T + L + t] = guess }
            }
        }
        // attention of the answer queries (rows L−1 … 2L−2) over the source keys (columns 0..<L),
        // one (B, L, L) map per head of every layer, from the last pass (all answers in place)
        var maps: [[Float]] = []
        for block in blocks {
            let p = block.attention.probabilities, H = block.attention.heads
            for h in 0..<H {
                var map = [Float](repeating: 0, count: B * L * L)
                for b in 0..<B {
                    for t in 0..<L {
                        let row = ((b * H + h) * T + L - 1 + t) * T
                        for j in 0..<L { map[(b * L + t) * L + j] = p[row + j] }
                    }
                }
                maps.append(map)
            }
        }
        return (answers, maps)
    }
}
