// The pieces of a GPT block, forward and backward side by side, on raw pointers into the GPT's
// arenas (GPT.swift): Linear, LayerNorm / RMSNorm, exact GELU / ReLU, causal multi-head
// self-attention over a fused (B, T, 3C) q|k|v buffer, dropout, and the tied-head cross-entropy.
// Weeks 8-10 train, sample and fine-tune the GPT built from these. Every backward adds (+=) into
// its gradient buffers. References: Vaswani et al. https://arxiv.org/abs/1706.03762, nanoGPT's
// model.py, llm.c's train_gpt2.c.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public typealias FloatPointer = UnsafeMutablePointer<Float>

// MARK: - Linear: out = x·Wᵀ + b

/// out = x·Wᵀ + b (accumulate: out += x·Wᵀ + b), PyTorch's nn.Linear with W stored (out, in).
///   x: (N, I)   weight: (O, I)   bias: (O) or nil   out: (N, O)
/// The product is one `gemm` with transposeB, so W is never copied.
public func gptLinearForward(_ out: FloatPointer, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, rows N: Int, inFeatures I: Int, outFeatures O: Int,
                             accumulate: Bool = false) {
    gemm(transposeB: true, m: N, n: O, k: I, a: x, lda: I, b: weight, ldb: I,
         beta: accumulate ? 1 : 0, c: out, ldc: O)
    guard let bias else { return }
    for n in 0..<N {
        let row = out + n * O
        for o in 0..<O { row[o] += bias[o] }
    }
}

/// Backward of `gptLinearForward`. Adds into dWeight and dBias, and into dX (or, with
/// accumulateDX false, overwrites dX: then the caller need not zero it first).
/// forward: out[n, o] = Σ_i x[n, i]·W[o, i] + b[o], so
///   dX += dOut·W (N, I)    dW += dOutᵀ·x (O, I)    dB += Σ_n dOut[n, :] (O)
/// dX may be nil (the first layer's input needs no gradient).
public func gptLinearBackward(dX: FloatPointer?, dWeight: FloatPointer, dBias: FloatPointer?,
                              dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              rows N: Int, inFeatures I: Int, outFeatures O: Int, accumulateDX: Bool = true) {
    if let dX {
        gemm(m: N, n: I, k: O, a: dOut, lda: O, b: weight, ldb: I, beta: accumulateDX ? 1 : 0, c: dX, ldc: I)
    }
    gemm(transposeA: true, m: O, n: I, k: N, a: dOut, lda: O, b: x, ldb: I, beta: 1, c: dWeight, ldc: I)
    guard let dBias else { return }
    for n in 0..<N {
        let row = dOut + n * O
        for o in 0..<O { dBias[o] += row[o] }
    }
}

// MARK: - LayerNorm and RMSNorm, row by row

/// Normalises each row of x, then scales (and shifts), with Shared's kernels:
///   LayerNorm: out = (x − μ)·rstd ⊙ w + b,   rstd = 1/√(σ² + eps)      (`layerNormForward`)
///   RMSNorm:   out = x·rstd ⊙ w,             rstd = 1/√(mean(x²) + eps) (`rmsNormForward`)
///   x, out: (N, C)   weight, bias: (C) (a model without biases passes zeros; RMSNorm has no
///   bias and ignores it)   mean, rstd: (N), written for the backward (mean unused by RMSNorm).
public func gptNormForward(_ out: FloatPointer, mean: FloatPointer, rstd: FloatPointer, _ x: UnsafePointer<Float>,
                           weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rms: Bool,
                           rows N: Int, cols C: Int) {
    if rms {
        rmsNormForward(out, rstd: rstd, x, weight: weight, rows: N, cols: C)
    } else {
        layerNormForward(out, mean: mean, rstd: rstd, x, weight: weight, bias: bias, rows: N, cols: C)
    }
}

/// Backward of `gptNormForward`. Adds into dX, dWeight and dBias (a scratch buffer when the
/// model has no bias; RMSNorm leaves it alone).
///   LayerNorm: dX = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  g = dOut ⊙ w
///   RMSNorm:   dX = rstd · (g − x̂ · mean(g ⊙ x̂))
///   dWeight += Σ_n dOut ⊙ x̂      dBias += Σ_n dOut
///   dX, dOut, x: (N, C)   dWeight, dBias, weight: (C)   mean, rstd: (N) from the forward.
public func gptNormBackward(dX: FloatPointer, dWeight: FloatPointer, dBias: FloatPointer,
                            dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rms: Bool,
                            rows N: Int, cols C: Int) {
    if rms {
        rmsNormBackward(dX: dX, dWeight: dWeight, dOut: dOut, x: x, weight: weight, rstd: rstd, rows: N, cols: C)
    } else {
        layerNormBackward(dX: dX, dWeight: dWeight, dBias: dBias, dOut: dOut, x: x, weight: weight,
                          mean: mean, rstd: rstd, rows: N, cols: C)
    }
}

