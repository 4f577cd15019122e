// The two matrix products of attention, for all batches and heads at once (weeks 7-9):
//   scores = q·kᵀ·scale        out = att·v
// One strided batched GEMM does both: every (batch, head) pair names a matrix by a batch
// stride, a head stride and a row stride per operand, so Q, K and V are read straight out of
// a fused (B, T, 3C) projection and the output is written into (B, T, C), with no permute
// copies. The B·H independent pairs are spread across cores with `parallelFor`. (The softmax
// in between lives in Softmax.swift.)
// Reference: Vaswani et al. https://arxiv.org/abs/1706.03762, section 3.2.1.

/// For every b in 0..<batch and h in 0..<heads:  C_bh = α·op(A_bh)·op(B_bh) + β·C_bh,
/// where matrix X_bh starts at X + b·batchStrideX + h·headStrideX and its rows are ldX apart:
///   op(A_bh): (M, K) — A_bh stored (M, K), or (K, M) when transposeA
///   op(B_bh): (K, N) — B_bh stored (K, N), or (N, K) when transposeB
///   C_bh:     (M, N); β = 0 overwrites, β = 1 accumulates.
/// Example, attention scores from a fused QKV buffer (B, T, 3C) with H heads of D = C/H:
/// Q_bh = qkv + b·T·3C + h·D and K_bh = that + C, both with ld 3C, batch stride T·3C and
/// head stride D. The C_bh must not overlap (each pair is written by one thread).
/// Each pair is one single-threaded `gemm`, and the pairs are split across cores, so the
/// result does not depend on the thread count.
public func batchedGemm(transposeA: Bool = false, transposeB: Bool = false,
                        batch: Int, heads: Int = 1, m M: Int, n N: Int, k K: Int,
                        alpha: Float = 1,
                        a A: UnsafePointer<Float>, lda: Int, batchStrideA: Int, headStrideA: Int = 0,
                        b B: UnsafePointer<Float>, ldb: Int, batchStrideB: Int, headStrideB: Int = 0,
                        beta: Float = 0,
                        c C: UnsafeMutablePointer<Float>, ldc: Int, batchStrideC: Int, headStrideC: Int = 0) {
    precondition(batch >= 0 && heads >= 0, "batchedGemm: negative batch \(batch) or heads \(heads)")
    if batch == 0 || heads == 0 || M == 0 || N == 0 { return }
    parallelFor(batch * heads) { pair in
        let b = pair / heads, h = pair % heads
        gemm(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K, alpha: alpha,
             a: A + b * batchStrideA + h * headStrideA, lda: lda,
             b: B + b * batchStrideB + h * headStrideB, ldb: ldb,
             beta: beta, c: C + b * batchStrideC + h * headStrideC, ldc: ldc, threads: 1)
    }
}

/// For every i in 0..<batch: c_i = α·op(a_i)·op(b_i) + β·c_i, where a_i, b_i, c_i are the
/// i-th matrices of contiguous stacks (`batchedGemm` with dense strides).
///   a: (batch, M, K), or (batch, K, M) when transposeA
///   b: (batch, K, N), or (batch, N, K) when transposeB
///   c: (batch, M, N); β = 0 overwrites, β = 1 accumulates.
public func batchedMatmul(_ c: inout [Float], _ a: [Float], _ b: [Float], batch: Int,
                          m M: Int, n N: Int, k K: Int,
                          transposeA: Bool = false, transposeB: Bool = false,
                          alpha: Float = 1, beta: Float = 0) {
    requireCount(a, batch * M * K, "batchedMatmul: a")
    requireCount(b, batch * K * N, "batchedMatmul: b")
    requireCount(c, batch * M * N, "batchedMatmul: c")
    if batch == 0 || M == 0 || N == 0 { return }
    // the i-th matrices start M·K, K·N and M·N values further on
    batchedGemm(transposeA: transposeA, transposeB: transposeB, batch: batch, m: M, n: N, k: K,
                alpha: alpha,
                a: a, lda: max(1, transposeA ? M : K), batchStrideA: M * K,
                b: b, ldb: max(1, transposeB ? K : N), batchStrideB: K * N,
                beta: beta, c: &c, ldc: N, batchStrideC: M * N)
}

// MARK: - Attention on token-major buffers

// The pointer forms below take Q, K, V and the output token-major, as the projections produce
// them: position t of batch entry b is one row, and head h owns D consecutive columns of it.
//   query: row (b, i) at query + (b·Tq + i)·queryRowStride, head h at column h·D
//   key, value: row (b, j) at key + (b·Tk + j)·keyRowStride (value: valueRowStride)
//   out: row (b, i) at out + (b·Tq + i)·outRowStride
// For a fused (B, T, 3C) buffer: query = qkv, key = qkv + C, value = qkv + 2C, strides 3C;
// for a (B, T, C) output: outRowStride C. Scores and attention weights are (B, H, Tq, Tk).

