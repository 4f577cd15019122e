// GELU, the transformer's MLP nonlinearity (weeks 8-10), in both of its forms:
//   exact (nanoGPT's nn.GELU(), the book's GPT):  gelu(x) = x·Φ(x) = ½·x·(1 + erf(x/√2))
//   tanh (GPT-2 and llm.c):  gelu(x) = ½·x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)
// The two differ by less than 1e-3 everywhere; a model must use the one it was trained with.
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
    // Each value goes through the same vector function whichever thread's range holds it,
    // so the thread count changes no bits.
    parallelRanges(n) { range in
        let start = range.lowerBound
        map16(out + start, x + start, count: range.count) { x in
            let u = geluScale * (x + geluCubic * x * x * x)
            return x * sigmoid16(2 * u)              // ½x(1 + tanh u) = x·σ(2u)
        }
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
    parallelRanges(n) { range in
        let start = range.lowerBound
        accumulate16(dX + start, dOut + start, x + start, count: range.count) { dOut, x in
            // in the forward pass this was: u = √(2/π)·(x + 0.044715·x³), out = x·σ(2u)
            let u = geluScale * (x + geluCubic * x * x * x)
            let s = sigmoid16(2 * u)                         // ½(1 + t)
            let dUdX = geluScale * (1 + 3 * geluCubic * x * x)
            return dOut * (s + 2 * x * s * (1 - s) * dUdX)   // ½(1+t) + ½x(1−t²)·u'
        }
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

// MARK: - The exact (erf) form

/// Φ(x), the standard normal CDF, and φ(x), its density, for 16 values.
/// Φ(x) = ½(1 + erf(x/√2)); erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7):
///   erf(z) = 1 − t·P(t)·e^{−z²},  t = 1/(1 + 0.3275911·z),  z >= 0.
/// Numerical trick: for x < 0 we return the tail ½·t·P(t)·e^{−x²/2} directly instead of
/// 1 − (1 − tail), so Φ keeps its relative precision far out in the left tail.
@inline(__always)
func normalCDFAndDensity16(_ x: SIMD16<Float>) -> (cdf: SIMD16<Float>, density: SIMD16<Float>) {
    let z = x.replacing(with: -x, where: x .< 0) * 0.707_106_781_186_547_5   // |x| / √2
    let t = 1 / (1 + 0.327_591_1 * z)
    var p = SIMD16<Float>(repeating: 1.061_405_429)
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    let gaussian = exp16(-z * z)                               // e^{−x²/2}
    let tail: SIMD16<Float> = 0.5 * p * t * gaussian           // Φ(−|x|)
    let one = SIMD16<Float>(repeating: 1)
    let cdf = (one - tail).replacing(with: tail, where: x .< 0)
    return (cdf, 0.398_942_280_401_432_7 * gaussian)           // φ(x) = e^{−x²/2}/√(2π)
}

/// out = x·Φ(x), the exact GELU (PyTorch's nn.GELU(), approximate='none'), elementwise, 16
/// values at a time, large buffers split across threads.   x, out: (n values), out overwritten.
public func geluErfForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "geluErfForward: negative count \(n)")
    @inline(__always) func gelu(_ v: SIMD16<Float>) -> SIMD16<Float> { v * normalCDFAndDensity16(v).cdf }
    parallelRanges(n) { range in
        // whole chunks of 16, then the last partial chunk through the same vector code
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            store16(gelu(load16(x + i)), out + i)
            i += 16
        }
        let rest = range.upperBound - i
        if rest > 0 { store16(gelu(load16(x + i, count: rest)), out + i, count: rest) }
    }
}

/// Backward of `geluErfForward`. Adds into dX. forward: out = x·Φ(x), so by the product rule
///   out' = Φ(x) + x·φ(x)        (Φ' = φ, the normal density)
///   dX, dOut, x: (n values), x the forward's input.
public func geluErfBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                            x: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "geluErfBackward: negative count \(n)")
    @inline(__always) func local(_ g: SIMD16<Float>, _ v: SIMD16<Float>) -> SIMD16<Float> {
        let (cdf, density) = normalCDFAndDensity16(v)
        return g * (cdf + v * density)
    }
    parallelRanges(n) { range in
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            store16(load16(dX + i) + local(load16(dOut + i), load16(x + i)), dX + i)
            i += 16
        }
        let rest = range.upperBound - i
        if rest > 0 {
            let product = local(load16(dOut + i, count: rest), load16(x + i, count: rest))
            store16(load16(dX + i, count: rest) + product, dX + i, count: rest)
        }
    }
}
