// Embedding gather / scatter-add and seeded inverted dropout.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct EmbeddingTests {
    @Test func forwardGathersRows() {
        var rng = SplitMix64(seed: 61)
        for (V, C) in [(1, 1), (7, 33), (33, 7), (5, 127)] {
            let table = rng.gaussians(V * C)
            let ids = (0..<9).map { _ in rng.int(below: V) }
            var out = KernelCheck.zeros(ids.count * C)
            embeddingForward(&out, ids: ids, table: table, vocabulary: V, dimension: C)
            for (n, id) in ids.enumerated() {
                #expect(Array(out[(n * C)..<((n + 1) * C)]) == Array(table[(id * C)..<((id + 1) * C)]))
            }
        }
    }

    @Test func backwardMatchesNumericGradientWithRepeatedIds() {
        var rng = SplitMix64(seed: 62)
        let (V, C) = (6, 4)
        let ids = [2, 0, 2, 5, 2, 1, 0]               // repeats collect; 3 and 4 unused
        let table = rng.gaussians(V * C), dOut = rng.gaussians(ids.count * C)
        var dTable = KernelCheck.zeros(V * C)
        embeddingBackward(dTable: &dTable, dOut: dOut, ids: ids, vocabulary: V, dimension: C)
        let result = KernelCheck.check("embedding dTable", analytic: dTable, at: table, dOut: dOut) { t in
            var out = KernelCheck.zeros(ids.count * C)
            embeddingForward(&out, ids: ids, table: t, vocabulary: V, dimension: C)
            return out
        }
        #expect(result.passed, "\(result)")
        #expect(dTable[(3 * C)..<(5 * C)].allSatisfy { $0 == 0 })
    }
}

@Suite struct DropoutTests {
    @Test func sameSeedGivesTheSameMaskBitForBit() {
        var input = SplitMix64(seed: 70)
        let x = input.gaussians(1000)
        var outA = KernelCheck.zeros(1000), maskA = KernelCheck.zeros(1000)
        var outB = KernelCheck.zeros(1000), maskB = KernelCheck.zeros(1000)
        var rngA = SplitMix64(seed: 71), rngB = SplitMix64(seed: 71)
        dropoutForward(&outA, mask: &maskA, x, probability: 0.3, rng: &rngA)
        dropoutForward(&outB, mask: &maskB, x, probability: 0.3, rng: &rngB)
        #expect(maskA == maskB && outA == outB && rngA.state == rngB.state)
        // a different seed gives a different mask
        var rngC = SplitMix64(seed: 72), maskC = KernelCheck.zeros(1000)
        dropoutForward(&outB, mask: &maskC, x, probability: 0.3, rng: &rngC)
        #expect(maskC != maskA)
    }

    @Test func maskDropsAboutPAndKeepsTheExpectation() {
        var rng = SplitMix64(seed: 73)
        let n = 20_000, p: Float = 0.25
        let x = [Float](repeating: 1, count: n)
        var out = KernelCheck.zeros(n), mask = KernelCheck.zeros(n)
        dropoutForward(&out, mask: &mask, x, probability: p, rng: &rng)
        let dropped = mask.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / Double(n) - 0.25) < 0.015)          // ~5 standard deviations
        #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
        let mean = out.reduce(0, +) / Float(n)
        #expect(abs(mean - 1) < 0.03)                                      // inverted scaling
        // p = 0: identity, and the generator is not advanced
        let before = rng.state
        dropoutForward(&out, mask: &mask, x, probability: 0, rng: &rng)
        #expect(out == x && rng.state == before)
    }

    @Test func backwardMatchesNumericGradientWithAFixedMask() {
        var rng = SplitMix64(seed: 74)
        let n = 33, p: Float = 0.4
        let x = rng.gaussians(n), dOut = rng.gaussians(n)
        var out = KernelCheck.zeros(n), mask = KernelCheck.zeros(n), dX = KernelCheck.zeros(n)
        var maskRng = SplitMix64(seed: 75)
        dropoutForward(&out, mask: &mask, x, probability: p, rng: &maskRng)
        dropoutBackward(dX: &dX, dOut: dOut, mask: mask)
        // the same seed for every evaluation fixes the mask: the function of x is x ⊙ mask
        let result = KernelCheck.check("dropout dX", analytic: dX, at: x, dOut: dOut) { x in
            var again = SplitMix64(seed: 75)
            var out = KernelCheck.zeros(n), m = KernelCheck.zeros(n)
            dropoutForward(&out, mask: &m, x, probability: p, rng: &again)
            return out
        }
        #expect(result.passed, "\(result)")
        #expect(mask.contains(0) && dX.enumerated().allSatisfy { mask[$0.offset] != 0 || $0.element == 0 })
    }
}