/// scores[b, h, i, j] = scale · Σ_d q[b, i, h·D + d]·k[b, j, h·D + d].
///   scores: (B, H, Tq, Tk), overwritten.   scale: usually 1/√D.
/// Every (i, j) pair is computed; a masked softmax afterwards gives the masked ones weight 0.
public func attentionScoresForward(_ scores: UnsafeMutablePointer<Float>,
                                   query: UnsafePointer<Float>, queryRowStride: Int,
                                   key: UnsafePointer<Float>, keyRowStride: Int,
                                   batch B: Int, heads H: Int, queries Tq: Int, keys Tk: Int,
                                   headSize D: Int, scale: Float) {
    // per (b, h): scores (Tq, Tk) = scale · q (Tq, D) · kᵀ (D, Tk)
    batchedGemm(transposeB: true, batch: B, heads: H, m: Tq, n: Tk, k: D, alpha: scale,
                a: query, lda: queryRowStride, batchStrideA: Tq * queryRowStride, headStrideA: D,
                b: key, ldb: keyRowStride, batchStrideB: Tk * keyRowStride, headStrideB: D,
                beta: 0, c: scores, ldc: Tk, batchStrideC: H * Tq * Tk, headStrideC: Tq * Tk)
}

/// Backward of the token-major `attentionScoresForward`. Adds into dQuery and dKey, which
/// have the layouts (and strides) of query and key (for a fused dQKV buffer: dQuery = dqkv,
/// dKey = dqkv + C, strides 3C).
/// forward: S = scale · Q·Kᵀ per (b, h), so
///   dQ += scale · dS·K        dK += scale · dSᵀ·Q
///   dScores: (B, H, Tq, Tk)
public func attentionScoresBackward(dQuery: UnsafeMutablePointer<Float>, dKey: UnsafeMutablePointer<Float>,
                                    dScores: UnsafePointer<Float>,
                                    query: UnsafePointer<Float>, queryRowStride: Int,
                                    key: UnsafePointer<Float>, keyRowStride: Int,
                                    batch B: Int, heads H: Int, queries Tq: Int, keys Tk: Int,
                                    headSize D: Int, scale: Float) {
    // dQ (Tq, D) += scale · dS (Tq, Tk) · K (Tk, D)
    batchedGemm(batch: B, heads: H, m: Tq, n: D, k: Tk, alpha: scale,
                a: dScores, lda: Tk, batchStrideA: H * Tq * Tk, headStrideA: Tq * Tk,
                b: key, ldb: keyRowStride, batchStrideB: Tk * keyRowStride, headStrideB: D,
                beta: 1, c: dQuery, ldc: queryRowStride, batchStrideC: Tq * queryRowStride, headStrideC: D)
    // dK (Tk, D) += scale · dSᵀ (Tk, Tq) · Q (Tq, D)
    batchedGemm(transposeA: true, batch: B, heads: H, m: Tk, n: D, k: Tq, alpha: scale,
                a: dScores, lda: Tk, batchStrideA: H * Tq * Tk, headStrideA: Tq * Tk,
                b: query, ldb: queryRowStride, batchStrideB: Tq * queryRowStride, headStrideB: D,
                beta: 1, c: dKey, ldc: keyRowStride, batchStrideC: Tk * keyRowStride, headStrideC: D)
}

/// Weighted sum of values: out[b, i, h·D + d] = Σ_j att[b, h, i, j] · v[b, j, h·D + d].
///   attention: (B, H, Tq, Tk) (softmax rows)   out: token-major, head h's D columns
///   overwritten (the other columns of a wider row are left alone).
public func attentionValuesForward(_ out: UnsafeMutablePointer<Float>, outRowStride: Int,
                                   attention: UnsafePointer<Float>,
                                   value: UnsafePointer<Float>, valueRowStride: Int,
                                   batch B: Int, heads H: Int, queries Tq: Int, keys Tk: Int,
                                   headSize D: Int) {
    // per (b, h): out (Tq, D) = att (Tq, Tk) · v (Tk, D)
    batchedGemm(batch: B, heads: H, m: Tq, n: D, k: Tk,
                a: attention, lda: Tk, batchStrideA: H * Tq * Tk, headStrideA: Tq * Tk,
                b: value, ldb: valueRowStride, batchStrideB: Tk * valueRowStride, headStrideB: D,
                beta: 0, c: out, ldc: outRowStride, batchStrideC: Tq * outRowStride, headStrideC: D)
}

