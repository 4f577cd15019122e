// Scaled dot-product attention, forward and backward, the one pair every attention in the book
// calls: week 7's MultiHeadSelfAttention, the GPT's training pass and its KV-cache decoding.
//   out = softmax(Q·Kᵀ/√D + mask)·V, per (batch, head)
// Q, K and V are read token-major, as the projections produce them: position i of batch entry
// b is one row, and head h owns D consecutive columns of it, so a fused (B, T, 3C) q|k|v buffer
// is read in place (query = qkv, key = qkv + C, value = qkv + 2C, row stride 3C) and the output
// lands in (B, T, C) with no permute copies. Each (batch, head) pair runs its three steps
// (scores, masked softmax, weighted sum) on one thread while its T×T block is in cache; the
// B·H pairs are spread across cores.
// Reference: Vaswani et al. https://arxiv.org/abs/1706.03762, section 3.2; llm.c attention_forward.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which keys each query may see. A masked score is −∞ before the softmax, so it gets weight 0.
///   causal: query i sits at absolute position queryOffset + i and sees keys 0...queryOffset + i.
///           queryOffset > 0 when the queries are the last Tq of a longer sequence: decoding
///           with a cache of Tk keys and Tq new queries has queryOffset = Tk − Tq.
///   keyLengths: (B), optional. In sequence b only keys 0..<keyLengths[b] are real; the rest is
///           padding that nobody may attend to.
/// Either way the visible keys of a row are a prefix 0..<visible of the Tk keys. A row that can
/// see no key at all (keyLengths[b] = 0) gets all-zero weights and a zero output, never NaN (0/0).
public struct AttentionMask: Equatable, Sendable {
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

    /// Keys 0..<visibleKeys(...) are visible to query i of sequence b (out of Tk keys).
    @inlinable
    public func visibleKeys(batch b: Int, query i: Int, keys Tk: Int) -> Int {
        var visible = Tk
        if causal { visible = min(visible, queryOffset + i + 1) }
        if let keyLengths { visible = min(visible, keyLengths[b]) }
        return max(0, visible)
    }
}

/// Where the rows of Q, K, V and the output sit, and how many there are.
///   Row i of batch entry b of an operand starts (b·rows + i)·rowStride values in; head h is
///   columns h·D ..< (h + 1)·D of the row. Tq query rows and output rows, Tk key and value rows.
public struct AttentionLayout: Equatable, Sendable {
    public var batch: Int, heads: Int, queries: Int, keys: Int, headSize: Int
    public var queryRowStride: Int, keyRowStride: Int, valueRowStride: Int, outRowStride: Int

    /// batch B, heads H, queries Tq, keys Tk, head size D; every row stride defaults to H·D.
    public init(batch B: Int, heads H: Int, queries Tq: Int, keys Tk: Int, headSize D: Int,
                queryRowStride: Int? = nil, keyRowStride: Int? = nil, valueRowStride: Int? = nil,
                outRowStride: Int? = nil) {
        precondition(B >= 0 && H >= 1 && Tq >= 0 && Tk >= 0 && D >= 1,
                     "AttentionLayout: need B >= 0, H >= 1, Tq, Tk >= 0, D >= 1; got \(B), \(H), \(Tq), \(Tk), \(D)")
        batch = B; heads = H; queries = Tq; keys = Tk; headSize = D
        self.queryRowStride = queryRowStride ?? H * D
        self.keyRowStride = keyRowStride ?? H * D
        self.valueRowStride = valueRowStride ?? H * D
        self.outRowStride = outRowStride ?? H * D
        precondition(min(self.queryRowStride, self.keyRowStride, self.valueRowStride, self.outRowStride) >= H * D,
                     "AttentionLayout: a row stride is narrower than the H·D = \(H * D) columns of the heads")
    }

    /// The layout of causal self-attention over a fused q|k|v projection: qkv (B, T, 3C) read
    /// with row stride 3C, out (B, T, C).
    public static func fusedSelfAttention(batch B: Int, length T: Int, width C: Int, heads H: Int) -> AttentionLayout {
        AttentionLayout(batch: B, heads: H, queries: T, keys: T, headSize: C / H,
                        queryRowStride: 3 * C, keyRowStride: 3 * C, valueRowStride: 3 * C, outRowStride: C)
    }

    /// 1/√D: keeps the scores' variance near 1 when q and k have unit-variance entries, so the
    /// softmax does not saturate into a one-hot (whose gradient vanishes) as D grows.
    public var scale: Float { 1 / Float(headSize).squareRoot() }
    /// Values in the (B, H, Tq, Tk) weights buffer.
    public var weightCount: Int { batch * heads * queries * keys }

