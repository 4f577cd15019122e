// RMSNorm, LayerNorm's lighter variant (LLaMA and most recent transformers): no mean is
// subtracted and there is no bias; each row is divided by its root mean square.
// Reference: Zhang & Sennrich, https://arxiv.org/abs/1910.07467
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// out[n, :] = x[n, :] · rstd_n ⊙ weight,  rstd_n = 1 / √(mean(x[n, :]²) + eps)
///   x, out: (N, C), rows rowStride apart (default C), out overwritten   weight: (C)
///   rstd: (N), overwritten for the backward.
public func rmsNormForward(_ out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                           _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           rows N: Int, cols C: Int, eps: Float = 1e-5, rowStride: Int? = nil) {
    let ld = rowStride ?? C
    precondition(N >= 0 && C >= 0 && ld >= C, "rmsNormForward: bad shape (\(N), \(C)) with row stride \(ld)")
    for n in 0..<N {
        let row = x + n * ld, o = out + n * ld
        // pass 1: mean of squares
        var squares: Float = 0
        for i in 0..<C { squares += row[i] * row[i] }
        let s = 1 / sqrt(squares / Float(C) + eps)
        // pass 2: scale
        for i in 0..<C { o[i] = row[i] * s * weight[i] }
        rstd[n] = s
    }
}

/// Array form of `rmsNormForward`.
public func rmsNormForward(_ out: inout [Float], rstd: inout [Float], _ x: [Float],
                           weight: [Float], rows N: Int, cols C: Int, eps: Float = 1e-5) {
    requireCount(x, N * C, "rmsNormForward: x")
    requireCount(out, N * C, "rmsNormForward: out")
    requireCount(weight, C, "rmsNormForward: weight")
    requireCount(rstd, N, "rmsNormForward: rstd")
    rmsNormForward(&out, rstd: &rstd, x, weight: weight, rows: N, cols: C, eps: eps, rowStride: C)
}

/// Backward of `rmsNormForward`. Adds into dX and dWeight.
/// forward: x̂ = x·rstd, out = x̂ ⊙ w, with rstd = (Σx²/C + eps)^(−½), so
/// ∂rstd/∂x_j = −rstd³·x_j/C. With g = dOut ⊙ w:
///   dX = rstd · (g − x̂ · mean(g ⊙ x̂))      dWeight += Σ_n dOut ⊙ x̂
///   dX, dOut, x: (N, C), rows rowStride apart (default C)   dWeight, weight: (C)
///   rstd: (N) from the forward.
public func rmsNormBackward(dX: UnsafeMutablePointer<Float>, dWeight dW: UnsafeMutablePointer<Float>,
                            dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
                            weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                            rows N: Int, cols C: Int, rowStride: Int? = nil) {
    let ld = rowStride ?? C
    precondition(N >= 0 && C >= 0 && ld >= C, "rmsNormBackward: bad shape (\(N), \(C)) with row stride \(ld)")
    for n in 0..<N {
        let row = x + n * ld, g = dOut + n * ld, dx = dX + n * ld
        let s = rstd[n]
        // mean(g ⊙ x̂): the part that flows back through rstd
        var gNormMean: Float = 0
        for i in 0..<C { gNormMean += weight[i] * g[i] * row[i] * s }
        gNormMean /= Float(C)
        for i in 0..<C {
            let norm = row[i] * s
            dW[i] += norm * g[i]
            dx[i] += s * (weight[i] * g[i] - norm * gNormMean)
        }
    }
}

/// Array form of `rmsNormBackward`.
public func rmsNormBackward(dX: inout [Float], dWeight: inout [Float], dOut: [Float],
                            x: [Float], weight: [Float], rstd: [Float], rows N: Int, cols C: Int) {
    requireCount(dX, N * C, "rmsNormBackward: dX")
    requireCount(dOut, N * C, "rmsNormBackward: dOut")
    requireCount(x, N * C, "rmsNormBackward: x")
    requireCount(dWeight, C, "rmsNormBackward: dWeight")
    requireCount(weight, C, "rmsNormBackward: weight")
    requireCount(rstd, N, "rmsNormBackward: rstd")
    rmsNormBackward(dX: &dX, dWeight: &dWeight, dOut: dOut, x: x, weight: weight, rstd: rstd,
                    rows: N, cols: C, rowStride: C)
}
