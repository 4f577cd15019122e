// The fused softmax cross-entropy's pointer entry points against the array forms (the same
// bits) and the naive reference; in place over the logits, with a padded vocabulary and ignored rows.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct CrossEntropyPointerTests {
    @Test func crossEntropyPointerFormsMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 305)
        for (N, C) in rowShapes where C > 0 {
            let logits = rng.gaussians(N * C, std: 3)
            let targets = (0..<N).map { _ in Int(rng.next() % UInt64(C)) }
            let dLosses = rng.gaussians(N), dLogits0 = rng.gaussians(N * C)
            // array forms: mean and per-row, forward and backward
            var probs = KernelCheck.zeros(N * C), probs2 = KernelCheck.zeros(N * C)
            var losses = KernelCheck.zeros(N)
            let loss = softmaxCrossEntropyForward(probs: &probs, logits: logits, targets: targets,
                                                  rows: N, classes: C)
            softmaxCrossEntropyForward(losses: &losses, probs: &probs2, logits: logits,
                                       targets: targets, rows: N, classes: C)
            var dMean = dLogits0, dRows = dLogits0
            softmaxCrossEntropyBackward(dLogits: &dMean, probs: probs, targets: targets, rows: N, classes: C)
            softmaxCrossEntropyBackward(dLogits: &dRows, dLosses: dLosses, probs: probs,
                                        targets: targets, rows: N, classes: C)
            // pointer forms
            let arena = GuardedArena()
            let pz = arena.floats(logits), py = arena.ints(targets)
            let pp = arena.zeros(N * C), pp2 = arena.zeros(N * C), pl = arena.zeros(N)
            let pointerLoss = softmaxCrossEntropyForward(probs: pp, logits: pz, targets: py, rows: N, classes: C)
            softmaxCrossEntropyForward(losses: pl, probs: pp2, logits: pz, targets: py, rows: N, classes: C)
            let pdMean = arena.floats(dLogits0), pdRows = arena.floats(dLogits0)
            softmaxCrossEntropyBackward(dLogits: pdMean, probs: pp, targets: py, rows: N, classes: C)
            softmaxCrossEntropyBackward(dLogits: pdRows, dLosses: arena.floats(dLosses), probs: pp,
                                        targets: py, rows: N, classes: C)
            #expect(pointerLoss.bitPattern == loss.bitPattern, "N \(N) C \(C)")
            #expect(KernelCheck.sameBits(values(pp, N * C), probs) && KernelCheck.sameBits(values(pp2, N * C), probs2))
            #expect(KernelCheck.sameBits(values(pl, N), losses))
            #expect(KernelCheck.sameBits(values(pdMean, N * C), dMean), "N \(N) C \(C)")
            #expect(KernelCheck.sameBits(values(pdRows, N * C), dRows), "N \(N) C \(C)")
            #expect(arena.guardsIntact, "N \(N) C \(C)")
            // naive: −log of the Double softmax, and p − onehot scaled per row
            if N > 0 {
                let expected = softmaxCrossEntropyForwardNaive(logits: logits, targets: targets, rows: N, classes: C)
                #expect(abs(loss - expected) < 1e-5 * max(1, abs(expected)), "N \(N) C \(C)")
            }
            var naiveProbs = KernelCheck.zeros(N * C)
            softmaxForwardNaive(&naiveProbs, logits, rows: N, cols: C)
            let expectedMean = (0..<(N * C)).map { i -> Float in
                let onehot: Float = i % C == targets[i / C] ? 1 : 0
                return dLogits0[i] + (naiveProbs[i] - onehot) / Float(N)
            }
            let expectedRows = (0..<(N * C)).map { i -> Float in
                let onehot: Float = i % C == targets[i / C] ? 1 : 0
                return dLogits0[i] + dLosses[i / C] * (naiveProbs[i] - onehot)
            }
            #expect(KernelCheck.maxDifference(dMean, expectedMean) < 1e-5, "N \(N) C \(C)")
            #expect(KernelCheck.maxDifference(dRows, expectedRows) < 1e-5, "N \(N) C \(C)")
        }
    }

    @Test func crossEntropyInPlaceWithPaddedVocabularyAndIgnoredRows() {
        // llm.c's layout: logits (N, Vp) with only the first V columns real; probs written over
        // the logits; one row ignored (padding).
        var rng = SplitMix64(seed: 306)
        let (N, V, Vp) = (6, 65, 80)
        let logits = rng.gaussians(N * V, std: 2)
        var targets = (0..<N).map { _ in Int(rng.next() % UInt64(V)) }
        targets[2] = -100
        var probs = KernelCheck.zeros(N * V)
        let loss = softmaxCrossEntropyForward(probs: &probs, logits: logits, targets: targets,
                                              rows: N, classes: V, ignoreIndex: -100)
        var dLogits = KernelCheck.zeros(N * V)
        softmaxCrossEntropyBackward(dLogits: &dLogits, probs: probs, targets: targets, rows: N,
                                    classes: V, ignoreIndex: -100)
        var buffer = padded(logits, rows: N, cols: V, rowStride: Vp)
        var dBuffer = padded(KernelCheck.zeros(N * V), rows: N, cols: V, rowStride: Vp)
        let inPlaceLoss = buffer.withUnsafeMutableBufferPointer { z in
            softmaxCrossEntropyForward(probs: z.baseAddress!, logits: z.baseAddress!, targets: targets,
                                       rows: N, classes: V, ignoreIndex: -100, rowStride: Vp)
        }
        dBuffer.withUnsafeMutableBufferPointer { d in
            softmaxCrossEntropyBackward(dLogits: d.baseAddress!, probs: buffer, targets: targets,
                                        rows: N, classes: V, ignoreIndex: -100, rowStride: Vp)
        }
        #expect(inPlaceLoss.bitPattern == loss.bitPattern)
        #expect(KernelCheck.sameBits(unpadded(buffer, rows: N, cols: V, rowStride: Vp), probs))
        #expect(KernelCheck.sameBits(unpadded(dBuffer, rows: N, cols: V, rowStride: Vp), dLogits))
        #expect(paddingUntouched(buffer, rows: N, cols: V, rowStride: Vp))
        #expect(paddingUntouched(dBuffer, rows: N, cols: V, rowStride: Vp))
        #expect((0..<V).allSatisfy { dLogits[2 * V + $0] == 0 })   // the ignored row: no gradient
    }
}
