// LayerNorm and RMSNorm: forward against the Double definition, every gradient against finite
// differences (batch > 1, non-trivial weight and bias), and a constant row staying finite.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct NormalizationTests {
    @Test func layerNormForwardMatchesNaive() {
        var rng = SplitMix64(seed: 51)
        for (N, C) in [(1, 1), (7, 33), (33, 7), (2, 127), (3, 256)] {
            let x = rng.gaussians(N * C, std: 2), w = rng.gaussians(C), b = rng.gaussians(C)
            var out = KernelCheck.zeros(N * C), expected = KernelCheck.zeros(N * C)
            var mean = KernelCheck.zeros(N), rstd = KernelCheck.zeros(N)
            layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: N, cols: C)
            layerNormForwardNaive(&expected, x, weight: w, bias: b, rows: N, cols: C)
            #expect(KernelCheck.maxDifference(out, expected) < 1e-4, "N \(N) C \(C)")
        }
    }

    @Test func layerNormOfAConstantRowIsFinite() {
        let C = 16
        let x = [Float](repeating: 3.7, count: C) + [Float](repeating: -1e4, count: C)
        let w = [Float](repeating: 1.5, count: C), b = [Float](repeating: 0.25, count: C)
        var out = KernelCheck.zeros(2 * C), mean = KernelCheck.zeros(2), rstd = KernelCheck.zeros(2)
        layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: 2, cols: C)
        #expect(out.allSatisfy { $0.isFinite } && rstd.allSatisfy { $0.isFinite })
        #expect(out.allSatisfy { abs($0 - 0.25) < 1e-2 })   // x − μ ≈ 0, so out ≈ bias
        var dX = KernelCheck.zeros(2 * C), dW = KernelCheck.zeros(C), dB = KernelCheck.zeros(C)
        var rng = SplitMix64(seed: 52)
        layerNormBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: rng.gaussians(2 * C), x: x,
                          weight: w, mean: mean, rstd: rstd, rows: 2, cols: C)
        #expect(dX.allSatisfy { $0.isFinite } && dW.allSatisfy { $0.isFinite })
    }

    @Test(arguments: [(3, 5), (1, 8), (4, 13)])
    func layerNormBackwardMatchesNumericGradient(shape: (Int, Int)) {
        let (N, C) = shape
        var rng = SplitMix64(seed: 53)
        let x = rng.gaussians(N * C), w = rng.gaussians(C), b = rng.gaussians(C)
        let dOut = rng.gaussians(N * C)
        var out = KernelCheck.zeros(N * C), mean = KernelCheck.zeros(N), rstd = KernelCheck.zeros(N)
        layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: N, cols: C)
        var dX = KernelCheck.zeros(N * C), dW = KernelCheck.zeros(C), dB = KernelCheck.zeros(C)
        layerNormBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: w,
                          mean: mean, rstd: rstd, rows: N, cols: C)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = KernelCheck.zeros(N * C), mean = KernelCheck.zeros(N), rstd = KernelCheck.zeros(N)
            layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: N, cols: C)
            return out
        }
        let results = [
            KernelCheck.check("layerNorm dX", analytic: dX, at: x, dOut: dOut) { forward($0, w, b) },
            KernelCheck.check("layerNorm dWeight", analytic: dW, at: w, dOut: dOut) { forward(x, $0, b) },
            KernelCheck.check("layerNorm dBias", analytic: dB, at: b, dOut: dOut) { forward(x, w, $0) },
        ]
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func rmsNormForwardMatchesDefinition() {
        var rng = SplitMix64(seed: 54)
        for (N, C) in [(1, 1), (7, 33), (33, 7), (2, 127), (3, 256)] {
            let x = rng.gaussians(N * C, std: 2), w = rng.gaussians(C)
            var out = KernelCheck.zeros(N * C), rstd = KernelCheck.zeros(N)
            rmsNormForward(&out, rstd: &rstd, x, weight: w, rows: N, cols: C)
            var expected = KernelCheck.zeros(N * C)
            for n in 0..<N {
                var squares = 0.0
                for i in 0..<C { squares += Double(x[n * C + i]) * Double(x[n * C + i]) }
                let s = 1 / (squares / Double(C) + 1e-5).squareRoot()
                for i in 0..<C { expected[n * C + i] = Float(Double(x[n * C + i]) * s * Double(w[i])) }
            }
            #expect(KernelCheck.maxDifference(out, expected) < 1e-4, "N \(N) C \(C)")
        }
        // an all-zero row stays finite (eps)
        var out = KernelCheck.zeros(4), rstd = KernelCheck.zeros(1)
        rmsNormForward(&out, rstd: &rstd, KernelCheck.zeros(4), weight: [1, 1, 1, 1], rows: 1, cols: 4)
        #expect(out == KernelCheck.zeros(4) && rstd[0].isFinite)
    }

    @Test(arguments: [(3, 5), (1, 8), (4, 13)])
    func rmsNormBackwardMatchesNumericGradient(shape: (Int, Int)) {
        let (N, C) = shape
        var rng = SplitMix64(seed: 55)
        let x = rng.gaussians(N * C), w = rng.gaussians(C), dOut = rng.gaussians(N * C)
        var out = KernelCheck.zeros(N * C), rstd = KernelCheck.zeros(N)
        rmsNormForward(&out, rstd: &rstd, x, weight: w, rows: N, cols: C)
        var dX = KernelCheck.zeros(N * C), dW = KernelCheck.zeros(C)
        rmsNormBackward(dX: &dX, dWeight: &dW, dOut: dOut, x: x, weight: w, rstd: rstd, rows: N, cols: C)
        func forward(_ x: [Float], _ w: [Float]) -> [Float] {
            var out = KernelCheck.zeros(N * C), rstd = KernelCheck.zeros(N)
            rmsNormForward(&out, rstd: &rstd, x, weight: w, rows: N, cols: C)
            return out
        }
        let results = [
            KernelCheck.check("rmsNorm dX", analytic: dX, at: x, dOut: dOut) { forward($0, w) },
            KernelCheck.check("rmsNorm dWeight", analytic: dW, at: w, dOut: dOut) { forward(x, $0) },
        ]
        for result in results { #expect(result.passed, "\(result)") }
    }
}
