// Layer normalisation: each row is shifted to mean 0 and scaled to variance 1, then given a
// learned scale and shift. The transformer (weeks 8-9) puts one before attention and the MLP.
// Forward keeps the per-row mean and 1/std (llm.c's cache) so backward need not recompute them.
// Reference: Ba et al. https://arxiv.org/abs/1607.06450 and llm.c layernorm_forward/backward.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// out[n, :] = (x[n, :] − μ_n) · rstd_n ⊙ weight + bias,  rstd_n = 1 / √(σ²_n + eps)
///   x, out: (N, C), out overwritten   weight, bias: (C)
///   mean, rstd: (N), overwritten with μ_n and rstd_n for the backward pass.
/// The variance is the biased one (divide by C), as PyTorch's LayerNorm. eps keeps rstd finite
/// when a row is constant (σ² = 0).
/// The pointers may point anywhere in a larger buffer (an activation arena). Row n of x and
/// of out starts n·rowStride values in (default C: contiguous rows); mean and rstd are dense.
public func layerNormForward(_ out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                             rstd: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                             weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>,
                             rows N: Int, cols C: Int, eps: Float = 1e-5, rowStride: Int? = nil) {
    let ld = rowStride ?? C
    precondition(N >= 0 && C >= 0 && ld >= C, "layerNormForward: bad shape (\(N), \(C)) with row stride \(ld)")
    // Rows are independent: blocks of rows go to the threads.
    let blockRows = layerNormBlockRows(cols: C), blocks = (N + blockRows - 1) / blockRows
    parallelFor(blocks) { block in
    for n in (block * blockRows)..<min(N, (block + 1) * blockRows) {
        let row = x + n * ld, o = out + n * ld
        // Every pass walks the row 16 values at a time; the last chunk holds `k` < 16 real
        // values and padding chosen to add nothing.
        // pass 1: the mean (padding 0)
        var sums = SIMD16<Float>(repeating: 0)
        for i in stride(from: 0, to: C, by: 16) {
            sums += load16(row + i, count: min(16, C - i))
        }
        let mu = sums.sum() / Float(C)
        // pass 2: the variance around that mean (two passes: no catastrophic cancellation,
        // unlike E[x²] − E[x]²; padding μ gives deviation 0)
        var squares = SIMD16<Float>(repeating: 0)
        for i in stride(from: 0, to: C, by: 16) {
            let d = load16(row + i, count: min(16, C - i), fill: mu) - mu
            squares += d * d
        }
        let s = 1 / sqrt(squares.sum() / Float(C) + eps)
        // pass 3: normalise, scale and shift
        for i in stride(from: 0, to: C, by: 16) {
            let k = min(16, C - i)
            let normalized = (load16(row + i, count: k) - mu) * s
            store16(normalized * load16(w + i, count: k) + load16(b + i, count: k), o + i, count: k)
        }
        mean[n] = mu
        rstd[n] = s
    }
    }
}

/// Rows per block when a LayerNorm is split across threads: about 16k values per block, so a
/// block is worth handing to another core. The blocks depend on the shape only, never on the
/// thread count, so the backward's sums over rows come out the same bits on any number of threads.
@inline(__always)
func layerNormBlockRows(cols C: Int) -> Int { max(1, 16_384 / max(C, 1)) }

/// Array form of `layerNormForward`: the same kernel on whole arrays, sizes checked.
public func layerNormForward(_ out: inout [Float], mean: inout [Float], rstd: inout [Float],
                             _ x: [Float], weight: [Float], bias: [Float],
                             rows N: Int, cols C: Int, eps: Float = 1e-5) {
    requireCount(x, N * C, "layerNormForward: x")
    requireCount(out, N * C, "layerNormForward: out")
    requireCount(weight, C, "layerNormForward: weight")
    requireCount(bias, C, "layerNormForward: bias")
    requireCount(mean, N, "layerNormForward: mean")
    requireCount(rstd, N, "layerNormForward: rstd")
    layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: weight, bias: bias,
                     rows: N, cols: C, eps: eps, rowStride: C)
}

