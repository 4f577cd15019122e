// Scaled dot-product attention (weeks 7-9): every query position takes a weighted average of
// the value vectors, with weights softmax(q·kᵀ/√D) over the key positions it may see.
//   out = softmax(Q·Kᵀ/√D + mask)·V
// The function works on (B, H, T, D) tensors, so one call serves a single head (H = 1), many
// heads, self-attention (keys = queries' sequence) and cross-attention (a decoder reading an
// encoder: Tq ≠ Tk). `MultiHeadSelfAttention` wraps it as a Module: project, split the heads,
// attend, merge, project. Reference: Vaswani et al. 2017, https://arxiv.org/abs/1706.03762
// (sections 3.2.1-3.2.2); https://pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which keys each query may see. A masked score is −∞ before the softmax, so it gets weight 0.
///   causal: query t sits at absolute position t + queryOffset and sees keys 0...t + queryOffset
///           (queryOffset > 0 when the queries are the last Tq of a longer sequence, as in
///           decoding with a cache of earlier keys).
///   keyLengths: (B), optional. In sequence b only keys 0..<keyLengths[b] are real; the rest is
///           padding that nobody may attend to.
/// A query that can see no key at all (keyLengths[b] = 0) gets all-zero weights and a zero
/// output, never NaN (0/0).
public struct AttentionMask: Equatable {
    public var causal: Bool
    public var queryOffset: Int
    public var keyLengths: [Int]?

    public init(causal: Bool = false, queryOffset: Int = 0, keyLengths: [Int]? = nil) {
        precondition(queryOffset >= 0, "AttentionMask: queryOffset must be >= 0, got \(queryOffset)")
        self.causal = causal
        self.queryOffset = queryOffset
        self.keyLengths = keyLengths
    }

    public static let none = AttentionMask()

    /// Keys 0..<visibleKeys(...) are visible to query t of sequence b (out of Tk keys).
    @inline(__always)
    public func visibleKeys(batch b: Int, query t: Int, keys Tk: Int) -> Int {
        var visible = Tk
        if causal { visible = min(visible, t + queryOffset + 1) }
        if let keyLengths { visible = min(visible, keyLengths[b]) }
        return max(0, visible)
    }
}

/// The saved numbers of one attention forward that its backward needs.
///   probabilities: (B, H, Tq, Tk), the attention weights (0 where masked).
public struct AttentionShape: Equatable {
    public let batch: Int
    public let heads: Int
    public let queryTime: Int
    public let keyTime: Int
    public let headSize: Int

    public init(batch B: Int, heads H: Int, queryTime Tq: Int, keyTime Tk: Int, headSize D: Int) {
        precondition(B >= 0 && H >= 1 && Tq >= 0 && Tk >= 0 && D >= 1,
                     "AttentionShape: need B >= 0, H >= 1, T >= 0, D >= 1; got \(B), \(H), \(Tq), \(Tk), \(D)")
        batch = B; heads = H; queryTime = Tq; keyTime = Tk; headSize = D
    }

    /// 1/√D: keeps the scores' variance near 1 when q and k have unit-variance entries, so the
    /// softmax does not saturate into a one-hot (whose gradient vanishes) as D grows.
    public var scale: Float { 1 / Float(headSize).squareRoot() }
}

// MARK: - The function

/// out = softmax(Q·Kᵀ/√D + mask)·V, per (batch, head).
///   query: (B, H, Tq, D)   key, value: (B, H, Tk, D)
///   out: (B, H, Tq, D), overwritten   probabilities: (B, H, Tq, Tk), overwritten (keep it for
///   the backward and for attention maps).
public func scaledDotProductAttentionForward(_ out: inout [Float], probabilities: inout [Float],
                                             query: [Float], key: [Float], value: [Float],
                                             shape: AttentionShape, mask: AttentionMask = .none) {
    let B = shape.batch, H = shape.heads, Tq = shape.queryTime, Tk = shape.keyTime, D = shape.headSize
    requireCount(query, B * H * Tq * D, "attention: query")
    requireCount(key, B * H * Tk * D, "attention: key")
    requireCount(value, B * H * Tk * D, "attention: value")
    requireCount(out, B * H * Tq * D, "attention: out")
    requireCount(probabilities, B * H * Tq * Tk, "attention: probabilities")
    if let lengths = mask.keyLengths {
        precondition(lengths.count == B && lengths.allSatisfy { $0 >= 0 && $0 <= Tk },
                     "attention: keyLengths needs \(B) lengths in 0...\(Tk), got \(lengths)")
    }
    if B * H * Tq == 0 { return }
    if Tk == 0 { for i in 0..<out.count { out[i] = 0 }; return }
    // pass 1: scores S = Q·Kᵀ/√D (Tq, Tk) per (b, h), written where the probabilities go
    batchedMatmul(&probabilities, query, key, batch: B * H, m: Tq, n: Tk, k: D,
                  transposeB: true, alpha: shape.scale, beta: 0)
    // pass 2: the masked softmax of every row, in place
    maskedSoftmaxRowsInPlace(&probabilities, shape: shape, mask: mask)
    // pass 3: out = P·V (Tq, D) per (b, h); masked weights are 0, so padded values add nothing
    batchedMatmul(&out, probabilities, value, batch: B * H, m: Tq, n: D, k: Tk, beta: 0)
}

