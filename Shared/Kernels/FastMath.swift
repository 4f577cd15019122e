// exp, tanh and sigmoid for 16 Floats at once. The C library computes one value per call
// (10-40 ns each here); softmax over attention scores and GELU over a transformer's MLP call
// them millions of times per step, so we vectorise them: about 0.4 ns per value, within
// 2 ulp of the C library's exp (checked in ActivationTests).
// Method: Cephes' expf (range reduction by powers of 2, then a degree-6 polynomial).

/// e^x for 16 values. Relative error about 1e-7 for x in [−87.3, 88]; e^x = 0 below −87.3
/// (the true value would be a denormal) and +∞ above 88.
///
/// How: write x = n·ln 2 + r with n an integer and |r| <= ½ln 2, so e^x = 2ⁿ · e^r. The
/// polynomial approximates e^r on that small interval; 2ⁿ is built directly in the exponent
/// bits of a Float.
@inlinable @inline(__always)
public func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let clamped = minimum16(maximum16(x, SIMD16(repeating: -87.3)), SIMD16(repeating: 88))
    // n = round(x / ln 2). Trick: adding 1.5·2²³ pushes the fraction bits out of the Float, so
    // the sum is rounded to an integer, and that integer sits in the low bits of its pattern.
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let shifted = clamped * 1.442_695_040_888_963_4 + magic
    let n = shifted - magic
    // r = x − n·ln 2, with ln 2 split in two parts (0.693359375 is exact in few bits) so the
    // subtraction loses no precision.
    var r = clamped - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    // e^r ≈ 1 + r + r²·P(r)   (Cephes' coefficients for expf)
    var p = SIMD16<Float>(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    // 2ⁿ: put n + 127 (the biased exponent) into the exponent bits 23...30.
    let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let twoToN = unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD16<Float>.self)
    return (p * twoToN)
        .replacing(with: 0, where: x .< -87.3)
        .replacing(with: .infinity, where: x .> 88)
}

/// σ(x) = 1 / (1 + e^−x) for 16 values. No overflow trouble: e^−x = +∞ gives exactly 0.
@inlinable @inline(__always)
public func sigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 / (1 + exp16(-x))
}

/// tanh(x) for 16 values, absolute error about 1e-7.
/// tanh(x) = 1 − 2/(e^2|x| + 1) with the sign of x restored; near 0 that form loses relative
/// precision (1 minus almost 1), so for |x| < 1/16 we use the Taylor series
/// x − x³/3 + 2x⁵/15 − 17x⁷/315 instead (its next term is below 1e-12 there).
@inlinable @inline(__always)
public func tanh16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let a = maximum16(x, -x)                     // |x|
    let fromExp = 1 - 2 / (exp16(2 * a) + 1)
    let signed = fromExp.replacing(with: -fromExp, where: x .< 0)
    let x2 = x * x
    var series = SIMD16<Float>(repeating: -17.0 / 315)  // Horner, innermost term first
    series = series * x2 + 2.0 / 15
    series = series * x2 - 1.0 / 3
    series = (series * x2 + 1) * x
    return signed.replacing(with: series, where: a .< 0.0625)
}

/// Up to 16 values from `p` (count <= 16), the other lanes set to `fill`: lets a loop
/// handle its last, partial chunk with the same vector code (and so the same rounding).
@inlinable @inline(__always)
public func load16(_ p: UnsafePointer<Float>, count: Int, fill: Float = 0) -> SIMD16<Float> {
    if count == 16 { return load16(p) }
    var v = SIMD16<Float>(repeating: fill)
    for lane in 0..<count { v[lane] = p[lane] }
    return v
}

/// Writes the first `count` lanes of `v` to `p` (count <= 16).
@inlinable @inline(__always)
public func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == 16 { store16(v, p); return }
    for lane in 0..<count { p[lane] = v[lane] }
}

/// out[i] = f(x[i]) for n values, 16 at a time; the last partial chunk goes through the same
/// vector function (padded with zeros), so every value is computed the same way.
@inlinable @inline(__always)
public func map16(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int,
           _ f: (SIMD16<Float>) -> SIMD16<Float>) {
    var i = 0
    while i + 16 <= n {
        store16(f(load16(x + i)), out + i)
        i += 16
    }
    if i < n { store16(f(load16(x + i, count: n - i)), out + i, count: n - i) }
}

/// dX[i] += local(dOut[i], y[i]) for n values, 16 at a time: the loop of every elementwise
/// backward, where `local` is dOut times the local derivative and y is what that derivative
/// is computed from (the forward's input x, its output, or a mask). The last partial chunk
/// goes through the same vector function, padded with zeros (and nothing is written past n).
@inlinable @inline(__always)
public func accumulate16(_ dX: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                  _ y: UnsafePointer<Float>, count n: Int,
                  _ local: (_ dOut: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float>) {
    var i = 0
    while i + 16 <= n {
        store16(load16(dX + i) + local(load16(dOut + i), load16(y + i)), dX + i)
        i += 16
    }
    if i < n {
        let rest = n - i
        let product = local(load16(dOut + i, count: rest), load16(y + i, count: rest))
        store16(load16(dX + i, count: rest) + product, dX + i, count: rest)
    }
}

