// ReLU, the default hidden-layer nonlinearity from week 3 on: max(0, x).
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.ReLU.html

/// out = max(0, x), elementwise.   x, out: (any shape, n values); out is overwritten.
public func reluForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "reluForward: out")
    let n = x.count
    out.withUnsafeMutableBufferPointer { o in
        x.withUnsafeBufferPointer { xs in
            let out = o.baseAddress!, x = xs.baseAddress!
            let zero = SIMD16<Float>(repeating: 0)
            var i = 0
            while i + 16 <= n {
                store16(maximum16(load16(x + i), zero), out + i)
                i += 16
            }
            while i < n { out[i] = max(x[i], 0); i += 1 }
        }
    }
}

/// Backward of `reluForward`. Adds into dX. relu'(x) = 1 if x > 0 else 0.
///   dX, dOut, x: (n values), same layout.
/// (At exactly x = 0 the derivative does not exist; we take 0, as PyTorch does.)
public func reluBackward(dX: inout [Float], dOut: [Float], x: [Float]) {
    requireCount(dX, x.count, "reluBackward: dX")
    requireCount(dOut, x.count, "reluBackward: dOut")
    dX.withUnsafeMutableBufferPointer { dx in
        dOut.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xs in
                let zero = SIMD16<Float>(repeating: 0)
                accumulate16(dx.baseAddress!, g.baseAddress!, xs.baseAddress!, count: xs.count) { dOut, x in
                    zero.replacing(with: dOut, where: x .> zero)   // pass the gradient where x > 0
                }
            }
        }
    }
}
