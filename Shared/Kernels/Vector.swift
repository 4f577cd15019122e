// Small building blocks the kernels share: loading and storing 16 Floats at a time.
// SIMD16<Float> becomes one AVX-512 register (or four NEON ones) with -target-cpu native, so
// an elementwise loop written with these helpers handles 16 values per instruction.

/// 16 consecutive Floats starting at `p` (no alignment needed).
@inlinable @inline(__always)
public func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Writes 16 consecutive Floats starting at `p` (no alignment needed).
@inlinable @inline(__always)
public func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Stops with one clear line when a buffer does not hold the values a shape asks for.
/// Kernels call it on entry, so a wrong shape fails loudly instead of reading past an array.
@inlinable @inline(__always)
public func requireCount(_ buffer: [Float], _ expected: Int, _ what: @autoclosure () -> String) {
    precondition(buffer.count == expected,
                 "\(what()) has \(buffer.count) values, the shape needs \(expected)")
}

/// Lane-wise maximum as one compare and one select, two vector instructions. (The standard
/// library's generic `pointwiseMax` is not specialised across modules and goes lane by lane.)
@inlinable @inline(__always)
public func maximum16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: a .< b)
}

/// Lane-wise minimum, as `maximum16`.
@inlinable @inline(__always)
public func minimum16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: b .< a)
}

/// y[i] += x[i] for i in 0..<n, 16 at a time.
@inlinable
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 16 <= n {
        store16(load16(y + i) + load16(x + i), y + i)
        i += 16
    }
    while i < n {
        y[i] += x[i]
        i += 1
    }
}
