// The two matrix products of attention, for all batches and heads at once (weeks 7-9):
//   scores = q·kᵀ·scale        out = att·v
// Tensors are (B, H, T, D): for each (b, h) pair a contiguous (T, D) matrix, so one `gemm`
// per pair with a pointer offset does the work, and the B·H independent pairs are spread
// across cores with `parallelFor`. (The softmax in between lives in Softmax.swift.)
// Reference: Vaswani et al. https://arxiv.org/abs/1706.03762, section 3.2.1.

/// For every i in 0..<batch: c_i = α·op(a_i)·op(b_i) + β·c_i, where a_i, b_i, c_i are the
/// i-th matrices of contiguous stacks.
///   a: (batch, M, K), or (batch, K, M) when transposeA
///   b: (batch, K, N), or (batch, N, K) when transposeB
///   c: (batch, M, N); β = 0 overwrites, β = 1 accumulates.
/// Each batch entry is one single-threaded `gemm` writing only its own c_i, and the entries are
/// split across cores, so the result does not depend on the thread count.
public func batchedMatmul(_ c: inout [Float], _ a: [Float], _ b: [Float], batch: Int,
                          m M: Int, n N: Int, k K: Int,
                          transposeA: Bool = false, transposeB: Bool = false,
                          alpha: Float = 1, beta: Float = 0) {
    requireCount(a, batch * M * K, "batchedMatmul: a")
    requireCount(b, batch * K * N, "batchedMatmul: b")
    requireCount(c, batch * M * N, "batchedMatmul: c")
    if batch == 0 || M == 0 || N == 0 { return }
    a.withUnsafeBufferPointer { ab in
        b.withUnsafeBufferPointer { bb in
            c.withUnsafeMutableBufferPointer { cb in
                let a = ab.baseAddress!, b = bb.baseAddress!, c = cb.baseAddress!
                parallelFor(batch) { i in
                    // the i-th matrices start M·K, K·N and M·N values further on
                    gemm(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                         alpha: alpha,
                         a: a + i * M * K, lda: transposeA ? M : K,
                         b: b + i * K * N, ldb: transposeB ? K : N,
                         beta: beta, c: c + i * M * N, ldc: N, threads: 1)
                }
            }
        }
    }
}

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
