// Row softmax (plain and causal): forward against the Double definition, stability at ±1e4,
// backward against finite differences, and a seeded bug (the Σ p·g term left out) that the
// checker must catch.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct SoftmaxTests {
    @Test func forwardMatchesNaive() {
        var rng = SplitMix64(seed: 31)
        for (N, C) in [(1, 1), (7, 33), (33, 7), (3, 127), (4, 256)] {
            let z = rng.gaussians(N * C, std: 3)
            var p = KernelCheck.zeros(N * C), expected = KernelCheck.zeros(N * C)
            softmaxForward(&p, z, rows: N, cols: C)
            softmaxForwardNaive(&expected, z, rows: N, cols: C)
            #expect(KernelCheck.maxDifference(p, expected) < 1e-6, "N \(N) C \(C)")
            for n in 0..<N {
                let rowSum = p[(n * C)..<((n + 1) * C)].reduce(0, +)
                #expect(abs(rowSum - 1) < 1e-5)
            }
        }
    }

    @Test func causalRowsSeeOnlyThePast() {
        var rng = SplitMix64(seed: 32)
        for T in [1, 7, 33] {
            let N = 2 * T                         // two stacked T×T blocks (B·H = 2)
            let z = rng.gaussians(N * T)
            var p = KernelCheck.zeros(N * T), expected = KernelCheck.zeros(N * T)
            softmaxForward(&p, z, rows: N, cols: T, causal: true)
            softmaxForwardNaive(&expected, z, rows: N, cols: T, causal: true)
            #expect(KernelCheck.maxDifference(p, expected) < 1e-6, "T \(T)")
            for n in 0..<N {
                let t = n % T
                for s in 0..<T where s > t { #expect(p[n * T + s] == 0) }
                #expect(abs(p[(n * T)...(n * T + t)].reduce(0, +) - 1) < 1e-5)
            }
            #expect(p[0] == 1)                    // the first position sees only itself
        }
    }

    @Test func staysFiniteForHugeLogits() {
        let z: [Float] = [1e4, -1e4, 0, 1e4 - 1,   -1e4, -1e4, -1e4, -1e4]
        var p = KernelCheck.zeros(8)
        softmaxForward(&p, z, rows: 2, cols: 4)
        #expect(p.allSatisfy { $0.isFinite })
        #expect(abs(p[0] - 0.7310586) < 1e-6 && abs(p[3] - 0.2689414) < 1e-6 && p[1] == 0)
        #expect(p[4...].allSatisfy { $0 == 0.25 })
    }

    @Test(arguments: [false, true])
    func backwardMatchesNumericGradient(causal: Bool) {
        var rng = SplitMix64(seed: 33)
        let (N, C) = (10, 5)                      // causal: two 5×5 blocks
        let z = rng.gaussians(N * C), dOut = rng.gaussians(N * C)
        var p = KernelCheck.zeros(N * C), dZ = KernelCheck.zeros(N * C)
        softmaxForward(&p, z, rows: N, cols: C, causal: causal)
        softmaxBackward(dLogits: &dZ, dProbs: dOut, probs: p, rows: N, cols: C)
        let result = KernelCheck.check("softmax dLogits", analytic: dZ, at: z, dOut: dOut) { z in
            var p = KernelCheck.zeros(N * C)
            softmaxForward(&p, z, rows: N, cols: C, causal: causal)
            return p
        }
        #expect(result.passed, "\(result)")
        if causal {                                // masked logits get no gradient
            for n in 0..<N { for s in 0..<C where s > n % C { #expect(dZ[n * C + s] == 0) } }
        }
    }

    /// A backward that forgets the normalisation term (dz = p ⊙ g) must fail the check.
    @Test func missingSoftmaxTermFailsTheCheck() {
        var rng = SplitMix64(seed: 34)
        let (N, C) = (3, 6)
        let z = rng.gaussians(N * C), dOut = rng.gaussians(N * C)
        var p = KernelCheck.zeros(N * C)
        softmaxForward(&p, z, rows: N, cols: C)
        let buggy = (0..<(N * C)).map { p[$0] * dOut[$0] }
        let result = KernelCheck.check("buggy softmax dLogits", analytic: buggy, at: z, dOut: dOut) { z in
            var p = KernelCheck.zeros(N * C)
            softmaxForward(&p, z, rows: N, cols: C)
            return p
        }
        #expect(!result.passed)
        #expect(result.error > 0.1, "\(result)")
    }

    @Test func largeInputsSplitAcrossCoresMatchNaiveAndRepeatBitForBit() {
        // 64 × 1024 values is above the parallel threshold, so the rows are split across cores.
        var rng = SplitMix64(seed: 35)
        let (N, C) = (64, 1024)
        let z = rng.gaussians(N * C)
        var first = KernelCheck.zeros(N * C), second = KernelCheck.zeros(N * C)
        softmaxForward(&first, z, rows: N, cols: C)
        softmaxForward(&second, z, rows: N, cols: C)
        #expect(first == second)
        var expected = KernelCheck.zeros(N * C)
        softmaxForwardNaive(&expected, z, rows: N, cols: C)
        #expect(KernelCheck.maxDifference(first, expected) < 1e-6)
    }
}