// MARK: - GELU (exact, erf) and ReLU

/// Φ(x), the standard normal CDF, and φ(x), its density, for 16 values.
/// Φ(x) = ½(1 + erf(x/√2)); erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7):
///   erf(z) = 1 − t·P(t)·e^{−z²},  t = 1/(1 + 0.3275911·z),  z >= 0.
/// Numerical trick: for x < 0 we return the tail ½·t·P(t)·e^{−x²/2} directly instead of
/// 1 − (1 − tail), so Φ keeps its relative precision far out in the left tail.
@inline(__always)
func normalCDFAndDensity16(_ x: SIMD16<Float>) -> (cdf: SIMD16<Float>, density: SIMD16<Float>) {
    let z = x.replacing(with: -x, where: x .< 0) * 0.707_106_781_186_547_5   // |x| / √2
    let t = 1 / (1 + 0.327_591_1 * z)
    var p = SIMD16<Float>(repeating: 1.061_405_429)
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    let gaussian = exp16(-z * z)                               // e^{−x²/2}
    let tail: SIMD16<Float> = 0.5 * p * t * gaussian           // Φ(−|x|)
    let one = SIMD16<Float>(repeating: 1)
    let cdf = (one - tail).replacing(with: tail, where: x .< 0)
    return (cdf, 0.398_942_280_401_432_7 * gaussian)           // φ(x) = e^{−x²/2}/√(2π)
}

/// out = act(x) elementwise, act = GELU (exact: x·Φ(x), nanoGPT's nn.GELU()) or ReLU (max(x, 0),
/// Shared's `reluForward`). Shared's `geluForward` is GPT-2's tanh approximation; this is the
/// erf form, because the PyTorch fixture and nanoGPT's numbers use it.
///   x, out: (n values). Split across threads for large n (each value is independent).
public func gptActivationForward(_ out: FloatPointer, _ x: UnsafePointer<Float>, count n: Int, relu: Bool) {
    if relu { reluForward(out, x, count: n); return }
    @inline(__always) func act(_ v: SIMD16<Float>) -> SIMD16<Float> { v * normalCDFAndDensity16(v).cdf }
    parallelRanges(n) { range in
        // whole chunks of 16, then the last partial chunk through the same vector code
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            store16(act(load16(x + i)), out + i)
            i += 16
        }
        if i < range.upperBound { store16(act(load16(x + i, count: range.upperBound - i)), out + i, count: range.upperBound - i) }
    }
}

/// Backward of `gptActivationForward`. Adds into dX (accumulate false: overwrites it).
///   GELU: out = x·Φ(x), so out' = Φ(x) + x·φ(x)      ReLU: out' = 1 where x > 0, else 0
///   dX, dOut, x: (n values), x the forward's input.
public func gptActivationBackward(dX: FloatPointer, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                  count n: Int, relu: Bool, accumulate: Bool = true) {
    if relu {
        if !accumulate { dX.update(repeating: 0, count: n) }
        reluBackward(dX: dX, dOut: dOut, x: x, count: n)
        return
    }
    @inline(__always) func local(_ g: SIMD16<Float>, _ v: SIMD16<Float>) -> SIMD16<Float> {
        let (cdf, density) = normalCDFAndDensity16(v)
        return g * (cdf + v * density)
    }
    parallelRanges(n) { range in
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            let old = accumulate ? load16(dX + i) : SIMD16<Float>(repeating: 0)
            store16(old + local(load16(dOut + i), load16(x + i)), dX + i)
            i += 16
        }
        if i < range.upperBound {
            let k = range.upperBound - i
            let old = accumulate ? load16(dX + i, count: k) : SIMD16<Float>(repeating: 0)
            store16(old + local(load16(dOut + i, count: k), load16(x + i, count: k)), dX + i, count: k)
        }
    }
}

// MARK: - Dropout with a seeded mask