    /// Pairs run on one thread when there is less work than this (multiply-adds of both
    /// products): one decoded token's attention is cheaper than waking a second core.
    static let minimumParallelWork = 65_536
    var threadsToUse: Int? { 2 * weightCount * headSize < AttentionLayout.minimumParallelWork ? 1 : nil }
}

/// Attention forward.
///   out[b, i, h·D ..< (h+1)·D] = Σ_j weights[b, h, i, j] · v[b, j, h·D ..< (h+1)·D]
///   probs[b, h, i, :] = softmax over the visible keys of q[b, i, h]·k[b, j, h] / √D, 0 elsewhere
///   query: Tq rows, key, value: Tk rows, out: Tq rows (strides from `layout`); out's head
///   columns are overwritten, any other columns of a wider row are left alone.
///   probs: (B, H, Tq, Tk), overwritten (kept for the backward and for attention maps).
///   dropout: optional (mask, weights), both (B, H, Tq, Tk): weights = probs ⊙ mask is written
///   and used in place of probs (the mask from `dropoutMask`, drawn by the caller).
public func attentionForward(_ out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                             query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                             layout: AttentionLayout, mask: AttentionMask,
                             dropout: (mask: UnsafePointer<Float>, weights: UnsafeMutablePointer<Float>)? = nil) {
    let B = layout.batch, H = layout.heads, Tq = layout.queries, Tk = layout.keys, D = layout.headSize
    if let lengths = mask.keyLengths {
        precondition(lengths.count == B && lengths.allSatisfy { $0 >= 0 && $0 <= Tk },
                     "attentionForward: keyLengths needs \(B) lengths in 0...\(Tk), got \(lengths)")
    }
    parallelFor(B * H, threads: layout.threadsToUse) { pair in
        let b = pair / H, h = pair % H
        let q = query + b * Tq * layout.queryRowStride + h * D
        let k = key + b * Tk * layout.keyRowStride + h * D
        let v = value + b * Tk * layout.valueRowStride + h * D
        let o = out + b * Tq * layout.outRowStride + h * D
        let p = probs + pair * Tq * Tk
        // pass 1: scores = q·kᵀ/√D, (Tq, D)·(D, Tk), the 1/√D folded into alpha
        if Tk > 0 {
            gemm(transposeB: true, m: Tq, n: Tk, k: D, alpha: layout.scale, a: q, lda: layout.queryRowStride,
                 b: k, ldb: layout.keyRowStride, c: p, ldc: Tk, threads: 1)
        }
        // pass 2: softmax over each row's visible prefix; the masked rest is exactly 0
        for i in 0..<Tq {
            let row = p + i * Tk
            let visible = mask.visibleKeys(batch: b, query: i, keys: Tk)
            if visible > 0 { _ = softmaxRow(row, row, visible: visible) }
            for j in visible..<Tk { row[j] = 0 }
        }
        var used = UnsafePointer(p)
        if let dropout {
            let w = dropout.weights + pair * Tq * Tk, m = dropout.mask + pair * Tq * Tk
            for n in 0..<(Tq * Tk) { w[n] = p[n] * m[n] }
            used = UnsafePointer(w)
        }
        // pass 3: out = weights·v, (Tq, Tk)·(Tk, D), into this head's D columns
        gemm(m: Tq, n: D, k: Tk, a: used, lda: Tk, b: v, ldb: layout.valueRowStride,
             c: o, ldc: layout.outRowStride, threads: 1)
    }
}