/// Backward of `scaledDotProductAttentionForward`. Adds into dQuery, dKey and dValue.
/// forward, per (b, h):  S = Q·Kᵀ/√D   P = softmax(S + mask) row-wise   O = P·V
///   dP = dO·Vᵀ                           (O = P·V)
///   dV += Pᵀ·dO
///   dS = P ⊙ (dP − Σ_s P·dP)  per row    (softmax' ; masked entries have P = 0, so dS = 0)
///   dQ += dS·K / √D       dK += dSᵀ·Q / √D   (S = Q·Kᵀ/√D)
///   dQuery, query: (B, H, Tq, D)   dKey, dValue, key, value: (B, H, Tk, D)
///   dOut: (B, H, Tq, D)   probabilities: (B, H, Tq, Tk) from the forward.
public func scaledDotProductAttentionBackward(dQuery: inout [Float], dKey: inout [Float], dValue: inout [Float],
                                              dOut: [Float], query: [Float], key: [Float], value: [Float],
                                              probabilities: [Float], shape: AttentionShape) {
    let B = shape.batch, H = shape.heads, Tq = shape.queryTime, Tk = shape.keyTime, D = shape.headSize
    requireCount(dQuery, B * H * Tq * D, "attention backward: dQuery")
    requireCount(dKey, B * H * Tk * D, "attention backward: dKey")
    requireCount(dValue, B * H * Tk * D, "attention backward: dValue")
    requireCount(dOut, B * H * Tq * D, "attention backward: dOut")
    requireCount(probabilities, B * H * Tq * Tk, "attention backward: probabilities")
    if B * H * Tq * Tk == 0 { return }
    // in the forward, pass 3 was O = P·V:  dP = dO·Vᵀ (Tq, Tk),  dV += Pᵀ·dO (Tk, D)
    var dProbabilities = [Float](repeating: 0, count: B * H * Tq * Tk)
    batchedMatmul(&dProbabilities, dOut, value, batch: B * H, m: Tq, n: Tk, k: D, transposeB: true, beta: 0)
    batchedMatmul(&dValue, probabilities, dOut, batch: B * H, m: Tk, n: D, k: Tq, transposeA: true, beta: 1)
    // pass 2 was the masked softmax: dS = P ⊙ (dP − Σ P·dP), row by row (masked P = 0 gives dS = 0)
    var dScores = [Float](repeating: 0, count: B * H * Tq * Tk)
    dScores.withUnsafeMutableBufferPointer { dS in
        dProbabilities.withUnsafeBufferPointer { dP in
            probabilities.withUnsafeBufferPointer { P in
                maskedSoftmaxBackward(dScores: dS.baseAddress!, dProbs: dP.baseAddress!, probs: P.baseAddress!,
                                      batch: B, heads: H, queries: Tq, keys: Tk)
            }
        }
    }
    // pass 1 was S = Q·Kᵀ/√D:  dQ += dS·K/√D (Tq, D),  dK += dSᵀ·Q/√D (Tk, D)
    batchedMatmul(&dQuery, dScores, key, batch: B * H, m: Tq, n: D, k: Tk, alpha: shape.scale, beta: 1)
    batchedMatmul(&dKey, dScores, query, batch: B * H, m: Tk, n: D, k: Tq, transposeA: true,
                  alpha: shape.scale, beta: 1)
}