/// Backward of `layerNormForward`. Adds into dX, dWeight and dBias.
/// forward: x̂ = (x − μ)·rstd, out = x̂ ⊙ w + b. With g = dOut ⊙ w (the gradient reaching x̂),
/// μ and rstd both depend on every x_i of the row; differentiating through them gives
///   dX = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))
///   dWeight += Σ_n dOut ⊙ x̂      dBias += Σ_n dOut
///   dX, dOut, x: (N, C), rows rowStride apart (default C)   dWeight, dBias, weight: (C)
///   mean, rstd: (N) from the forward.
public func layerNormBackward(dX: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
                              dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                              x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                              mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                              rows N: Int, cols C: Int, rowStride: Int? = nil) {
    let ld = rowStride ?? C
    precondition(N >= 0 && C >= 0 && ld >= C, "layerNormBackward: bad shape (\(N), \(C)) with row stride \(ld)")
    // Blocks of rows run on separate threads; each block sums its rows' dWeight and dBias into
    // its own partial sums (2C values, on the stack), added up in block order at the end.
    let blockRows = layerNormBlockRows(cols: C), blocks = (N + blockRows - 1) / blockRows
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, blocks * 2 * C)) { partials in
    let partials = partials.baseAddress!
    partials.update(repeating: 0, count: blocks * 2 * C)
    parallelFor(blocks) { block in
    let dW = partials + block * 2 * C, dB = dW + C
    for n in (block * blockRows)..<min(N, (block + 1) * blockRows) {
        let row = x + n * ld, g = dOut + n * ld, dx = dX + n * ld
        let mu = mean[n], s = rstd[n]
        // two reductions over the row: mean(w ⊙ g) and mean(w ⊙ g ⊙ x̂)
        // (16 at a time; padding g = 0 adds nothing)
        var gSums = SIMD16<Float>(repeating: 0)
        var gNormSums = SIMD16<Float>(repeating: 0)
        for i in stride(from: 0, to: C, by: 16) {
            let k = min(16, C - i)
            let norm = (load16(row + i, count: k) - mu) * s
            let wg = load16(w + i, count: k) * load16(g + i, count: k)
            gSums += wg
            gNormSums += wg * norm
        }
        let gMean = gSums.sum() / Float(C)
        let gNormMean = gNormSums.sum() / Float(C)
        for i in stride(from: 0, to: C, by: 16) {
            let k = min(16, C - i)
            let gi = load16(g + i, count: k)
            // in the forward pass this was: out = x̂·w + b
            let norm = (load16(row + i, count: k) - mu) * s
            store16(load16(dB + i, count: k) + gi, dB + i, count: k)
            store16(load16(dW + i, count: k) + norm * gi, dW + i, count: k)
            // and x̂ = (x − μ)·rstd, through μ and rstd as well
            let wg = load16(w + i, count: k) * gi
            let dxi = s * (wg - gMean - norm * gNormMean)
            store16(load16(dx + i, count: k) + dxi, dx + i, count: k)
        }
    }
    }
    for block in 0..<blocks {
        addInPlace(dWeight, partials + block * 2 * C, count: C)
        addInPlace(dBias, partials + block * 2 * C + C, count: C)
    }
    }
}

/// Array form of `layerNormBackward`: the same kernel on whole arrays, sizes checked.
public func layerNormBackward(dX: inout [Float], dWeight: inout [Float], dBias: inout [Float],
                              dOut: [Float], x: [Float], weight: [Float],
                              mean: [Float], rstd: [Float], rows N: Int, cols C: Int) {
    requireCount(dX, N * C, "layerNormBackward: dX")
    requireCount(dOut, N * C, "layerNormBackward: dOut")
    requireCount(x, N * C, "layerNormBackward: x")
    requireCount(dWeight, C, "layerNormBackward: dWeight")
    requireCount(dBias, C, "layerNormBackward: dBias")
    requireCount(weight, C, "layerNormBackward: weight")
    requireCount(mean, N, "layerNormBackward: mean")
    requireCount(rstd, N, "layerNormBackward: rstd")
    layerNormBackward(dX: &dX, dWeight: &dWeight, dBias: &dBias, dOut: dOut, x: x, weight: weight,
                      mean: mean, rstd: rstd, rows: N, cols: C, rowStride: C)
}

/// The reference for `layerNormForward`: the definition in Double (mean and rstd not written).
public func layerNormForwardNaive(_ out: inout [Float], _ x: [Float], weight: [Float],
                                  bias: [Float], rows N: Int, cols C: Int, eps: Float = 1e-5) {
    for n in 0..<N {
        var mu = 0.0
        for i in 0..<C { mu += Double(x[n * C + i]) }
        mu /= Double(C)
        var variance = 0.0
        for i in 0..<C { variance += (Double(x[n * C + i]) - mu) * (Double(x[n * C + i]) - mu) }
        variance /= Double(C)
        let s = 1 / (variance + Double(eps)).squareRoot()
        for i in 0..<C {
            out[n * C + i] = Float((Double(x[n * C + i]) - mu) * s * Double(weight[i]) + Double(bias[i]))
        }
    }
}