/// Backward of `attentionForward`. Adds into dQuery, dKey and dValue (laid out as query, key
/// and value); scratch (B, H, Tq, Tk) is overwritten. With W the weights used (probs, or
/// probs ⊙ mask with dropout), walking the forward's passes in reverse:
///   pass 3 was out = W·v          ->  dW = dOut·vᵀ (Tq, Tk)      dv += Wᵀ·dOut (Tk, D)
///   (dropout: W = probs ⊙ mask    ->  dProbs = dW ⊙ mask)
///   pass 2 was probs = softmax    ->  dScores = probs ⊙ (dProbs − Σ_j probs·dProbs), row by row
///                                     over the visible keys (masked keys have probs 0: no gradient)
///   pass 1 was scores = q·kᵀ/√D   ->  dq += dScores·k/√D (Tq, D)   dk += dScoresᵀ·q/√D (Tk, D)
///   dOut: laid out as out.   probs (and dropout's mask and weights): from the forward.
public func attentionBackward(dQuery: UnsafeMutablePointer<Float>, dKey: UnsafeMutablePointer<Float>,
                              dValue: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                              dOut: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                              query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                              layout: AttentionLayout, mask: AttentionMask,
                              dropout: (mask: UnsafePointer<Float>, weights: UnsafePointer<Float>)? = nil) {
    let B = layout.batch, H = layout.heads, Tq = layout.queries, Tk = layout.keys, D = layout.headSize
    if Tk == 0 { return }
    let qs = layout.queryRowStride, ks = layout.keyRowStride, vs = layout.valueRowStride, os = layout.outRowStride
    parallelFor(B * H, threads: layout.threadsToUse) { pair in
        let b = pair / H, h = pair % H
        let q = query + b * Tq * qs + h * D, dq = dQuery + b * Tq * qs + h * D
        let k = key + b * Tk * ks + h * D, dk = dKey + b * Tk * ks + h * D
        let v = value + b * Tk * vs + h * D, dv = dValue + b * Tk * vs + h * D
        let dO = dOut + b * Tq * os + h * D
        let p = probs + pair * Tq * Tk
        let used = (dropout?.weights ?? probs) + pair * Tq * Tk
        let dS = scratch + pair * Tq * Tk
        // pass 3 was out = W·v
        gemm(transposeB: true, m: Tq, n: Tk, k: D, a: dO, lda: os, b: v, ldb: vs, c: dS, ldc: Tk, threads: 1)
        gemm(transposeA: true, m: Tk, n: D, k: Tq, a: used, lda: Tk, b: dO, ldb: os, beta: 1,
             c: dv, ldc: vs, threads: 1)
        if let dropout {
            let m = dropout.mask + pair * Tq * Tk
            for n in 0..<(Tq * Tk) { dS[n] *= m[n] }
        }
        // pass 2 was probs = softmax(scores) over each row's visible keys
        for i in 0..<Tq {
            let pRow = p + i * Tk, gRow = dS + i * Tk
            let visible = mask.visibleKeys(batch: b, query: i, keys: Tk)
            var dot: Float = 0
            for j in 0..<visible { dot += pRow[j] * gRow[j] }
            for j in 0..<visible { gRow[j] = pRow[j] * (gRow[j] - dot) }
            for j in visible..<Tk { gRow[j] = 0 }
        }
        // pass 1 was scores = q·kᵀ/√D
        gemm(m: Tq, n: D, k: Tk, alpha: layout.scale, a: dS, lda: Tk, b: k, ldb: ks, beta: 1,
             c: dq, ldc: qs, threads: 1)
        gemm(transposeA: true, m: Tk, n: D, k: Tq, alpha: layout.scale, a: dS, lda: Tk, b: q, ldb: qs, beta: 1,
             c: dk, ldc: ks, threads: 1)
    }
}

/// The reference for `attentionForward`: the definition as plain loops in Double, on the same
/// layout and mask. Returns out (Tq rows of H·D, contiguous) and probs (B, H, Tq, Tk).
public func attentionForwardNaive(query: [Float], key: [Float], value: [Float], layout: AttentionLayout,
                                  mask: AttentionMask) -> (out: [Float], probs: [Float]) {
    let B = layout.batch, H = layout.heads, Tq = layout.queries, Tk = layout.keys, D = layout.headSize
    var out = [Float](repeating: 0, count: B * Tq * H * D)
    var probs = [Float](repeating: 0, count: B * H * Tq * Tk)
    let scale = 1 / Double(D).squareRoot()
    for b in 0..<B {
        for h in 0..<H {
            for i in 0..<Tq {
                let visible = mask.visibleKeys(batch: b, query: i, keys: Tk)
                if visible == 0 { continue }
                var scores = [Double](repeating: 0, count: visible)
                for j in 0..<visible {
                    var dot = 0.0
                    for d in 0..<D {
                        dot += Double(query[(b * Tq + i) * layout.queryRowStride + h * D + d])
                            * Double(key[(b * Tk + j) * layout.keyRowStride + h * D + d])
                    }
                    scores[j] = dot * scale
                }
                let top = scores.max()!
                let weights = scores.map { exp($0 - top) }
                let sum = weights.reduce(0, +)
                for j in 0..<visible {
                    let p = weights[j] / sum
                    probs[((b * H + h) * Tq + i) * Tk + j] = Float(p)
                    for d in 0..<D {
                        out[(b * Tq + i) * H * D + h * D + d] += Float(p * Double(value[(b * Tk + j) * layout.valueRowStride + h * D + d]))
                    }
                }
            }
        }
    }
    return (out, probs)
}
