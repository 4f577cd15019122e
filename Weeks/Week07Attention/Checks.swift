// Part 3 and the checks of every backward of this week, against centred finite differences on
// the real code path (DESIGN.md: L = Σ out ⊙ dOut with a seeded random dOut, ‖a − n‖/(‖a‖ + ‖n‖)
// below 1e-3): the attention function (one head and several, each mask), the multi-head layer,
// skip-gram, and whole toy models (every parameter). The program runs them before training; the
// tests assert on them.
import Shared

/// The masks the attention checks go through. Tq = Tk except for the offset case.
func attentionMaskCases(batch B: Int, keys Tk: Int) -> [(name: String, mask: AttentionMask, queries: Int)] {
    let lengths = (0..<B).map { b in b == 0 ? 0 : max(1, Tk - b) }   // sequence 0 fully padded
    return [("no mask", .none, Tk),
            ("causal", AttentionMask(causal: true), Tk),
            ("causal, query offset 2", AttentionMask(causal: true, queryOffset: 2), Tk - 2),
            ("padding (one sequence fully masked)", AttentionMask(keyLengths: lengths), Tk),
            ("causal + padding", AttentionMask(causal: true, keyLengths: lengths), Tk)]
}

/// The attention function's backward for one shape and mask: dQuery, dKey and dValue, every entry.
func checkAttentionBackward(name: String, shape: AttentionShape, mask: AttentionMask, seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let B = shape.batch, H = shape.heads, Tq = shape.queryTime, Tk = shape.keyTime, D = shape.headSize
    var query = rng.gaussians(B * H * Tq * D), key = rng.gaussians(B * H * Tk * D), value = rng.gaussians(B * H * Tk * D)
    let dOut = rng.gaussians(B * H * Tq * D)
    func forward() -> (out: [Float], probabilities: [Float]) {
        var out = [Float](repeating: 0, count: B * H * Tq * D), probabilities = [Float](repeating: 0, count: B * H * Tq * Tk)
        scaledDotProductAttentionForward(&out, probabilities: &probabilities, query: query, key: key, value: value,
                                         shape: shape, mask: mask)
        return (out, probabilities)
    }
    let saved = forward()
    var dQuery = [Float](repeating: 0, count: query.count), dKey = [Float](repeating: 0, count: key.count)
    var dValue = [Float](repeating: 0, count: value.count)
    scaledDotProductAttentionBackward(dQuery: &dQuery, dKey: &dKey, dValue: &dValue, dOut: dOut, query: query, key: key,
                                      value: value, probabilities: saved.probabilities, shape: shape)
    let loss = { projected(forward().out, onto: dOut) }
    return [
        checkGradient("\(name): dQuery", analytic: dQuery,
                      numeric: numericGradient(count: query.count, get: { query[$0] }, set: { query[$0] = $1 }, loss: loss)),
        checkGradient("\(name): dKey", analytic: dKey,
                      numeric: numericGradient(count: key.count, get: { key[$0] }, set: { key[$0] = $1 }, loss: loss)),
        checkGradient("\(name): dValue", analytic: dValue,
                      numeric: numericGradient(count: value.count, get: { value[$0] }, set: { value[$0] = $1 }, loss: loss)),
    ]
}

/// Every attention check of part 3: one head (H = 1) and three heads, under each mask; then the
/// multi-head layer (its four parameters and dX).
func checkAttention(seed: UInt64) -> [GradientCheckResult] {
    var results: [GradientCheckResult] = []
    for (heads, label) in [(1, "1 head"), (3, "3 heads")] {
        for (index, maskCase) in attentionMaskCases(batch: 3, keys: 6).enumerated() {
            let shape = AttentionShape(batch: 3, heads: heads, queryTime: maskCase.queries, keyTime: 6, headSize: 4)
            results += checkAttentionBackward(name: "\(label), \(maskCase.name)", shape: shape, mask: maskCase.mask,
                                              seed: seed &+ UInt64(10 * heads + index))
        }
    }
    return results + checkMultiHeadLayer(seed: seed &+ 99)
}