/// The softmax of pass 2, with the mask, in place: Shared/Kernels/Softmax.swift's
/// `maskedSoftmaxForward` (a row that sees no key gets zeros). scores: (B, H, Tq, Tk).
func maskedSoftmaxRowsInPlace(_ scores: inout [Float], shape: AttentionShape, mask: AttentionMask) {
    scores.withUnsafeMutableBufferPointer { buffer in
        let p = buffer.baseAddress!
        let run = { (lengths: UnsafePointer<Int>?) in
            maskedSoftmaxForward(p, UnsafePointer(p), batch: shape.batch, heads: shape.heads, queries: shape.queryTime,
                                 keys: shape.keyTime, causal: mask.causal, queryOffset: mask.queryOffset, keyLengths: lengths)
        }
        if let lengths = mask.keyLengths { lengths.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
    }
}

/// The reference: three plain loops in Double, straight from the definition, with the same mask.
/// Shapes as `scaledDotProductAttentionForward`.
public func scaledDotProductAttentionNaive(query: [Float], key: [Float], value: [Float],
                                           shape: AttentionShape, mask: AttentionMask = .none)
    -> (out: [Float], probabilities: [Float])
{
    let B = shape.batch, H = shape.heads, Tq = shape.queryTime, Tk = shape.keyTime, D = shape.headSize
    var out = [Float](repeating: 0, count: B * H * Tq * D)
    var probabilities = [Float](repeating: 0, count: B * H * Tq * Tk)
    let scale = 1 / Double(D).squareRoot()
    for b in 0..<B {
        for h in 0..<H {
            let bh = b * H + h
            for t in 0..<Tq {
                let visible = mask.visibleKeys(batch: b, query: t, keys: Tk)
                if visible == 0 { continue }
                var scores = [Double](repeating: 0, count: visible)
                for s in 0..<visible {
                    var dot = 0.0
                    for d in 0..<D { dot += Double(query[(bh * Tq + t) * D + d]) * Double(key[(bh * Tk + s) * D + d]) }
                    scores[s] = dot * scale
                }
                let top = scores.max()!
                let weights = scores.map { exp($0 - top) }
                let sum = weights.reduce(0, +)
                for s in 0..<visible {
                    let p = weights[s] / sum
                    probabilities[(bh * Tq + t) * Tk + s] = Float(p)
                    for d in 0..<D { out[(bh * Tq + t) * D + d] += Float(p * Double(value[(bh * Tk + s) * D + d])) }
                }
            }
        }
    }
    return (out, probabilities)
}

// MARK: - Splitting and merging heads

/// (B, T, H·D) -> (B, H, T, D): head h of position t is columns h·D..<(h+1)·D of row t.
/// `columnOffset` and `rowWidth` pick one D·H-wide block out of wider rows (the q, k or v third
/// of a fused (B, T, 3C) projection).
public func splitHeads(_ x: [Float], batch B: Int, time T: Int, heads H: Int, headSize D: Int,
                       rowWidth: Int? = nil, columnOffset: Int = 0) -> [Float] {
    let width = rowWidth ?? H * D
    requireCount(x, B * T * width, "splitHeads: x")
    var out = [Float](repeating: 0, count: B * H * T * D)
    for b in 0..<B {
        for t in 0..<T {
            for h in 0..<H {
                let from = (b * T + t) * width + columnOffset + h * D, to = ((b * H + h) * T + t) * D
                for d in 0..<D { out[to + d] = x[from + d] }
            }
        }
    }
    return out
}

/// The inverse of `splitHeads`, adding: x[b, t, offset + h·D + d] += heads[b, h, t, d].
///   heads: (B, H, T, D)   x: (B, T, rowWidth)
public func mergeHeads(into x: inout [Float], _ heads: [Float], batch B: Int, time T: Int, heads H: Int,
                       headSize D: Int, rowWidth: Int? = nil, columnOffset: Int = 0) {
    let width = rowWidth ?? H * D
    requireCount(x, B * T * width, "mergeHeads: x")
    requireCount(heads, B * H * T * D, "mergeHeads: heads")
    for b in 0..<B {
        for t in 0..<T {
            for h in 0..<H {
                let to = (b * T + t) * width + columnOffset + h * D, from = ((b * H + h) * T + t) * D
                for d in 0..<D { x[to + d] += heads[from + d] }
            }
        }
    }
}

// MARK: - The layer

/// Multi-head self-attention as a Module (week 7's small Transformer):
///   qkv = x·W_attn + b_attn                     x: (B·T, C)   W_attn: (C, 3C), columns [q | k | v]
///   q, k, v split into H heads of D = C/H       (B, H, T, D) each
///   y_h = softmax(q_h·k_hᵀ/√D + mask)·v_h       every head attends on its own
///   out = concat_h(y_h)·W_proj + b_proj         W_proj: (C, C)   out: (B·T, C)
/// Parameters are named like nanoGPT's: "<name>.c_attn.weight", "<name>.c_proj.weight", ...
/// `forward(x, rows:)` takes rows = B·T with T = `time`; `mask` (causal, padding) applies to
/// every call until changed. The weights of the last forward stay readable in `probabilities`
/// (B, H, T, T) for attention maps.
public final class MultiHeadSelfAttention: Module {
    public let embedding: Int
    public let heads: Int
    public let time: Int
    public var mask: AttentionMask
    public let inputProjection: Linear
    public let outputProjection: Linear
    public var isTraining = true
    /// The cache of the last forward.
    public private(set) var probabilities: [Float] = []
    private var query: [Float] = [], key: [Float] = [], value: [Float] = []
    private var batch = 0

    public var headSize: Int { embedding / heads }
    public var parameters: [Parameter] { inputProjection.parameters + outputProjection.parameters }

    /// embedding C must be a multiple of heads H. The projections start N(0, 1/C) (xavier in
    /// fan-in form: there is no ReLU after them).
    public init(embedding C: Int, heads H: Int, time T: Int, mask: AttentionMask = .init(causal: true),
                name: String, rng: inout SplitMix64) {
        precondition(C >= 1 && H >= 1 && C % H == 0, "MultiHeadSelfAttention: embedding \(C) must be a positive multiple of heads \(H)")
        precondition(T >= 1, "MultiHeadSelfAttention: time must be positive, got \(T)")
        embedding = C
        heads = H
        time = T
        self.mask = mask
        inputProjection = Linear(C, 3 * C, name: name + ".c_attn", initialization: .xavier, rng: &rng)
        outputProjection = Linear(C, C, name: name + ".c_proj", initialization: .xavier, rng: &rng)
    }

    private var shape: AttentionShape {
        AttentionShape(batch: batch, heads: heads, queryTime: time, keyTime: time, headSize: headSize)
    }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        let C = embedding, T = time, H = heads, D = headSize
        precondition(rows % T == 0, "MultiHeadSelfAttention: \(rows) rows is not a whole number of sequences of \(T)")
        batch = rows / T
        let B = batch
        // project to q, k, v in one (B·T, C)x(C, 3C) product, then split each third into heads
        let qkv = inputProjection.forward(x, rows: rows)
        query = splitHeads(qkv, batch: B, time: T, heads: H, headSize: D, rowWidth: 3 * C, columnOffset: 0)
        key = splitHeads(qkv, batch: B, time: T, heads: H, headSize: D, rowWidth: 3 * C, columnOffset: C)
        value = splitHeads(qkv, batch: B, time: T, heads: H, headSize: D, rowWidth: 3 * C, columnOffset: 2 * C)
        // every head attends on its own
        var attended = [Float](repeating: 0, count: B * H * T * D)
        probabilities = [Float](repeating: 0, count: B * H * T * T)
        scaledDotProductAttentionForward(&attended, probabilities: &probabilities, query: query, key: key,
                                         value: value, shape: shape, mask: mask)
        // concatenate the heads back to (B·T, C) and mix them
        var merged = [Float](repeating: 0, count: B * T * C)
        mergeHeads(into: &merged, attended, batch: B, time: T, heads: H, headSize: D)
        return outputProjection.forward(merged, rows: rows)
    }

    /// Backward, the forward's steps in reverse: through W_proj, unmerge, attention backward per
    /// head, merge dq, dk, dv into d(qkv), through W_attn. Adds into the four parameters' grads.
    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        let C = embedding, T = time, H = heads, D = headSize, B = batch
        // out = merged·W_proj + b_proj
        let dMerged = outputProjection.backward(dOut, needsInputGradient: true)
        let dAttended = splitHeads(dMerged, batch: B, time: T, heads: H, headSize: D)
        var dQuery = [Float](repeating: 0, count: query.count)
        var dKey = [Float](repeating: 0, count: key.count), dValue = [Float](repeating: 0, count: value.count)
        scaledDotProductAttentionBackward(dQuery: &dQuery, dKey: &dKey, dValue: &dValue, dOut: dAttended,
                                          query: query, key: key, value: value,
                                          probabilities: probabilities, shape: shape)
        // qkv was split into three column blocks: their gradients go back to the same columns
        var dQKV = [Float](repeating: 0, count: B * T * 3 * C)
        mergeHeads(into: &dQKV, dQuery, batch: B, time: T, heads: H, headSize: D, rowWidth: 3 * C, columnOffset: 0)
        mergeHeads(into: &dQKV, dKey, batch: B, time: T, heads: H, headSize: D, rowWidth: 3 * C, columnOffset: C)
        mergeHeads(into: &dQKV, dValue, batch: B, time: T, heads: H, headSize: D, rowWidth: 3 * C, columnOffset: 2 * C)
        return inputProjection.backward(dQKV, needsInputGradient: needsInputGradient)
    }
}
