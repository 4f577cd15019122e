// Seeded random numbers for every week: the same seed gives the same sequence on every
// run and every machine (the system generator cannot be seeded, so we bring our own).
// SplitMix64: Steele, Lea, Flood, "Fast splittable pseudorandom number generators" (2014).

/// A tiny, fast, seedable 64-bit generator. Conforms to `RandomNumberGenerator`, so it also
/// works with the standard library (`Int.random(in:using:)`, `shuffle(using:)`), but the
/// helpers below are what the workbook uses: they are written out so the sequence they give
/// is fixed by this file alone, not by the standard library's implementation.
public struct SplitMix64: RandomNumberGenerator {
    /// The whole state: one 64-bit counter. Saving it (checkpoints) and restoring it resumes
    /// the exact sequence.
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// Next 64 random bits: add the golden-ratio increment, then scramble.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform Float in [0, 1): the top 24 bits, exactly representable.
    @inlinable
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform Double in [0, 1): the top 53 bits.
    @inlinable
    public mutating func uniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform Float in [low, high).
    @inlinable
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * uniform()
    }

    /// Uniform integer in 0..<bound (bound > 0), without modulo bias (Lemire's method).
    @inlinable
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0, "int(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Standard normal N(0, 1) by the Box–Muller transform (one of the pair is used, so the
    /// generator's state alone determines the next value: nothing hidden to checkpoint).
    @inlinable
    public mutating func normal() -> Float {
        // u1 in (0, 1] so log(u1) is finite.
        let u1 = 1.0 - uniformDouble()
        let u2 = uniformDouble()
        return Float((-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2))
    }

    /// N(mean, std²).
    @inlinable
    public mutating func normal(mean: Float, std: Float) -> Float {
        mean + std * normal()
    }

    /// `count` independent standard normals, scaled by `std`.
    public mutating func gaussians(_ count: Int, std: Float = 1) -> [Float] {
        (0..<count).map { _ in std * normal() }
    }

    /// `count` uniforms in [low, high).
    public mutating func uniforms(_ count: Int, _ low: Float = 0, _ high: Float = 1) -> [Float] {
        (0..<count).map { _ in uniform(low, high) }
    }

    /// Fisher–Yates shuffle in place: for i from the end, swap a[i] with a[j], j uniform in 0...i.
    public mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count - 1
        while i > 0 {
            let j = int(below: i + 1)
            array.swapAt(i, j)
            i -= 1
        }
    }

    /// A random permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        shuffle(&order)
        return order
    }

    /// Index drawn from a discrete distribution `probabilities` (non-negative, summing to
    /// about 1; the last index absorbs rounding). Used for sampling text.
    public mutating func categorical(_ probabilities: [Float]) -> Int {
        let r = uniformDouble()
        var cumulative = 0.0
        for (i, p) in probabilities.enumerated() {
            cumulative += Double(p)
            if r < cumulative { return i }
        }
        return probabilities.count - 1
    }
}

// Foundation-free log and cos for the Box-Muller transform: the C library's, which Swift's
// Foundation/Glibc/Darwin would also call.
#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
