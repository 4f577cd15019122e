// MSE and binary cross-entropy over pointer ranges: against the array forms (the same bits)
// and the definitions in Double, at sizes 0, 1, 7, 33, 127 and 256, on NaN-guarded buffers.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct LossPointerTests {
    @Test func msePointerFormsMatchArrayFormsAndDefinition() {
        var rng = SplitMix64(seed: 611)
        for n in KernelCheck.pointerSizes {
            let p = rng.gaussians(n), t = rng.gaussians(n), d0 = rng.gaussians(n)
            var d = d0
            let loss = mseForward(p, t)
            mseBackward(dPrediction: &d, prediction: p, target: t, dLoss: 0.5)
            let arena = GuardedArena()
            let pp = arena.floats(p), pt = arena.floats(t), pd = arena.floats(d0)
            #expect(mseForward(pp, pt, count: n).bitPattern == loss.bitPattern, "n \(n)")
            mseBackward(dPrediction: pd, prediction: pp, target: pt, count: n, dLoss: 0.5)
            #expect(KernelCheck.sameBits(values(pd, n), d) && arena.guardsIntact, "n \(n)")
            let expected = n == 0 ? 0 : zip(p, t).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(n)
            #expect(abs(loss - expected) < 1e-12, "n \(n)")
            let expectedD = (0..<n).map { d0[$0] + Float(0.5 * 2 * (Double(p[$0]) - Double(t[$0])) / Double(n)) }
            #expect(KernelCheck.maxDifference(d, expectedD) < 1e-6, "n \(n)")
        }
    }

    @Test func binaryCrossEntropyPointerFormsMatchArrayFormsAndDefinition() {
        var rng = SplitMix64(seed: 612)
        for n in KernelCheck.pointerSizes {
            let z = rng.gaussians(n, std: 4), y = rng.uniforms(n), d0 = rng.gaussians(n)
            var d = d0
            let loss = binaryCrossEntropyWithLogitsForward(z, y)
            binaryCrossEntropyWithLogitsBackward(dLogits: &d, logits: z, targets: y, dLoss: 2)
            let arena = GuardedArena()
            let pz = arena.floats(z), py = arena.floats(y), pd = arena.floats(d0)
            #expect(binaryCrossEntropyWithLogitsForward(pz, py, count: n).bitPattern == loss.bitPattern, "n \(n)")
            binaryCrossEntropyWithLogitsBackward(dLogits: pd, logits: pz, targets: py, count: n, dLoss: 2)
            #expect(KernelCheck.sameBits(values(pd, n), d) && arena.guardsIntact, "n \(n)")
            // −[y·log σ(z) + (1 − y)·log(1 − σ(z))] and (σ(z) − y)·dLoss/n, in Double
            func sigma(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
            let expected = n == 0 ? 0 : zip(z, y).reduce(0.0) { sum, pair in
                let s = sigma(Double(pair.0)), y = Double(pair.1)
                return sum - (y * log(s) + (1 - y) * log(1 - s))
            } / Double(n)
            #expect(abs(loss - expected) < 1e-9, "n \(n)")
            let expectedD = (0..<n).map { d0[$0] + Float(2 * (sigma(Double(z[$0])) - Double(y[$0])) / Double(n)) }
            #expect(KernelCheck.maxDifference(d, expectedD) < 1e-6, "n \(n)")
        }
    }
}
