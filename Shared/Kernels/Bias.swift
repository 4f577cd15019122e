// Bias add and its gradient: the "+ b" of every Linear layer (weeks 2 on).
// Forward broadcasts one bias row over all rows; backward sums the gradient over those rows.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html

/// out[n, m] += bias[m], in place.   out: (N, M), rows rowStride apart (default M: a gemm's C
/// with its ldc)   bias: (M)
public func biasAddForward(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>,
                           rows N: Int, cols M: Int, rowStride: Int? = nil) {
    let ld = rowStride ?? M
    precondition(N >= 0 && M >= 0 && ld >= M, "biasAddForward: bad shape (\(N), \(M)) with row stride \(ld)")
    for n in 0..<N {
        let row = out + n * ld
        var m = 0
        while m + 16 <= M {                       // 16 columns per instruction
            store16(load16(row + m) + load16(bias + m), row + m)
            m += 16
        }
        while m < M { row[m] += bias[m]; m += 1 } // the leftover columns
    }
}

/// Array form of `biasAddForward`.
public func biasAddForward(_ out: inout [Float], _ bias: [Float], rows N: Int, cols M: Int) {
    requireCount(out, N * M, "biasAddForward: out")
    requireCount(bias, M, "biasAddForward: bias")
    biasAddForward(&out, bias, rows: N, cols: M, rowStride: M)
}

/// Backward of `biasAddForward`. Adds into dBias.
/// forward: out[n, m] = ... + bias[m], so every row's dOut flows to the same bias entry:
///   dBias[m] += Σ_n dOut[n, m]   (the column sums of dOut)
///   dBias: (M)   dOut: (N, M), rows rowStride apart (default M)
public func biasBackward(dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                         rows N: Int, cols M: Int, rowStride: Int? = nil) {
    let ld = rowStride ?? M
    precondition(N >= 0 && M >= 0 && ld >= M, "biasBackward: bad shape (\(N), \(M)) with row stride \(ld)")
    // Walk dOut row by row (contiguous memory) and add each row into dBias.
    for n in 0..<N {
        let row = dOut + n * ld
        var m = 0
        while m + 16 <= M {
            store16(load16(dBias + m) + load16(row + m), dBias + m)
            m += 16
        }
        while m < M { dBias[m] += row[m]; m += 1 }
    }
}

/// Array form of `biasBackward`.
public func biasBackward(dBias: inout [Float], dOut: [Float], rows N: Int, cols M: Int) {
    requireCount(dBias, M, "biasBackward: dBias")
    requireCount(dOut, N * M, "biasBackward: dOut")
    biasBackward(dBias: &dBias, dOut: dOut, rows: N, cols: M, rowStride: M)
}
