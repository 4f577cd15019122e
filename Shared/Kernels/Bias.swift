// Bias add and its gradient: the "+ b" of every Linear layer (weeks 2 on).
// Forward broadcasts one bias row over all rows; backward sums the gradient over those rows.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html

/// out[n, m] += bias[m], in place.   out: (N, M)   bias: (M)
public func biasAddForward(_ out: inout [Float], _ bias: [Float], rows N: Int, cols M: Int) {
    requireCount(out, N * M, "biasAddForward: out")
    requireCount(bias, M, "biasAddForward: bias")
    out.withUnsafeMutableBufferPointer { o in
        bias.withUnsafeBufferPointer { b in
            let out = o.baseAddress!, bias = b.baseAddress!
            for n in 0..<N {
                let row = out + n * M
                var m = 0
                while m + 16 <= M {                       // 16 columns per instruction
                    store16(load16(row + m) + load16(bias + m), row + m)
                    m += 16
                }
                while m < M { row[m] += bias[m]; m += 1 } // the leftover columns
            }
        }
    }
}

/// Backward of `biasAddForward`. Adds into dBias.
/// forward: out[n, m] = ... + bias[m], so every row's dOut flows to the same bias entry:
///   dBias[m] += Σ_n dOut[n, m]   (the column sums of dOut)
///   dBias: (M)   dOut: (N, M)
public func biasBackward(dBias: inout [Float], dOut: [Float], rows N: Int, cols M: Int) {
    requireCount(dBias, M, "biasBackward: dBias")
    requireCount(dOut, N * M, "biasBackward: dOut")
    dBias.withUnsafeMutableBufferPointer { db in
        dOut.withUnsafeBufferPointer { g in
            let dBias = db.baseAddress!, dOut = g.baseAddress!
            // Walk dOut row by row (contiguous memory) and add each row into dBias.
            for n in 0..<N {
                let row = dOut + n * M
                var m = 0
                while m + 16 <= M {
                    store16(load16(dBias + m) + load16(row + m), dBias + m)
                    m += 16
                }
                while m < M { dBias[m] += row[m]; m += 1 }
            }
        }
    }
}