/// The MultiHeadSelfAttention module (causal, with padding): every parameter entry and dX.
func checkMultiHeadLayer(seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let B = 2, T = 5, C = 6
    let layer = MultiHeadSelfAttention(embedding: C, heads: 3, time: T,
                                       mask: AttentionMask(causal: true, keyLengths: [5, 3]), name: "attn", rng: &rng)
    // non-zero biases, so their gradients are exercised through a non-trivial path
    for p in layer.parameters { p.value = rng.gaussians(p.count, std: 0.5) }
    var x = rng.gaussians(B * T * C)
    let dOut = rng.gaussians(B * T * C)
    layer.zeroGrad()
    _ = layer.forward(x, rows: B * T)
    let dX = layer.backward(dOut)
    let loss = { projected(layer.forward(x, rows: B * T), onto: dOut) }
    var results = layer.parameters.map { p in
        checkGradient("multi-head layer: \(p.name)", analytic: p.grad,
                      numeric: numericGradient(count: p.count, get: { p.value[$0] }, set: { p.value[$0] = $1 }, loss: loss))
    }
    results.append(checkGradient("multi-head layer: dX", analytic: dX,
                                 numeric: numericGradient(count: x.count, get: { x[$0] }, set: { x[$0] = $1 }, loss: loss)))
    return results
}

/// The skip-gram loss: input and output vectors, every entry (V 7, D 5, 4 pairs, K 3).
func checkSkipGram(seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let V = 7, D = 5, K = 3, N = 4
    var input = rng.gaussians(V * D), output = rng.gaussians(V * D)
    let inputs = (0..<N).map { _ in rng.int(below: V) }, outputs = (0..<N).map { _ in rng.int(below: V) }
    let negatives = (0..<(N * K)).map { _ in rng.int(below: V) }
    let dLosses = rng.gaussians(N)
    func losses() -> [Float] {
        skipGramLossForward(inputVectors: input, outputVectors: output, dimension: D, inputs: inputs, outputs: outputs,
                            negatives: negatives, negativeCount: K)
    }
    var dInput = [Float](repeating: 0, count: V * D), dOutput = [Float](repeating: 0, count: V * D)
    skipGramLossBackward(dInputVectors: &dInput, dOutputVectors: &dOutput, dLosses: dLosses, inputVectors: input,
                         outputVectors: output, dimension: D, inputs: inputs, outputs: outputs, negatives: negatives,
                         negativeCount: K)
    let loss = { projected(losses(), onto: dLosses) }
    return [
        checkGradient("skip-gram: input vectors", analytic: dInput,
                      numeric: numericGradient(count: input.count, get: { input[$0] }, set: { input[$0] = $1 }, loss: loss)),
        checkGradient("skip-gram: output vectors", analytic: dOutput,
                      numeric: numericGradient(count: output.count, get: { output[$0] }, set: { output[$0] = $1 }, loss: loss)),
    ]
}

