// tanh, the squashing nonlinearity of the vanilla RNN and the LSTM (weeks 5-6).
// Its derivative is cheapest from the output: tanh'(x) = 1 - tanh(x)².
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Tanh.html

/// out = tanh(x), elementwise, 16 values at a time (`tanh16`, FastMath.swift), large buffers
/// split across threads.   x, out: (n values); out is overwritten (out may be x).
public func tanhForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "tanhForward: negative count \(n)")
    parallelMap16(out, x, count: n, tanh16)
}

/// Array form of `tanhForward`.
public func tanhForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "tanhForward: out")
    tanhForward(&out, x, count: x.count)
}

/// Backward of `tanhForward`. Adds into dX. tanh'(x) = 1 - y², with y = tanh(x) the forward
/// output (so backward needs `out`, not `x`).
///   dX, dOut, out: (n values), same layout.
public func tanhBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                         out: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "tanhBackward: negative count \(n)")
    parallelAccumulate16(dX, dOut, out, count: n) { dOut, y in dOut * (1 - y * y) }
}

/// Array form of `tanhBackward`.
public func tanhBackward(dX: inout [Float], dOut: [Float], out: [Float]) {
    requireCount(dX, out.count, "tanhBackward: dX")
    requireCount(dOut, out.count, "tanhBackward: dOut")
    tanhBackward(dX: &dX, dOut: dOut, out: out, count: out.count)
}
