// The logistic sigmoid σ(x) = 1 / (1 + e^−x): logistic regression's output (week 2) and the
// LSTM's gates (week 6). Like tanh, its derivative comes from the output: σ' = y(1 − y).
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Sigmoid.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// σ(x) for one value, without overflow: for x < 0 we use e^x / (1 + e^x), so exp never sees
/// a large positive argument.
@inline(__always)
public func sigmoid(_ x: Float) -> Float {
    if x >= 0 {
        return 1 / (1 + exp(-x))
    } else {
        let e = exp(x)
        return e / (1 + e)
    }
}

/// out = σ(x), elementwise, 16 values at a time (`sigmoid16`, FastMath.swift), large buffers
/// split across threads.   x, out: (n values); out is overwritten (out may be x).
public func sigmoidForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "sigmoidForward: negative count \(n)")
    parallelMap16(out, x, count: n, sigmoid16)
}

/// Array form of `sigmoidForward`.
public func sigmoidForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "sigmoidForward: out")
    sigmoidForward(&out, x, count: x.count)
}

/// Backward of `sigmoidForward`. Adds into dX. σ'(x) = y(1 − y), with y = σ(x) the forward
/// output (so backward needs `out`, not `x`).
///   dX, dOut, out: (n values), same layout.
public func sigmoidBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                            out: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "sigmoidBackward: negative count \(n)")
    parallelAccumulate16(dX, dOut, out, count: n) { dOut, y in dOut * y * (1 - y) }
}

/// Array form of `sigmoidBackward`.
public func sigmoidBackward(dX: inout [Float], dOut: [Float], out: [Float]) {
    requireCount(dX, out.count, "sigmoidBackward: dX")
    requireCount(dOut, out.count, "sigmoidBackward: dOut")
    sigmoidBackward(dX: &dX, dOut: dOut, out: out, count: out.count)
}
