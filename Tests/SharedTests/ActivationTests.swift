// ReLU, tanh, sigmoid and GELU: forward against the definition at awkward sizes, backward
// against finite differences, and a seeded bug that the checker must catch.
import Testing
import Foundation
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct ActivationTests {
    /// Runs `forward` at every test size on Gaussian inputs (plus a few large ones) and compares
    /// with `reference` applied elementwise in Double.
    func expectMatchesReference(_ forward: (inout [Float], [Float]) -> Void,
                                _ reference: (Double) -> Double, tolerance: Float = 1e-6) {
        var rng = SplitMix64(seed: 7)
        for n in KernelCheck.sizes {
            var x = rng.gaussians(n, std: 2)
            if n > 3 { x[0] = 30; x[1] = -30; x[2] = 0 }   // saturation and the kink
            var out = KernelCheck.zeros(n)
            forward(&out, x)
            let expected = x.map { Float(reference(Double($0))) }
            #expect(KernelCheck.maxDifference(out, expected) <= tolerance, "n = \(n)")
        }
    }

    @Test func reluForwardMatchesDefinition() {
        expectMatchesReference(reluForward) { max($0, 0) }
    }

    @Test func tanhForwardMatchesDefinition() {
        expectMatchesReference(tanhForward) { Foundation.tanh($0) }
    }

    @Test func sigmoidForwardMatchesDefinitionWithoutOverflow() {
        expectMatchesReference(sigmoidForward) { 1 / (1 + Foundation.exp(-$0)) }
        var out = KernelCheck.zeros(2)
        sigmoidForward(&out, [-1e4, 1e4])
        #expect(out == [0, 1])
    }

    @Test func geluForwardMatchesDefinition() {
        expectMatchesReference(geluForward) { x in
            0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
        // and against its Naive twin (the formula with the C library's tanh), tails included
        var rng = SplitMix64(seed: 8)
        for n in KernelCheck.sizes {
            let x = rng.gaussians(n, std: 3)
            var fast = KernelCheck.zeros(n), naive = KernelCheck.zeros(n)
            geluForward(&fast, x)
            geluForwardNaive(&naive, x)
            #expect(KernelCheck.maxDifference(fast, naive) < 1e-6, "n = \(n)")
        }
        // Known values (PyTorch gelu(approximate='tanh')): gelu(1) = 0.8411920, gelu(-1) = -0.1588080
        var out = KernelCheck.zeros(2)
        geluForward(&out, [1, -1])
        #expect(abs(out[0] - 0.8411920) < 1e-6 && abs(out[1] + 0.1588080) < 1e-6)
    }

    @Test(arguments: [1, 7, 33])
    func reluBackwardMatchesNumericGradient(n: Int) {
        var rng = SplitMix64(seed: 11)
        let x = KernelCheck.awayFromZero(n, rng: &rng), dOut = rng.gaussians(n)
        var dX = KernelCheck.zeros(n)
        reluBackward(dX: &dX, dOut: dOut, x: x)
        let result = KernelCheck.check("relu dX", analytic: dX, at: x, dOut: dOut) { x in
            var out = KernelCheck.zeros(x.count); reluForward(&out, x); return out
        }
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: [1, 7, 33])
    func tanhBackwardMatchesNumericGradient(n: Int) {
        var rng = SplitMix64(seed: 12)
        let x = rng.gaussians(n), dOut = rng.gaussians(n)
        var y = KernelCheck.zeros(n), dX = KernelCheck.zeros(n)
        tanhForward(&y, x)
        tanhBackward(dX: &dX, dOut: dOut, out: y)
        let result = KernelCheck.check("tanh dX", analytic: dX, at: x, dOut: dOut) { x in
            var out = KernelCheck.zeros(x.count); tanhForward(&out, x); return out
        }
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: [1, 7, 33])
    func sigmoidBackwardMatchesNumericGradient(n: Int) {
        var rng = SplitMix64(seed: 13)
        let x = rng.gaussians(n, std: 2), dOut = rng.gaussians(n)
        var y = KernelCheck.zeros(n), dX = KernelCheck.zeros(n)
        sigmoidForward(&y, x)
        sigmoidBackward(dX: &dX, dOut: dOut, out: y)
        let result = KernelCheck.check("sigmoid dX", analytic: dX, at: x, dOut: dOut) { x in
            var out = KernelCheck.zeros(x.count); sigmoidForward(&out, x); return out
        }
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: [1, 7, 33])
    func geluBackwardMatchesNumericGradient(n: Int) {
        var rng = SplitMix64(seed: 14)
        let x = rng.gaussians(n, std: 1.5), dOut = rng.gaussians(n)
        var dX = KernelCheck.zeros(n)
        geluBackward(dX: &dX, dOut: dOut, x: x)
        let result = KernelCheck.check("gelu dX", analytic: dX, at: x, dOut: dOut) { x in
            var out = KernelCheck.zeros(x.count); geluForward(&out, x); return out
        }
        #expect(result.passed, "\(result)")
    }

    @Test func backwardAddsIntoExistingGradient() {
        let x: [Float] = [-1, 2, 3], dOut: [Float] = [5, 6, 7]
        var dX: [Float] = [1, 1, 1]
        reluBackward(dX: &dX, dOut: dOut, x: x)
        #expect(dX == [1, 7, 8])
    }

    /// The checker is not vacuous: tanh' taken at the input (1 − x² instead of 1 − y²), a
    /// classic bug, must fail by a wide margin.
    @Test func wrongTanhBackwardFailsTheCheck() {
        var rng = SplitMix64(seed: 15)
        let x = rng.gaussians(33), dOut = rng.gaussians(33)
        var dX = KernelCheck.zeros(33)
        tanhBackward(dX: &dX, dOut: dOut, out: x)      // the bug: passes x where y belongs
        let result = KernelCheck.check("buggy tanh dX", analytic: dX, at: x, dOut: dOut) { x in
            var out = KernelCheck.zeros(x.count); tanhForward(&out, x); return out
        }
        #expect(!result.passed)
        #expect(result.error > 0.1, "\(result)")
    }
}
