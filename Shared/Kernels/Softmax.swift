// Row-wise softmax, p = e^z / Σ e^z: turns scores into probabilities. Classifiers use it
// through the fused cross-entropy (CrossEntropy.swift); attention (Attention.swift) uses its
// row function over each query's visible keys.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Softmax.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax of one row over its first `visible` entries, written to p; returns log Σ e^z (the
/// log-sum-exp, which cross-entropy needs). z, p: (visible) values. visible >= 1.
/// Numerical trick: we subtract the row maximum before exponentiating. Softmax does not change
/// (the factor e^−max cancels), but now every exponent is <= 0, so e^z cannot overflow even for
/// logits of 1e4, and the largest term is exactly 1, so the sum cannot underflow to 0.
/// Each pass works on 16 values at a time; the last partial chunk is padded (with −∞ for the
/// max and the exponentials, so padding adds e^−∞ = 0 to the sum).
@inline(__always)
func softmaxRow(_ z: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Float>, visible: Int) -> Float {
    let full = visible - visible % 16          // entries covered by whole 16-wide chunks
    let rest = visible - full
    // pass 1: the maximum, for stability
    var maxima = SIMD16<Float>(repeating: -.infinity)
    for i in stride(from: 0, to: full, by: 16) { maxima = maximum16(maxima, load16(z + i)) }
    if rest > 0 { maxima = maximum16(maxima, load16(z + full, count: rest, fill: -.infinity)) }
    let maxValue = maxima.max()
    // pass 2: exponentiate the shifted scores and sum them
    var sums = SIMD16<Float>(repeating: 0)
    for i in stride(from: 0, to: full, by: 16) {
        let e = exp16(load16(z + i) - maxValue)
        store16(e, p + i)
        sums += e
    }
    if rest > 0 {
        let e = exp16(load16(z + full, count: rest, fill: -.infinity) - maxValue)
        store16(e, p + full, count: rest)
        sums += e
    }
    let sum = sums.sum()
    // pass 3: normalise
    let inverse = 1 / sum
    for i in stride(from: 0, to: full, by: 16) { store16(load16(p + i) * inverse, p + i) }
    for j in full..<visible { p[j] *= inverse }
    return maxValue + log(sum)
}

/// Rows per thread when a softmax is split across cores: enough rows for 32k values, as the
/// other elementwise kernels (`parallelRanges`). Each row is independent, so the result is
/// the same whichever thread computes it.
@inline(__always)
func softmaxRowsPerThread(cols C: Int) -> Int { max(1, 32_768 / max(C, 1)) }

/// probs[n, :] = softmax(logits[n, :]), numerically stable (row maximum subtracted).
///   logits, probs: (N, C), rows rowStride apart (default C); probs is overwritten and may be
///   the logits buffer itself.
/// causal: the rows are stacked T×T blocks with T = C (attention scores (B, H, T, T) seen as
/// (B·H·T, T)); row t of each block sees only columns 0...t, the rest get probability 0.
/// (Attention's masks, query offsets and padding are `attentionForward`'s, Attention.swift.)
public func softmaxForward(_ probs: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>,
                           rows N: Int, cols C: Int, causal: Bool = false, rowStride: Int? = nil) {
    let ld = rowStride ?? C
    precondition(N >= 0 && C >= 0 && ld >= C, "softmaxForward: bad shape (\(N), \(C)) with row stride \(ld)")
    precondition(C > 0 || N == 0, "softmaxForward: a row needs at least one column")
    precondition(!causal || N % max(C, 1) == 0,
                 "softmaxForward: causal needs rows (\(N)) to be a multiple of cols (\(C))")
    parallelRanges(N, minimumPerThread: softmaxRowsPerThread(cols: C)) { rows in
        for n in rows {
            let z = logits + n * ld, p = probs + n * ld
            // causal: row n is position t = n mod T of its block and sees 0...t
            let visible = causal ? n % C + 1 : C
            _ = softmaxRow(z, p, visible: visible)
            for j in visible..<C { p[j] = 0 }    // masked: e^−∞ = 0
        }
    }
}

/// Array form of `softmaxForward`: logits, probs (N, C), contiguous.
public func softmaxForward(_ probs: inout [Float], _ logits: [Float],
                           rows N: Int, cols C: Int, causal: Bool = false) {
    requireCount(logits, N * C, "softmaxForward: logits")
    requireCount(probs, N * C, "softmaxForward: probs")
    softmaxForward(&probs, logits, rows: N, cols: C, causal: causal, rowStride: C)
}

/// Backward of `softmaxForward`. Adds into dLogits.
/// forward: p_j = e^z_j / Σ_k e^z_k, whose Jacobian is ∂p_j/∂z_i = p_j(δ_ij − p_i), so
///   dz = p ⊙ (g − Σ_k p_k·g_k)        (g = dProbs, one row at a time)
/// Masked entries have p = 0, so they get no gradient (a fully masked row, all p = 0, gets
/// none at all); the mask needs no argument here.
///   dLogits, dProbs, probs: (N, C), rows rowStride apart (default C).
public func softmaxBackward(dLogits: UnsafeMutablePointer<Float>, dProbs: UnsafePointer<Float>,
                            probs: UnsafePointer<Float>, rows N: Int, cols C: Int,
                            rowStride: Int? = nil) {
    let ld = rowStride ?? C
    precondition(N >= 0 && C >= 0 && ld >= C, "softmaxBackward: bad shape (\(N), \(C)) with row stride \(ld)")
    parallelRanges(N, minimumPerThread: softmaxRowsPerThread(cols: C)) { rows in
        for n in rows {
            let p = probs + n * ld, g = dProbs + n * ld, dz = dLogits + n * ld
            // Σ_k p_k·g_k: how much the row's gradient moves the normalisation
            // (16 at a time, the short last chunk padded with zeros)
            var sums = SIMD16<Float>(repeating: 0)
            for i in stride(from: 0, to: C, by: 16) {
                let k = min(16, C - i)
                sums += load16(p + i, count: k) * load16(g + i, count: k)
            }
            let pDotG = sums.sum()
            for j in 0..<C { dz[j] += p[j] * (g[j] - pDotG) }
        }
    }
}

/// Array form of `softmaxBackward`: every buffer (N, C), contiguous.
public func softmaxBackward(dLogits: inout [Float], dProbs: [Float], probs: [Float],
                            rows N: Int, cols C: Int) {
    requireCount(dLogits, N * C, "softmaxBackward: dLogits")
    requireCount(dProbs, N * C, "softmaxBackward: dProbs")
    requireCount(probs, N * C, "softmaxBackward: probs")
    softmaxBackward(dLogits: &dLogits, dProbs: dProbs, probs: probs, rows: N, cols: C, rowStride: C)
}

/// The reference for `softmaxForward`: the definition, in Double, with the same masking.
public func softmaxForwardNaive(_ probs: inout [Float], _ logits: [Float],
                                rows N: Int, cols C: Int, causal: Bool = false) {
    for n in 0..<N {
        let visible = causal ? n % C + 1 : C
        var maxValue = -Double.infinity
        for j in 0..<visible { maxValue = Swift.max(maxValue, Double(logits[n * C + j])) }
        var sum = 0.0
        for j in 0..<visible { sum += exp(Double(logits[n * C + j]) - maxValue) }
        for j in 0..<C {
            probs[n * C + j] = j < visible ? Float(exp(Double(logits[n * C + j]) - maxValue) / sum) : 0
        }
    }
}
