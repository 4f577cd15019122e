// The fully connected layer as two kernels: out = x·W + b and its backward, both on `gemm`.
// Every network from week 2 on is built from these. Weeks 2-7 store the weight (inFeatures,
// outFeatures), so the forward is a plain x·W (CS231n's convention). The GPT (weeks 8-10)
// stores it (outFeatures, inFeatures), as PyTorch's nn.Linear, nanoGPT and its checkpoints do:
// the `transposedWeight:` forms below read it in place, since gemm transposes for free.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html

/// out = x·W + b.   x: (N, D)   weight: (D, M)   bias: (M) or nil   out: (N, M), overwritten.
public func linearForward(_ out: inout [Float], _ x: [Float], weight: [Float], bias: [Float]?,
                          rows N: Int, inFeatures D: Int, outFeatures M: Int) {
    requireCount(x, N * D, "linearForward: x")
    requireCount(weight, D * M, "linearForward: weight")
    requireCount(out, N * M, "linearForward: out")
    // out = x·W   (beta 0 overwrites whatever was in out)
    matmul(&out, x, weight, m: N, n: M, k: D, alpha: 1, beta: 0)
    // out += b, broadcast over the N rows
    if let bias { biasAddForward(&out, bias, rows: N, cols: M) }
}

/// Backward of `linearForward`. Adds (+=) into dX, dWeight and dBias.
/// forward: out[n, m] = Σ_d x[n, d]·W[d, m] + b[m]
///   dX = dOut·Wᵀ (N, D)    dWeight = xᵀ·dOut (D, M)    dBias = Σ_n dOut[n, :] (M)
///   dOut: (N, M)   x: (N, D)   weight: (D, M)
public func linearBackward(dX: inout [Float], dWeight: inout [Float], dBias: inout [Float],
                           dOut: [Float], x: [Float], weight: [Float],
                           rows N: Int, inFeatures D: Int, outFeatures M: Int) {
    linearBackward(dX: &dX, dWeight: &dWeight, dOut: dOut, x: x, weight: weight,
                   rows: N, inFeatures: D, outFeatures: M)
    biasBackward(dBias: &dBias, dOut: dOut, rows: N, cols: M)
}

/// Backward of `linearForward` without a bias (bias: nil). Adds (+=) into dX and dWeight.
///   dX = dOut·Wᵀ (N, D)    dWeight = xᵀ·dOut (D, M)
public func linearBackward(dX: inout [Float], dWeight: inout [Float],
                           dOut: [Float], x: [Float], weight: [Float],
                           rows N: Int, inFeatures D: Int, outFeatures M: Int) {
    requireCount(dX, N * D, "linearBackward: dX")
    requireCount(dWeight, D * M, "linearBackward: dWeight")
    requireCount(dOut, N * M, "linearBackward: dOut")
    requireCount(x, N * D, "linearBackward: x")
    requireCount(weight, D * M, "linearBackward: weight")
    // dX (N, D) += dOut (N, M) · Wᵀ (M, D)       beta 1: add into the gradient
    matmul(&dX, dOut, weight, m: N, n: D, k: M, transposeB: true, alpha: 1, beta: 1)
    // dW (D, M) += xᵀ (D, N) · dOut (N, M)
    matmul(&dWeight, x, dOut, m: D, n: M, k: N, transposeA: true, alpha: 1, beta: 1)
}

// MARK: - nn.Linear's layout: W stored (out, in)

/// out = x·Wᵀ + b, PyTorch's nn.Linear with W stored (O, I).
///   out: (N, O), overwritten   x: (N, I)   transposedWeight: (O, I)   bias: (O) or nil
public func linearForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                          transposedWeight weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          rows N: Int, inFeatures I: Int, outFeatures O: Int) {
    // out = x·Wᵀ   (one gemm with transposeB: W is never copied; beta 0 overwrites out)
    gemm(transposeB: true, m: N, n: O, k: I, a: x, lda: I, b: weight, ldb: I, beta: 0, c: out, ldc: O)
    // out += b, broadcast over the N rows
    if let bias { biasAddForward(out, bias, rows: N, cols: O) }
}

/// Backward of the (O, I) `linearForward`. Adds (+=) into dX, dWeight and dBias.
/// forward: out[n, o] = Σ_i x[n, i]·W[o, i] + b[o], so
///   dX += dOut·W (N, I)    dW += dOutᵀ·x (O, I)    dB += Σ_n dOut[n, :] (O)
///   dOut: (N, O)   x: (N, I)   transposedWeight: (O, I). dX and dBias may be nil (not needed).
public func linearBackward(dX: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                           dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                           x: UnsafePointer<Float>, transposedWeight weight: UnsafePointer<Float>,
                           rows N: Int, inFeatures I: Int, outFeatures O: Int) {
    // dX (N, I) += dOut (N, O) · W (O, I)
    if let dX { gemm(m: N, n: I, k: O, a: dOut, lda: O, b: weight, ldb: I, beta: 1, c: dX, ldc: I) }
    // dW (O, I) += dOutᵀ (O, N) · x (N, I)
    gemm(transposeA: true, m: O, n: I, k: N, a: dOut, lda: O, b: x, ldb: I, beta: 1, c: dWeight, ldc: I)
    if let dBias { biasBackward(dBias: dBias, dOut: dOut, rows: N, cols: O) }
}

/// The reference for `linearForward`: the definition as plain loops, summed in Double.
public func linearForwardNaive(_ out: inout [Float], _ x: [Float], weight: [Float], bias: [Float]?,
                               rows N: Int, inFeatures D: Int, outFeatures M: Int) {
    for n in 0..<N {
        for m in 0..<M {
            var sum = Double(bias?[m] ?? 0)
            for d in 0..<D { sum += Double(x[n * D + d]) * Double(weight[d * M + m]) }
            out[n * M + m] = Float(sum)
        }
    }
}