/// Fills mask with 0 (probability p) or 1/(1 − p) (inverted dropout: the expected value of
/// x ⊙ mask is x, so evaluation needs no rescaling), from `rng` in order.   mask: (n values).
public func gptDropoutMask(_ mask: FloatPointer, count n: Int, probability p: Float, rng: inout SplitMix64) {
    let keep = 1 / (1 - p)
    for i in 0..<n { mask[i] = rng.uniform() < p ? 0 : keep }
}

/// x ⊙= mask in place (forward), or dX ⊙= mask (backward: the same mask, since d(x·m)/dx = m).
public func gptApplyMask(_ x: FloatPointer, mask: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n { x[i] *= mask[i] }
}

// MARK: - Causal multi-head self-attention

/// The attention core, heads side by side (nanoGPT's CausalSelfAttention between c_attn and c_proj):
///   q, k, v = the three C-wide thirds of each qkv row, each split into H heads of D = C/H
///   scores[b,h,t,s] = q[b,t,h]·k[b,s,h] / √D  for s <= t (the causal mask: later keys unseen)
///   probs[b,h,t,:] = softmax(scores[b,h,t,:]) over s in 0...t, 0 for s > t
///   y[b,t,h·D ..< (h+1)·D] = Σ_s weights[b,h,t,s] · v[b,s,h]
///   qkv: (B, T, 3C)   probs: (B, H, T, T), written   y: (B, T, C), overwritten
///   weights: probs after dropout (its own buffer, with `mask` (B, H, T, T)), or nil: probs.
/// Each (b, h) reads its q, k, v in place through leading dimensions (3C) and writes its own
/// D columns of y, so the B·H pairs run on separate threads without sharing any output.
public func gptAttentionForward(_ y: FloatPointer, probs: FloatPointer, qkv: UnsafePointer<Float>,
                                weights: FloatPointer?, mask: UnsafePointer<Float>?,
                                batch B: Int, length T: Int, width C: Int, heads H: Int) {
    let D = C / H, scale = 1 / Float(D).squareRoot()
    parallelFor(B * H) { pair in
        let b = pair / H, h = pair % H
        let q = qkv + b * T * 3 * C + h * D, k = q + C, v = q + 2 * C
        let p = probs + pair * T * T
        // scores = q·kᵀ/√D: (T, D)·(D, T), the 1/√D folded into alpha
        gemm(transposeB: true, m: T, n: T, k: D, alpha: scale, a: q, lda: 3 * C, b: k, ldb: 3 * C,
             c: p, ldc: T, threads: 1)
        // causal softmax: row t sees keys 0...t (t + 1 of them); the rest are exactly 0
        for t in 0..<T {
            let row = p + t * T
            _ = softmaxRow(row, row, visible: t + 1)
            for s in (t + 1)..<max(t + 1, T) { row[s] = 0 }
        }
        var used = UnsafePointer(p)
        if let weights, let mask {
            let w = weights + pair * T * T, m = mask + pair * T * T
            for i in 0..<(T * T) { w[i] = p[i] * m[i] }
            used = UnsafePointer(w)
        }
        // y = weights·v: (T, T)·(T, D), into this head's D columns of y
        gemm(m: T, n: D, k: T, a: used, lda: T, b: v, ldb: 3 * C, c: y + b * T * C + h * D, ldc: C, threads: 1)
    }
}

