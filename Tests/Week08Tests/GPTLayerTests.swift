// Week 8: every piece of the GPT block against finite differences (L = Σ out ⊙ dOut for a
// seeded random dOut, centred differences, ‖a − n‖/(‖a‖ + ‖n‖) < 1e-3), and the causal mask.
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Shared

@Suite struct Week08LayerTests {
    @Test func linearBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 1)
        let N = 3, I = 5, O = 4
        let x = rng.gaussians(N * I), weight = rng.gaussians(O * I), bias = rng.gaussians(O)
        let dOut = rng.gaussians(N * O)
        func loss(_ x: [Float], _ weight: [Float], _ bias: [Float]) -> Double {
            var out = [Float](repeating: 0, count: N * O)
            gptLinearForward(&out, x, weight: weight, bias: bias, rows: N, inFeatures: I, outFeatures: O)
            return projected(out, onto: dOut)
        }
        var dX = [Float](repeating: 0, count: N * I), dW = [Float](repeating: 0, count: O * I)
        var dB = [Float](repeating: 0, count: O)
        gptLinearBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: weight,
                          rows: N, inFeatures: I, outFeatures: O)
        #expect(normRelativeError(dX, numericGradient(of: { loss($0, weight, bias) }, at: x)) < 1e-3)
        #expect(normRelativeError(dW, numericGradient(of: { loss(x, $0, bias) }, at: weight)) < 1e-3)
        #expect(normRelativeError(dB, numericGradient(of: { loss(x, weight, $0) }, at: bias)) < 1e-3)
    }

    @Test(arguments: [false, true])
    func normBackwardMatchesNumericGradient(rms: Bool) {
        var rng = SplitMix64(seed: 2)
        let N = 3, C = 20
        let x = rng.gaussians(N * C), weight = rng.gaussians(C), bias = rng.gaussians(C), dOut = rng.gaussians(N * C)
        var mean = [Float](repeating: 0, count: N), rstd = [Float](repeating: 0, count: N)
        func loss(_ x: [Float], _ weight: [Float], _ bias: [Float]) -> Double {
            var out = [Float](repeating: 0, count: N * C)
            gptNormForward(&out, mean: &mean, rstd: &rstd, x, weight: weight, bias: bias, rms: rms,
                           rows: N, cols: C)
            return projected(out, onto: dOut)
        }
        _ = loss(x, weight, bias)
        var dX = [Float](repeating: 0, count: N * C), dW = [Float](repeating: 0, count: C)
        var dB = [Float](repeating: 0, count: C)
        gptNormBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: weight, mean: mean,
                        rstd: rstd, rms: rms, rows: N, cols: C)
        if rms {
            #expect(dB.allSatisfy { $0 == 0 })   // RMSNorm has no bias and ignores it
        } else {
            #expect(normRelativeError(dB, numericGradient(of: { loss(x, weight, $0) }, at: bias)) < 1e-3)
        }
        #expect(normRelativeError(dX, numericGradient(of: { loss($0, weight, bias) }, at: x)) < 1e-3)
        #expect(normRelativeError(dW, numericGradient(of: { loss(x, $0, bias) }, at: weight)) < 1e-3)
    }

    @Test func normForwardMatchesDefinition() {
        var rng = SplitMix64(seed: 3)
        for C in [1, 7, 33, 127, 128] {
            let N = 3
            let x = rng.gaussians(N * C), weight = rng.gaussians(C), bias = rng.gaussians(C)
            var out = [Float](repeating: 0, count: N * C), reference = out
            var mean = [Float](repeating: 0, count: N), rstd = mean
            gptNormForward(&out, mean: &mean, rstd: &rstd, x, weight: weight, bias: bias, rms: false, rows: N, cols: C)
            layerNormForwardNaive(&reference, x, weight: weight, bias: bias, rows: N, cols: C)
            #expect(normRelativeError(out, reference) < 1e-5, "C = \(C)")
        }
    }

    @Test(arguments: [false, true])
    func activationBackwardMatchesNumericGradient(relu: Bool) {
        var rng = SplitMix64(seed: 4)
        // ReLU's kink at 0 is avoided by the inputs (|x| >= 0.1), not by a looser tolerance
        let x = rng.gaussians(77).map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
        let dOut = rng.gaussians(77)
        func loss(_ x: [Float]) -> Double {
            var out = [Float](repeating: 0, count: x.count)
            gptActivationForward(&out, x, count: x.count, relu: relu)
            return projected(out, onto: dOut)
        }
        var dX = [Float](repeating: 0, count: x.count)
        gptActivationBackward(dX: &dX, dOut: dOut, x: x, count: x.count, relu: relu)
        #expect(normRelativeError(dX, numericGradient(of: loss, at: x)) < 1e-3)
    }

    @Test func geluIsExactErfGELU() {
        // nanoGPT's nn.GELU(): x·Φ(x) = ½x(1 + erf(x/√2)), checked at awkward sizes and in the tails
        var rng = SplitMix64(seed: 5)
        for n in [1, 7, 33, 127, 256] {
            let x = rng.gaussians(n, std: 3) + [-8, -5, -1e-3, 0, 1e-3, 5, 8].prefix(n)
            var out = [Float](repeating: 0, count: x.count)
            gptActivationForward(&out, x, count: x.count, relu: false)
            for i in 0..<x.count {
                let exact = 0.5 * Double(x[i]) * (1 + erf(Double(x[i]) / 2.0.squareRoot()))
                // A&S 7.1.26 keeps |erf error| < 1.5e-7, so |gelu error| < ½|x|·1.5e-7 plus rounding
                #expect(abs(Double(out[i]) - exact) <= 1.5e-7 * max(1, abs(Double(x[i]))), "gelu(\(x[i]))")
            }
        }
    }

    /// Attention over a fused q|k|v buffer: B 2, T 5, C 8, H 2 (D 4).
    @Test(arguments: [false, true])
    func attentionBackwardMatchesNumericGradient(dropout: Bool) {
        var rng = SplitMix64(seed: 6)
        let B = 2, T = 5, C = 8, H = 2
        let qkv = rng.gaussians(B * T * 3 * C), dOut = rng.gaussians(B * T * C)
        var mask = [Float](repeating: 1, count: B * H * T * T)
        if dropout { mask.withUnsafeMutableBufferPointer { gptDropoutMask($0.baseAddress!, count: $0.count, probability: 0.3, rng: &rng) } }
        var probs = [Float](repeating: 0, count: B * H * T * T), weights = probs
        func loss(_ qkv: [Float]) -> Double {
            var y = [Float](repeating: 0, count: B * T * C)
            if dropout {
                gptAttentionForward(&y, probs: &probs, qkv: qkv, weights: &weights, mask: mask,
                                    batch: B, length: T, width: C, heads: H)
            } else {
                gptAttentionForward(&y, probs: &probs, qkv: qkv, weights: nil, mask: nil,
                                    batch: B, length: T, width: C, heads: H)
            }
            return projected(y, onto: dOut)
        }
        _ = loss(qkv)
        var dQKV = [Float](repeating: 0, count: qkv.count), scratch = [Float](repeating: 0, count: B * H * T * T)
        if dropout {
            gptAttentionBackward(dQKV: &dQKV, scratch: &scratch, dY: dOut, qkv: qkv, probs: probs,
                                 weights: weights, mask: mask, batch: B, length: T, width: C, heads: H)
        } else {
            gptAttentionBackward(dQKV: &dQKV, scratch: &scratch, dY: dOut, qkv: qkv, probs: probs,
                                 weights: nil, mask: nil, batch: B, length: T, width: C, heads: H)
        }
        let numeric = numericGradient(of: loss, at: qkv)
        #expect(normRelativeError(dQKV, numeric) < 1e-3)
    }

    @Test func attentionIsCausal() {
        // Changing the keys and values of the last position changes no output before it.
        var rng = SplitMix64(seed: 7)
        let B = 1, T = 6, C = 8, H = 2
        var qkv = rng.gaussians(B * T * 3 * C)
        var probs = [Float](repeating: 0, count: B * H * T * T)
        func attend(_ qkv: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: B * T * C)
            gptAttentionForward(&y, probs: &probs, qkv: qkv, weights: nil, mask: nil, batch: B, length: T,
                                width: C, heads: H)
            return y
        }
        let before = attend(qkv)
        for c in C..<(3 * C) { qkv[(T - 1) * 3 * C + c] += 1 }
        let after = attend(qkv)
        #expect(Array(before[..<((T - 1) * C)]) == Array(after[..<((T - 1) * C)]))
        #expect(before[((T - 1) * C)...] != after[((T - 1) * C)...])
        // and every row of weights sums to 1 over the visible keys, 0 beyond
        for t in 0..<T {
            let row = probs[(t * T)..<(t * T + T)]
            #expect(abs(row.prefix(t + 1).reduce(0, +) - 1) < 1e-5)
            #expect(row.dropFirst(t + 1).allSatisfy { $0 == 0 })
        }
    }

    @Test func crossEntropyBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 8)
        let N = 4, V = 9
        let logits = rng.gaussians(N * V), targets = [3, 0, 8, 3]
        var probs = [Float](repeating: 0, count: N * V), losses = [Float](repeating: 0, count: N)
        func loss(_ logits: [Float]) -> Double {
            gptCrossEntropyForward(probs: &probs, losses: &losses, logits: logits, targets: targets, rows: N, vocabulary: V)
        }
        _ = loss(logits)
        gptCrossEntropyBackward(probsToGradient: &probs, targets: targets, rows: N, vocabulary: V)
        #expect(normRelativeError(probs, numericGradient(of: loss, at: logits)) < 1e-3)
    }
}
