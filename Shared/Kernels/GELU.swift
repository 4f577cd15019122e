// GELU in its tanh form, the transformer's MLP nonlinearity (weeks 8-9), as GPT-2 and llm.c:
//   gelu(x) = ½·x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)
// We evaluate ½(1 + tanh u) as σ(2u), the same number (σ(2u) = ½(1 + tanh u) exactly), which
// avoids the cancellation in 1 + tanh u for very negative u and costs one exp.
// Reference: Hendrycks & Gimpel, https://arxiv.org/abs/1606.08415 (and llm.c gelu_forward).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// √(2/π), the scale inside GELU's tanh.
let geluScale: Float = 0.797_884_560_802_865_4
/// The cubic coefficient of the tanh approximation.
let geluCubic: Float = 0.044715

/// out = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise, 16 values at a time, large
/// buffers split across threads.   x, out: (n values); out is overwritten (out may be x).
/// Reference: `geluForwardNaive`.
public func geluForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "geluForward: negative count \(n)")
    parallelMap16(out, x, count: n) { x in
        let u = geluScale * (x + geluCubic * x * x * x)
        return x * sigmoid16(2 * u)                  // ½x(1 + tanh u) = x·σ(2u)
    }
}

/// Array form of `geluForward`.   x, out: (n values), the same count.
public func geluForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "geluForward: out")
    geluForward(&out, x, count: x.count)
}

/// Backward of `geluForward`. Adds into dX. With u = √(2/π)·(x + 0.044715·x³), t = tanh(u):
///   gelu'(x) = ½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)
/// (product rule on ½·x·(1 + t), then the chain rule through tanh and u). With s = σ(2u) =
/// ½(1 + t) we have ½(1 − t²) = 2s(1 − s), which is how it is computed. Needs the input x.
///   dX, dOut, x: (n values), same layout.
public func geluBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                         x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "geluBackward: negative count \(n)")
    parallelAccumulate16(dX, dOut, x, count: n) { dOut, x in
        // in the forward pass this was: u = √(2/π)·(x + 0.044715·x³), out = x·σ(2u)
        let u = geluScale * (x + geluCubic * x * x * x)
        let s = sigmoid16(2 * u)                         // ½(1 + t)
        let dUdX = geluScale * (1 + 3 * geluCubic * x * x)
        return dOut * (s + 2 * x * s * (1 - s) * dUdX)   // ½(1+t) + ½x(1−t²)·u'
    }
}

/// Array form of `geluBackward`.   dX, dOut, x: (n values), the same count.
public func geluBackward(dX: inout [Float], dOut: [Float], x: [Float]) {
    requireCount(dX, x.count, "geluBackward: dX")
    requireCount(dOut, x.count, "geluBackward: dOut")
    geluBackward(dX: &dX, dOut: dOut, x: x, count: x.count)
}

/// The reference for `geluForward`: the tanh formula as written, one value at a time, with
/// the C library's tanh.
public func geluForwardNaive(_ out: inout [Float], _ x: [Float]) {
    for i in 0..<x.count {
        let u = geluScale * (x[i] + geluCubic * x[i] * x[i] * x[i])
        out[i] = 0.5 * x[i] * (1 + tanh(u))
    }
}