/// Backward of `gptAttentionForward`. Overwrites dQKV (every q, k and v entry is written once,
/// so the caller need not zero it).
/// With W = the weights used (probs, or probs ⊙ mask), and the forward lines it reverses:
///   y = W·v                   ->  dW = dY·vᵀ (T, T)        dv = Wᵀ·dY (T, D)
///   W = probs ⊙ mask          ->  dProbs = dW ⊙ mask
///   probs = softmax(scores)   ->  dScores = probs ⊙ (dProbs − Σ_s probs·dProbs)   (row by row;
///                                 masked entries have probs = 0, so they get no gradient)
///   scores = q·kᵀ/√D          ->  dq = dScores·k/√D        dk = dScoresᵀ·q/√D
///   dQKV, qkv: (B, T, 3C)   dY: (B, T, C)   probs, mask: (B, H, T, T)
///   scratch: (B, H, T, T), overwritten (holds dW, then dScores).
public func gptAttentionBackward(dQKV: FloatPointer, scratch: FloatPointer, dY: UnsafePointer<Float>,
                                 qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                 weights: UnsafePointer<Float>?, mask: UnsafePointer<Float>?,
                                 batch B: Int, length T: Int, width C: Int, heads H: Int) {
    let D = C / H, scale = 1 / Float(D).squareRoot()
    parallelFor(B * H) { pair in
        let b = pair / H, h = pair % H
        let offset = b * T * 3 * C + h * D
        let q = qkv + offset, k = q + C, v = q + 2 * C
        let dq = dQKV + offset, dk = dq + C, dv = dq + 2 * C
        let p = probs + pair * T * T, used = (weights ?? probs) + pair * T * T
        let dYHead = dY + b * T * C + h * D
        let dS = scratch + pair * T * T
        // in the forward pass this was y = W·v
        gemm(transposeB: true, m: T, n: T, k: D, a: dYHead, lda: C, b: v, ldb: 3 * C, c: dS, ldc: T, threads: 1)
        gemm(transposeA: true, m: T, n: D, k: T, a: used, lda: T, b: dYHead, ldb: C, beta: 0,
             c: dv, ldc: 3 * C, threads: 1)
        if let mask {
            let m = mask + pair * T * T
            for i in 0..<(T * T) { dS[i] *= m[i] }
        }
        // and probs = softmax(scores) over s <= t
        for t in 0..<T {
            let pRow = p + t * T, gRow = dS + t * T
            var dot: Float = 0
            for s in 0...t { dot += pRow[s] * gRow[s] }
            for s in 0...t { gRow[s] = pRow[s] * (gRow[s] - dot) }
            for s in (t + 1)..<max(t + 1, T) { gRow[s] = 0 }
        }
        // and scores = q·kᵀ/√D
        gemm(m: T, n: D, k: T, alpha: scale, a: dS, lda: T, b: k, ldb: 3 * C, beta: 0, c: dq, ldc: 3 * C, threads: 1)
        gemm(transposeA: true, m: T, n: D, k: T, alpha: scale, a: dS, lda: T, b: q, ldb: 3 * C, beta: 0,
             c: dk, ldc: 3 * C, threads: 1)
    }
}

// MARK: - Softmax cross-entropy over the vocabulary

/// probs[n, :] = softmax(logits[n, :]); losses[n] = −log probs[n, targets[n]] (as
/// log Σ e^z − z_target, from `softmaxRow`'s log-sum-exp: no log of a tiny probability).
///   logits, probs: (N, V)   targets: (N), each in 0..<V   losses: (N), written.
/// Returns the mean loss, summed in Double.
public func gptCrossEntropyForward(probs: FloatPointer, losses: FloatPointer, logits: UnsafePointer<Float>,
                                   targets: UnsafePointer<Int>, rows N: Int, vocabulary V: Int) -> Double {
    parallelRanges(N, minimumPerThread: max(1, 32_768 / V)) { range in
        for n in range {
            let logSumExp = softmaxRow(logits + n * V, probs + n * V, visible: V)
            losses[n] = logSumExp - logits[n * V + targets[n]]
        }
    }
    var total = 0.0
    for n in 0..<N { total += Double(losses[n]) }
    return total / Double(N)
}

/// Backward of lossScale × the mean of `gptCrossEntropyForward`'s losses, in place: probs becomes
/// dLogits. forward: L = (1/N)·Σ_n (log Σ_v e^{z[n,v]} − z[n, target_n]), so
/// dL/dz[n, :] = (p[n, :] − onehot)/N (times lossScale, for accumulated micro-batches).
///   probs: (N, V), overwritten with dLogits   targets: (N).
public func gptCrossEntropyBackward(probsToGradient probs: FloatPointer, targets: UnsafePointer<Int>,
                                    rows N: Int, vocabulary V: Int, lossScale: Float = 1) {
    let inverse = lossScale / Float(N)
    for n in 0..<N {
        let row = probs + n * V
        row[targets[n]] -= 1
        for v in 0..<V { row[v] *= inverse }
    }
}

/// The sinusoidal position table of "Attention is all you need":
///   table[t, 2i] = sin(t / 10000^(2i/C)),  table[t, 2i + 1] = cos(t / 10000^(2i/C)).
///   table: (T, C), written. A fixed function of position: nothing to learn.
public func sinusoidalPositions(_ table: FloatPointer, length T: Int, width C: Int) {
    for t in 0..<T {
        for c in 0..<C {
            let frequency = pow(10_000.0, -Double(c - c % 2) / Double(C))
            let angle = Double(t) * frequency
            table[t * C + c] = Float(c % 2 == 0 ? sin(angle) : cos(angle))
        }
    }
}
