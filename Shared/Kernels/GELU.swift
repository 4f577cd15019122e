// GELU in its tanh form, the transformer's MLP nonlinearity (weeks 8-9), as GPT-2 and llm.c:
//   gelu(x) = ½·x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)
// Reference: Hendrycks & Gimpel, https://arxiv.org/abs/1606.08415 (and llm.c gelu_forward).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// √(2/π), the scale inside GELU's tanh.
@usableFromInline let geluScale: Float = 0.7978845608028654
/// The cubic coefficient of the tanh approximation.
@usableFromInline let geluCubic: Float = 0.044715

/// out = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise.
///   x, out: (n values); out is overwritten.
public func geluForward(_ out: inout [Float], _ x: [Float]) {
    requireCount(out, x.count, "geluForward: out")
    out.withUnsafeMutableBufferPointer { o in
        x.withUnsafeBufferPointer { xs in
            for i in 0..<xs.count {
                let x = xs[i]
                let u = geluScale * (x + geluCubic * x * x * x)
                o[i] = 0.5 * x * (1 + tanh(u))
            }
        }
    }
}

/// Backward of `geluForward`. Adds into dX. With u = √(2/π)·(x + 0.044715·x³), t = tanh(u):
///   gelu'(x) = ½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)
/// (product rule on ½·x·(1 + t), then the chain rule through tanh and u). Needs the input x.
///   dX, dOut, x: (n values), same layout.
public func geluBackward(dX: inout [Float], dOut: [Float], x: [Float]) {
    requireCount(dX, x.count, "geluBackward: dX")
    requireCount(dOut, x.count, "geluBackward: dOut")
    dX.withUnsafeMutableBufferPointer { dx in
        dOut.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xs in
                for i in 0..<xs.count {
                    let x = xs[i]
                    // in the forward pass this was: u = √(2/π)·(x + 0.044715·x³), out = ½x(1 + tanh u)
                    let u = geluScale * (x + geluCubic * x * x * x)
                    let t = tanh(u)
                    let dUdX = geluScale * (1 + 3 * geluCubic * x * x)
                    let local = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dUdX
                    dx[i] += g[i] * local
                }
            }
        }
    }
}
