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
    let n = out.count
    dX.withUnsafeMutableBufferPointer { dx in
        dOut.withUnsafeBufferPointer { g in
            out.withUnsafeBufferPointer { ys in
                let dX = dx.baseAddress!, dOut = g.baseAddress!, y = ys.baseAddress!
                let one = SIMD16<Float>(repeating: 1)
                var i = 0
                while i + 16 <= n {
                    let yv = load16(y + i)
                    store16(load16(dX + i) + load16(dOut + i) * (one - yv * yv), dX + i)
                    i += 16
                }
                while i < n { dX[i] += dOut[i] * (1 - y[i] * y[i]); i += 1 }
            }
        }
    }
}
