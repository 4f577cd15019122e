// The kernels the GPT block (weeks 8-10) adds, each against finite differences (L = Σ out ⊙ dOut
// for a seeded random dOut, centred differences, ‖a − n‖/(‖a‖ + ‖n‖) < 1e-3) or its definition:
// nn.Linear's (out, in) layout, exact GELU, and the tied head's cross-entropy with a loss scale.
// (Attention, LayerNorm and RMSNorm have their own tests in SharedTests.)
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct TransformerKernelTests {
    @Test func linearWithOutByInWeightMatchesNumericGradient() {
        var rng = SplitMix64(seed: 1)
        let N = 3, I = 5, O = 4
        let x = rng.gaussians(N * I), weight = rng.gaussians(O * I), bias = rng.gaussians(O)
        let dOut = rng.gaussians(N * O)
        func loss(_ x: [Float], _ weight: [Float], _ bias: [Float]) -> Double {
            var out = [Float](repeating: 0, count: N * O)
            linearForward(&out, x, transposedWeight: weight, bias: bias, rows: N, inFeatures: I, outFeatures: O)
            return projected(out, onto: dOut)
        }
        // (O, I) is the transpose of weeks 2-7's (I, O): the same product as linearForward on Wᵀ
        var out = [Float](repeating: 0, count: N * O), reference = out
        linearForward(&out, x, transposedWeight: weight, bias: bias, rows: N, inFeatures: I, outFeatures: O)
        let transposed = (0..<(I * O)).map { weight[($0 % O) * I + $0 / O] }
        linearForwardNaive(&reference, x, weight: transposed, bias: bias, rows: N, inFeatures: I, outFeatures: O)
        #expect(normRelativeError(out, reference) < 1e-6)
        var dX = [Float](repeating: 0, count: N * I), dW = [Float](repeating: 0, count: O * I)
        var dB = [Float](repeating: 0, count: O)
        linearBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, transposedWeight: weight,
                       rows: N, inFeatures: I, outFeatures: O)
        #expect(normRelativeError(dX, numericGradient(of: { loss($0, weight, bias) }, at: x)) < 1e-3)
        #expect(normRelativeError(dW, numericGradient(of: { loss(x, $0, bias) }, at: weight)) < 1e-3)
        #expect(normRelativeError(dB, numericGradient(of: { loss(x, weight, $0) }, at: bias)) < 1e-3)
    }

    @Test func exactGELUBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 4)
        let x = rng.gaussians(77, std: 2), dOut = rng.gaussians(77)
        func loss(_ x: [Float]) -> Double {
            var out = [Float](repeating: 0, count: x.count)
            geluErfForward(&out, x, count: x.count)
            return projected(out, onto: dOut)
        }
        var dX = [Float](repeating: 0.5, count: x.count)   // adds: start from 0.5 and subtract it
        geluErfBackward(dX: &dX, dOut: dOut, x: x, count: x.count)
        #expect(normRelativeError(dX.map { $0 - 0.5 }, numericGradient(of: loss, at: x)) < 1e-3)
    }

    @Test func geluIsExactErfGELU() {
        // nanoGPT's nn.GELU(): x·Φ(x) = ½x(1 + erf(x/√2)), checked at awkward sizes and in the tails
        var rng = SplitMix64(seed: 5)
        for n in [1, 7, 33, 127, 256] {
            let x = rng.gaussians(n, std: 3) + [-8, -5, -1e-3, 0, 1e-3, 5, 8].prefix(n)
            var out = [Float](repeating: 0, count: x.count)
            geluErfForward(&out, x, count: x.count)
            for i in 0..<x.count {
                let exact = 0.5 * Double(x[i]) * (1 + erf(Double(x[i]) / 2.0.squareRoot()))
                // A&S 7.1.26 keeps |erf error| < 1.5e-7, so |gelu error| < ½|x|·1.5e-7 plus rounding
                #expect(abs(Double(out[i]) - exact) <= 1.5e-7 * max(1, abs(Double(x[i]))), "gelu(\(x[i]))")
            }
        }
    }

    @Test func crossEntropyWithLossScaleMatchesNumericGradient() {
        var rng = SplitMix64(seed: 8)
        let N = 4, V = 9, scale: Float = 0.25
        let logits = rng.gaussians(N * V), targets = [3, 0, 8, 3]
        var probs = [Float](repeating: 0, count: N * V)
        func loss(_ logits: [Float]) -> Double {
            Double(scale) * softmaxCrossEntropyForward(probs: &probs, logits: logits, targets: targets, rows: N, classes: V)
        }
        _ = loss(logits)
        var dLogits = [Float](repeating: 0, count: N * V)
        dLogits.withUnsafeMutableBufferPointer { d in
            softmaxCrossEntropyBackward(dLogits: d.baseAddress!, probs: probs, targets: targets, rows: N, classes: V,
                                        lossScale: scale)
        }
        #expect(normRelativeError(dLogits, numericGradient(of: loss, at: logits)) < 1e-3)
    }
}
