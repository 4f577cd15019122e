// tanh, the squashing nonlinearity of the vanilla RNN and the LSTM (weeks 5-6).
// Its derivative is cheapest from the output: tanh'(x) = 1 - tanh(x)².
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Tanh.html

/// out = tanh(x), elementwise, 16 values at a time (`tanh16`, FastMath.swift).
///   x, out: (n values); out is overwritten.
public func tanhForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "tanhForward: out")
    out.withUnsafeMutableBufferPointer { o in
        x.withUnsafeBufferPointer { xs in
            map16(o.baseAddress!, xs.baseAddress!, count: xs.count, tanh16)
        }
    }
}

/// Backward of `tanhForward`. Adds into dX. tanh'(x) = 1 - y², with y = tanh(x) the forward
/// output (so backward needs `out`, not `x`).
///   dX, dOut, out: (n values), same layout.
public func tanhBackward(dX: inout [Float], dOut: [Float], out: [Float]) {
    requireCount(dX, out.count, "tanhBackward: dX")
    requireCount(dOut, out.count, "tanhBackward: dOut")
    dX.withUnsafeMutableBufferPointer { dx in
        dOut.withUnsafeBufferPointer { g in
            out.withUnsafeBufferPointer { ys in
                accumulate16(dx.baseAddress!, g.baseAddress!, ys.baseAddress!, count: ys.count) { dOut, y in
                    dOut * (1 - y * y)
                }
            }
        }
    }
}
