// Bias add / bias gradient and the Linear kernels: forward against plain loops at awkward
// shapes, every gradient (dX, dWeight, dBias) against finite differences on non-square shapes.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct LinearTests {
    @Test func biasAddAndColumnSumsMatchLoops() {
        var rng = SplitMix64(seed: 21)
        for (N, M) in [(1, 1), (7, 33), (33, 7), (5, 127), (3, 256)] {
            let x = rng.gaussians(N * M), bias = rng.gaussians(M)
            var out = x
            biasAddForward(&out, bias, rows: N, cols: M)
            var expected = x
            for n in 0..<N { for m in 0..<M { expected[n * M + m] += bias[m] } }
            #expect(out == expected, "N \(N) M \(M)")

            var dBias = [Float](repeating: 1, count: M)   // starts non-zero: backward adds
            biasBackward(dBias: &dBias, dOut: x, rows: N, cols: M)
            var sums = [Double](repeating: 1, count: M)
            for n in 0..<N { for m in 0..<M { sums[m] += Double(x[n * M + m]) } }
            #expect(KernelCheck.maxDifference(dBias, sums.map { Float($0) }) < 1e-5, "N \(N) M \(M)")
        }
    }

    @Test func linearForwardMatchesNaive() {
        var rng = SplitMix64(seed: 22)
        for (N, D, M) in [(1, 1, 1), (7, 33, 5), (33, 7, 127), (127, 3, 1), (16, 32, 64)] {
            let x = rng.gaussians(N * D), w = rng.gaussians(D * M), b = rng.gaussians(M)
            var out = KernelCheck.zeros(N * M), expected = KernelCheck.zeros(N * M)
            linearForward(&out, x, weight: w, bias: b, rows: N, inFeatures: D, outFeatures: M)
            linearForwardNaive(&expected, x, weight: w, bias: b, rows: N, inFeatures: D, outFeatures: M)
            #expect(KernelCheck.maxDifference(out, expected) < 1e-4, "N \(N) D \(D) M \(M)")
            // without bias
            linearForward(&out, x, weight: w, bias: nil, rows: N, inFeatures: D, outFeatures: M)
            linearForwardNaive(&expected, x, weight: w, bias: nil, rows: N, inFeatures: D, outFeatures: M)
            #expect(KernelCheck.maxDifference(out, expected) < 1e-4, "no bias, N \(N) D \(D) M \(M)")
        }
    }

    @Test(arguments: [(3, 5, 4), (1, 7, 2), (6, 2, 9)])
    func linearBackwardMatchesNumericGradient(shape: (Int, Int, Int)) {
        let (N, D, M) = shape
        var rng = SplitMix64(seed: 23)
        let x = rng.gaussians(N * D), w = rng.gaussians(D * M), b = rng.gaussians(M)
        let dOut = rng.gaussians(N * M)
        var dX = KernelCheck.zeros(N * D), dW = KernelCheck.zeros(D * M), dB = KernelCheck.zeros(M)
        linearBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: w,
                       rows: N, inFeatures: D, outFeatures: M)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = KernelCheck.zeros(N * M)
            linearForward(&out, x, weight: w, bias: b, rows: N, inFeatures: D, outFeatures: M)
            return out
        }
        let results = [
            KernelCheck.check("linear dX", analytic: dX, at: x, dOut: dOut) { forward($0, w, b) },
            KernelCheck.check("linear dWeight", analytic: dW, at: w, dOut: dOut) { forward(x, $0, b) },
            KernelCheck.check("linear dBias", analytic: dB, at: b, dOut: dOut) { forward(x, w, $0) },
        ]
        for result in results { #expect(result.passed, "\(result)") }

        // The bias-free overload gives the same dX and dWeight.
        var dX2 = KernelCheck.zeros(N * D), dW2 = KernelCheck.zeros(D * M)
        linearBackward(dX: &dX2, dWeight: &dW2, dOut: dOut, x: x, weight: w,
                       rows: N, inFeatures: D, outFeatures: M)
        #expect(dX2 == dX && dW2 == dW)
    }

    @Test func linearBackwardAccumulates() {
        var rng = SplitMix64(seed: 24)
        let (N, D, M) = (4, 3, 5)
        let x = rng.gaussians(N * D), w = rng.gaussians(D * M), dOut = rng.gaussians(N * M)
        var dX = KernelCheck.zeros(N * D), dW = KernelCheck.zeros(D * M), dB = KernelCheck.zeros(M)
        linearBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: w,
                       rows: N, inFeatures: D, outFeatures: M)
        var dX2 = dX, dW2 = dW, dB2 = dB
        linearBackward(dX: &dX2, dWeight: &dW2, dBias: &dB2, dOut: dOut, x: x, weight: w,
                       rows: N, inFeatures: D, outFeatures: M)
        #expect(KernelCheck.maxDifference(dX2, dX.map { 2 * $0 }) < 1e-5)
        #expect(KernelCheck.maxDifference(dW2, dW.map { 2 * $0 }) < 1e-5)
        #expect(KernelCheck.maxDifference(dB2, dB.map { 2 * $0 }) < 1e-5)
    }
}
