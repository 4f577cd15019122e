// Losses: fused softmax cross-entropy (mean, ignore index, per-row), MSE and binary
// cross-entropy with logits, against definitions, known values, ±1e4 logits and finite
// differences.
import Testing
import Foundation
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct LossTests {
    @Test func crossEntropyMatchesNaiveAndKnownValue() {
        var rng = SplitMix64(seed: 41)
        for (N, C) in [(1, 1), (7, 33), (33, 7), (2, 127), (4, 256)] {
            let z = rng.gaussians(N * C, std: 2)
            let y = (0..<N).map { _ in rng.int(below: C) }
            var p = KernelCheck.zeros(N * C), expectedP = KernelCheck.zeros(N * C)
            let loss = softmaxCrossEntropyForward(probs: &p, logits: z, targets: y, rows: N, classes: C)
            let expected = softmaxCrossEntropyForwardNaive(logits: z, targets: y, rows: N, classes: C)
            softmaxForwardNaive(&expectedP, z, rows: N, cols: C)
            #expect(abs(loss - expected) < 1e-5 * max(1, abs(expected)), "N \(N) C \(C)")
            #expect(KernelCheck.maxDifference(p, expectedP) < 1e-6)
        }
        // Uniform logits over 10 classes: the loss is ln 10.
        var p = KernelCheck.zeros(20)
        let loss = softmaxCrossEntropyForward(probs: &p, logits: KernelCheck.zeros(20), targets: [3, 9],
                                              rows: 2, classes: 10)
        #expect(abs(loss - log(10)) < 1e-6)
    }

    @Test func crossEntropyStaysFiniteForHugeLogits() {
        // The target's probability underflows to 0 in row 0, yet the loss is exact: 2e4.
        let z: [Float] = [1e4, -1e4, 0,   -1e4, 1e4, 1e4]
        var p = KernelCheck.zeros(6), dZ = KernelCheck.zeros(6)
        let loss = softmaxCrossEntropyForward(probs: &p, logits: z, targets: [1, 2], rows: 2, classes: 3)
        #expect(loss.isFinite)
        #expect(abs(loss - (2e4 + log(2)) / 2) < 1e-2)
        softmaxCrossEntropyBackward(dLogits: &dZ, probs: p, targets: [1, 2], rows: 2, classes: 3)
        #expect(dZ.allSatisfy { $0.isFinite })
        #expect(dZ[0] == 0.5 && dZ[1] == -0.5)    // (p − onehot)/N with p = (1, 0, 0)
    }

    @Test(arguments: [(3, 5), (1, 7), (8, 4)])
    func crossEntropyBackwardMatchesNumericGradient(shape: (Int, Int)) {
        let (N, C) = shape
        var rng = SplitMix64(seed: 42)
        let z = rng.gaussians(N * C), y = (0..<N).map { _ in rng.int(below: C) }
        var p = KernelCheck.zeros(N * C), dZ = KernelCheck.zeros(N * C)
        softmaxCrossEntropyForward(probs: &p, logits: z, targets: y, rows: N, classes: C)
        softmaxCrossEntropyBackward(dLogits: &dZ, probs: p, targets: y, rows: N, classes: C)
        let result = KernelCheck.checkScalar("cross-entropy dLogits", analytic: dZ, at: z) { z in
            var p = KernelCheck.zeros(N * C)
            return softmaxCrossEntropyForward(probs: &p, logits: z, targets: y, rows: N, classes: C)
        }
        #expect(result.passed, "\(result)")
    }

    @Test func ignoredRowsAddNothingAndDoNotCount() {
        var rng = SplitMix64(seed: 43)
        let (N, C) = (5, 4)
        let z = rng.gaussians(N * C), y = [2, -1, 0, -1, 3]
        var p = KernelCheck.zeros(N * C), dZ = KernelCheck.zeros(N * C)
        let loss = softmaxCrossEntropyForward(probs: &p, logits: z, targets: y, rows: N, classes: C,
                                              ignoreIndex: -1)
        // the mean over the three kept rows, from the kept rows alone
        let kept = [0, 2, 4]
        let keptLogits = kept.flatMap { Array(z[($0 * C)..<(($0 + 1) * C)]) }
        let expected = softmaxCrossEntropyForwardNaive(logits: keptLogits, targets: kept.map { y[$0] },
                                                       rows: 3, classes: C)
        #expect(abs(loss - expected) < 1e-6)
        softmaxCrossEntropyBackward(dLogits: &dZ, probs: p, targets: y, rows: N, classes: C, ignoreIndex: -1)
        #expect(dZ[(1 * C)..<(2 * C)].allSatisfy { $0 == 0 } && dZ[(3 * C)..<(4 * C)].allSatisfy { $0 == 0 })
        let result = KernelCheck.checkScalar("cross-entropy dLogits (ignore)", analytic: dZ, at: z) { z in
            var p = KernelCheck.zeros(N * C)
            return softmaxCrossEntropyForward(probs: &p, logits: z, targets: y, rows: N, classes: C,
                                              ignoreIndex: -1)
        }
        #expect(result.passed, "\(result)")
        // every row ignored: loss 0, no gradient
        var dAll = KernelCheck.zeros(N * C)
        #expect(softmaxCrossEntropyForward(probs: &p, logits: z, targets: [-1, -1, -1, -1, -1],
                                           rows: N, classes: C, ignoreIndex: -1) == 0)
        softmaxCrossEntropyBackward(dLogits: &dAll, probs: p, targets: [-1, -1, -1, -1, -1],
                                    rows: N, classes: C, ignoreIndex: -1)
        #expect(dAll.allSatisfy { $0 == 0 })
    }

    @Test func perRowLossesAndTheirBackward() {
        var rng = SplitMix64(seed: 44)
        let (N, C) = (4, 6)
        let z = rng.gaussians(N * C), y = [5, 0, 2, 2], dLosses = rng.gaussians(N)
        var losses = KernelCheck.zeros(N), p = KernelCheck.zeros(N * C), dZ = KernelCheck.zeros(N * C)
        softmaxCrossEntropyForward(losses: &losses, probs: &p, logits: z, targets: y, rows: N, classes: C)
        var pMean = KernelCheck.zeros(N * C)
        let mean = softmaxCrossEntropyForward(probs: &pMean, logits: z, targets: y, rows: N, classes: C)
        #expect(abs(losses.reduce(0, +) / Float(N) - Float(mean)) < 1e-6)
        softmaxCrossEntropyBackward(dLogits: &dZ, dLosses: dLosses, probs: p, targets: y, rows: N, classes: C)
        let result = KernelCheck.check("cross-entropy (none) dLogits", analytic: dZ, at: z, dOut: dLosses) { z in
            var losses = KernelCheck.zeros(N), p = KernelCheck.zeros(N * C)
            softmaxCrossEntropyForward(losses: &losses, probs: &p, logits: z, targets: y, rows: N, classes: C)
            return losses
        }
        #expect(result.passed, "\(result)")
    }

    @Test func mseMatchesDefinitionAndGradient() {
        var rng = SplitMix64(seed: 45)
        for n in KernelCheck.sizes {
            let prediction = rng.gaussians(n), target = rng.gaussians(n)
            var expected = 0.0
            for i in 0..<n { expected += pow(Double(prediction[i]) - Double(target[i]), 2) }
            #expect(abs(mseForward(prediction, target) - expected / Double(n)) < 1e-9)
        }
        #expect(mseForward([1, 2], [3, 2]) == 2)    // ((1−3)² + 0) / 2
        let prediction = rng.gaussians(7), target = rng.gaussians(7)
        var dP = KernelCheck.zeros(7)
        mseBackward(dPrediction: &dP, prediction: prediction, target: target)
        let result = KernelCheck.checkScalar("mse dPrediction", analytic: dP, at: prediction) {
            mseForward($0, target)
        }
        #expect(result.passed, "\(result)")
    }

    @Test func binaryCrossEntropyWithLogitsMatchesDefinitionAndIsStable() {
        var rng = SplitMix64(seed: 46)
        for n in KernelCheck.sizes {
            let z = rng.gaussians(n, std: 3), y = (0..<n).map { _ in Float(rng.int(below: 2)) }
            var expected = 0.0
            for i in 0..<n {
                let p = 1 / (1 + exp(-Double(z[i])))
                expected -= Double(y[i]) * log(p) + (1 - Double(y[i])) * log(1 - p)
            }
            #expect(abs(binaryCrossEntropyWithLogitsForward(z, y) - expected / Double(n)) < 1e-6)
        }
        // confidently right: ≈ 0; confidently wrong: ≈ |z|, finite
        let huge = binaryCrossEntropyWithLogitsForward([1e4, -1e4, 1e4, -1e4], [1, 0, 0, 1])
        #expect(huge.isFinite && abs(huge - 5e3) < 1e-6)
        let z = rng.gaussians(9, std: 2), y = rng.uniforms(9)      // soft targets too
        var dZ = KernelCheck.zeros(9)
        binaryCrossEntropyWithLogitsBackward(dLogits: &dZ, logits: z, targets: y)
        let result = KernelCheck.checkScalar("bce dLogits", analytic: dZ, at: z) {
            binaryCrossEntropyWithLogitsForward($0, y)
        }
        #expect(result.passed, "\(result)")
    }
}