/// Backward of the token-major `attentionValuesForward`. Adds into dAttention (B, H, Tq, Tk)
/// and dValue (the layout and stride of value).
/// forward: O = A·V per (b, h), so
///   dA += dO·Vᵀ        dV += Aᵀ·dO
///   dOut: the layout and stride of out.
public func attentionValuesBackward(dAttention: UnsafeMutablePointer<Float>,
                                    dValue: UnsafeMutablePointer<Float>,
                                    dOut: UnsafePointer<Float>, outRowStride: Int,
                                    attention: UnsafePointer<Float>,
                                    value: UnsafePointer<Float>, valueRowStride: Int,
                                    batch B: Int, heads H: Int, queries Tq: Int, keys Tk: Int,
                                    headSize D: Int) {
    // dA (Tq, Tk) += dO (Tq, D) · Vᵀ (D, Tk)
    batchedGemm(transposeB: true, batch: B, heads: H, m: Tq, n: Tk, k: D,
                a: dOut, lda: outRowStride, batchStrideA: Tq * outRowStride, headStrideA: D,
                b: value, ldb: valueRowStride, batchStrideB: Tk * valueRowStride, headStrideB: D,
                beta: 1, c: dAttention, ldc: Tk, batchStrideC: H * Tq * Tk, headStrideC: Tq * Tk)
    // dV (Tk, D) += Aᵀ (Tk, Tq) · dO (Tq, D)
    batchedGemm(transposeA: true, batch: B, heads: H, m: Tk, n: D, k: Tq,
                a: attention, lda: Tk, batchStrideA: H * Tq * Tk, headStrideA: Tq * Tk,
                b: dOut, ldb: outRowStride, batchStrideB: Tq * outRowStride, headStrideB: D,
                beta: 1, c: dValue, ldc: valueRowStride, batchStrideC: Tk * valueRowStride, headStrideC: D)
}

// MARK: - Array forms on (B, H, T, D) stacks

/// Attention scores: scores[b, h, t, s] = scale · Σ_d q[b, h, t, d]·k[b, h, s, d].
///   query, key: (B, H, T, D)   scores: (B, H, T, T), overwritten.   scale: usually 1/√D.
/// Every (t, s) pair is computed; a causal softmax afterwards gives the masked ones weight 0.
public func attentionScoresForward(_ scores: inout [Float], query: [Float], key: [Float],
                                   batch B: Int, heads H: Int, time T: Int, headSize D: Int,
                                   scale: Float) {
    // per (b, h): scores (T, T) = scale · q (T, D) · kᵀ (D, T)
    batchedMatmul(&scores, query, key, batch: B * H, m: T, n: T, k: D,
                  transposeB: true, alpha: scale, beta: 0)
}

/// Backward of `attentionScoresForward`. Adds into dQuery and dKey.
/// forward: S = scale · Q·Kᵀ per (b, h), so
///   dQ += scale · dS·K        dK += scale · dSᵀ·Q
///   dQuery, dKey, query, key: (B, H, T, D)   dScores: (B, H, T, T)
public func attentionScoresBackward(dQuery: inout [Float], dKey: inout [Float], dScores: [Float],
                                    query: [Float], key: [Float],
                                    batch B: Int, heads H: Int, time T: Int, headSize D: Int,
                                    scale: Float) {
    // dQ (T, D) += scale · dS (T, T) · K (T, D)
    batchedMatmul(&dQuery, dScores, key, batch: B * H, m: T, n: D, k: T, alpha: scale, beta: 1)
    // dK (T, D) += scale · dSᵀ (T, T) · Q (T, D)
    batchedMatmul(&dKey, dScores, query, batch: B * H, m: T, n: D, k: T,
                  transposeA: true, alpha: scale, beta: 1)
}

/// Weighted sum of values: out[b, h, t, :] = Σ_s att[b, h, t, s] · v[b, h, s, :].
///   attention: (B, H, T, T) (softmax rows)   value: (B, H, T, D)   out: (B, H, T, D), overwritten.
public func attentionValuesForward(_ out: inout [Float], attention: [Float], value: [Float],
                                   batch B: Int, heads H: Int, time T: Int, headSize D: Int) {
    // per (b, h): out (T, D) = att (T, T) · v (T, D)
    batchedMatmul(&out, attention, value, batch: B * H, m: T, n: D, k: T, beta: 0)
}

/// Backward of `attentionValuesForward`. Adds into dAttention and dValue.
/// forward: O = A·V per (b, h), so
///   dA += dO·Vᵀ        dV += Aᵀ·dO
///   dAttention, attention: (B, H, T, T)   dValue, value, dOut: (B, H, T, D)
public func attentionValuesBackward(dAttention: inout [Float], dValue: inout [Float], dOut: [Float],
                                    attention: [Float], value: [Float],
                                    batch B: Int, heads H: Int, time T: Int, headSize D: Int) {
    // dA (T, T) += dO (T, D) · Vᵀ (D, T)
    batchedMatmul(&dAttention, dOut, value, batch: B * H, m: T, n: T, k: D,
                  transposeB: true, beta: 1)
    // dV (T, D) += Aᵀ (T, T) · dO (T, D)
    batchedMatmul(&dValue, attention, dOut, batch: B * H, m: T, n: D, k: T,
                  transposeA: true, beta: 1)
}