/// A whole toy model on one small batch: every parameter, up to 30 sampled entries each,
/// through the teacher-forced logits with L = Σ logits ⊙ dOut (a seeded random dOut).
/// Every parameter is first re-drawn from N(0, scale²). At the initial values some gradients
/// are tiny (embeddings of 0.02 under LayerNorm, a near-uniform attention whose W_q barely
/// matters), no larger than the Float32 rounding of L (~1e-7 of its size) over 2h. The point
/// checked does not change the math, only which terms are large enough to be seen: the LSTM
/// model takes scale 1, with W_q at 3 so that its attention is sharp enough for W_q to matter
/// (at 1 its gradient is ~3e-3, near the rounding); the Transformer takes 0.5, since
/// at 1 its softmaxes are so peaked that h = 1e-2 is no longer small. h = 1e-2 keeps the
/// rounding of L over 2h well below the gradients.
func checkToyModel(_ model: ToyModel, name: String, length L: Int, batch B: Int, seed: UInt64,
                   scale: (Parameter) -> Float) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let sources = SequenceTasks.randomSources(batchSize: B, length: L, vocabularySize: 10, rng: &rng)
    var targets: [Int] = []
    for b in 0..<B { targets += SequenceTask.reverse.target(for: Array(sources[(b * L)..<((b + 1) * L)])) }
    for p in model.parameters { p.value = rng.gaussians(p.count, std: scale(p)) }
    let dOut = rng.gaussians(model.trainingLogits(sources: sources, targets: targets, batch: B).count)
    model.parameters.zeroGrad()
    _ = model.trainingLogits(sources: sources, targets: targets, batch: B)
    model.backward(dLogits: dOut)
    let analytic = model.parameters.map(\.grad)
    let loss = { projected(model.trainingLogits(sources: sources, targets: targets, batch: B), onto: dOut) }
    var results: [GradientCheckResult] = []
    for (p, grad) in zip(model.parameters, analytic) {
        let indices = sampledIndices(30, of: p.count, rng: &rng)
        let numeric = numericGradient(count: p.count, get: { p.value[$0] }, set: { p.value[$0] = $1 }, loss: loss,
                                      step: 1e-2, indices: indices)
        results.append(checkGradient("\(name): \(p.name)", analytic: grad, numeric: numeric, indices: indices))
    }
    return results
}

/// The toy models' checks: LSTM encoder–decoder with attention, and the Transformer with
/// learned positions (tiny sizes).
func checkToyModels(seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let seq2seq = LSTMEncoderDecoder(vocabulary: 10, hidden: 6, attention: true, rng: &rng)
    let transformer = ToyTransformer(vocabulary: 10, length: 4, embedding: 8, heads: 2, layers: 2, positions: .learned, rng: &rng)
    return checkToyModel(seq2seq, name: "LSTM + attention", length: 5, batch: 3, seed: seed &+ 1) { $0 === seq2seq.queryWeight ? 3 : 1 }
        + checkToyModel(transformer, name: "Transformer", length: 4, batch: 3, seed: seed &+ 2) { _ in 0.5 }
}

/// The attention function against the naive triple loop at awkward sizes, each mask: the
/// largest absolute difference of outputs and of weights.
func compareAttentionWithNaive(seed: UInt64) -> (worstDifference: Float, cases: Int) {
    var rng = SplitMix64(seed: seed)
    var worst: Float = 0, cases = 0
    for (B, H, T, D) in [(1, 1, 1, 1), (2, 3, 7, 5), (1, 2, 33, 16), (2, 1, 127, 8), (1, 4, 64, 32)] {
        for maskCase in attentionMaskCases(batch: B, keys: T) where maskCase.queries >= 1 {
            let shape = AttentionShape(batch: B, heads: H, queryTime: maskCase.queries, keyTime: T, headSize: D)
            let q = rng.gaussians(B * H * maskCase.queries * D), k = rng.gaussians(B * H * T * D), v = rng.gaussians(B * H * T * D)
            var out = [Float](repeating: 0, count: q.count), p = [Float](repeating: 0, count: B * H * maskCase.queries * T)
            scaledDotProductAttentionForward(&out, probabilities: &p, query: q, key: k, value: v, shape: shape, mask: maskCase.mask)
            let reference = scaledDotProductAttentionNaive(query: q, key: k, value: v, shape: shape, mask: maskCase.mask)
            for i in 0..<out.count { worst = max(worst, abs(out[i] - reference.out[i])) }
            for i in 0..<p.count { worst = max(worst, abs(p[i] - reference.probabilities[i])) }
            if out.contains(where: { !$0.isFinite }) { worst = .infinity }
            cases += 1
        }
    }
    return (worst, cases)
}
