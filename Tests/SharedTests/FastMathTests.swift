// The vectorised exp / tanh / sigmoid under softmax and the activations: accuracy against
// the C library over their whole range, exact limits, and the padded tail path.
import Testing
import Foundation
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct FastMathTests {
    /// Applies a 16-wide function to every value of `xs` (through map16, tail included).
    func apply(_ f: (SIMD16<Float>) -> SIMD16<Float>, _ xs: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: xs.count)
        out.withUnsafeMutableBufferPointer { o in
            xs.withUnsafeBufferPointer { x in map16(o.baseAddress!, x.baseAddress!, count: xs.count, f) }
        }
        return out
    }

    @Test func expMatchesTheCLibraryWithinAFewUlp() {
        let xs = stride(from: Float(-87), through: 88, by: 0.0137).map { $0 }   // 12,775 values
        let fast = apply(exp16, xs)
        var worst = 0.0
        for (i, x) in xs.enumerated() {
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(fast[i]) - exact) / exact)
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(apply(exp16, [0, -1e4, 1e4, -.infinity, 1]) == [1, 0, .infinity, 0, Float(M_E)])
    }

    @Test func tanhAndSigmoidMatchTheCLibrary() {
        let xs = stride(from: Float(-20), through: 20, by: 0.00731).map { $0 } + [1e-7, -3e-5, 0.06, 1e4, -1e4]
        let t = apply(tanh16, xs), s = apply(sigmoid16, xs)
        var worstTanh = 0.0, worstSigmoid = 0.0, worstSmallRelative = 0.0
        for (i, x) in xs.enumerated() {
            let exactTanh = Foundation.tanh(Double(x)), exactSigmoid = 1 / (1 + Foundation.exp(-Double(x)))
            worstTanh = max(worstTanh, abs(Double(t[i]) - exactTanh))
            worstSigmoid = max(worstSigmoid, abs(Double(s[i]) - exactSigmoid))
            if abs(x) < 0.0625 && x != 0 {      // near 0: relative accuracy, not just absolute
                worstSmallRelative = max(worstSmallRelative, abs(Double(t[i]) - exactTanh) / abs(exactTanh))
            }
        }
        #expect(worstTanh < 3e-7, "tanh worst absolute error \(worstTanh)")
        #expect(worstSigmoid < 3e-7, "sigmoid worst absolute error \(worstSigmoid)")
        #expect(worstSmallRelative < 1e-6, "tanh near 0, worst relative error \(worstSmallRelative)")
        #expect(apply(tanh16, [0, 1e4, -1e4]) == [0, 1, -1])
        #expect(apply(sigmoid16, [0, 1e4, -1e4]) == [0.5, 1, 0])
    }

    @Test func tailValuesAreComputedLikeTheOthers() {
        // The same value at a full-chunk position and in the padded tail gives the same bits.
        var rng = SplitMix64(seed: 101)
        let head = rng.gaussians(16)
        let xs = head + Array(head.prefix(5))      // 21 values: one chunk, then a tail of 5
        let out = apply(tanh16, xs)
        #expect(Array(out[16...]) == Array(out[..<5]))
    }
}
