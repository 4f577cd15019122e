// ReLU, the default hidden-layer nonlinearity from week 3 on: max(0, x).
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.ReLU.html

/// out = max(0, x), elementwise.   x, out: (n values); out is overwritten (out may be x).
public func reluForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "reluForward: negative count \(n)")
    let zero = SIMD16<Float>(repeating: 0)
    var i = 0
    while i + 16 <= n {
        store16(maximum16(load16(x + i), zero), out + i)
        i += 16
    }
    while i < n { out[i] = max(x[i], 0); i += 1 }
}

/// Array form of `reluForward`.   x, out: (any shape, n values).
public func reluForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "reluForward: out")
    reluForward(&out, x, count: x.count)
}

/// Backward of `reluForward`. Adds into dX. relu'(x) = 1 if x > 0 else 0.
///   dX, dOut, x: (n values), same layout.
/// (At exactly x = 0 the derivative does not exist; we take 0, as PyTorch does.)
public func reluBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                         x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "reluBackward: negative count \(n)")
    let zero = SIMD16<Float>(repeating: 0)
    accumulate16(dX, dOut, x, count: n) { dOut, x in
        zero.replacing(with: dOut, where: x .> zero)   // pass the gradient where x > 0
    }
}

/// Array form of `reluBackward`.
public func reluBackward(dX: inout [Float], dOut: [Float], x: [Float]) {
    requireCount(dX, x.count, "reluBackward: dX")
    requireCount(dOut, x.count, "reluBackward: dOut")
    reluBackward(dX: &dX, dOut: dOut, x: x, count: x.count)
}
