// LayerNorm's pointer entry points against the array forms (the same bits) and the naive
// reference, on NaN-guarded buffers at sizes 0, 1, 7, 33, 127 and 256, and with a padded row stride.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct LayerNormPointerTests {
    @Test func layerNormPointerFormsMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 301)
        for (N, C) in rowShapes where C > 0 || N == 0 {
            let x = rng.gaussians(N * C, std: 2), w = rng.gaussians(C), b = rng.gaussians(C)
            let dOut = rng.gaussians(N * C)
            // array forms
            var out = KernelCheck.zeros(N * C), mean = KernelCheck.zeros(N), rstd = KernelCheck.zeros(N)
            layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: N, cols: C)
            var dX = rng.gaussians(N * C), dW = rng.gaussians(C), dB = rng.gaussians(C)
            let (dX0, dW0, dB0) = (dX, dW, dB)
            layerNormBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: w,
                              mean: mean, rstd: rstd, rows: N, cols: C)
            // pointer forms on guarded buffers
            let arena = GuardedArena()
            let px = arena.floats(x), pw = arena.floats(w), pb = arena.floats(b)
            let po = arena.zeros(N * C), pm = arena.zeros(N), pr = arena.zeros(N)
            layerNormForward(po, mean: pm, rstd: pr, px, weight: pw, bias: pb, rows: N, cols: C)
            let pdX = arena.floats(dX0), pdW = arena.floats(dW0), pdB = arena.floats(dB0)
            layerNormBackward(dX: pdX, dWeight: pdW, dBias: pdB, dOut: arena.floats(dOut), x: px,
                              weight: pw, mean: pm, rstd: pr, rows: N, cols: C)
            #expect(KernelCheck.sameBits(values(po, N * C), out), "forward N \(N) C \(C)")
            #expect(KernelCheck.sameBits(values(pm, N), mean) && KernelCheck.sameBits(values(pr, N), rstd))
            #expect(KernelCheck.sameBits(values(pdX, N * C), dX), "dX N \(N) C \(C)")
            #expect(KernelCheck.sameBits(values(pdW, C), dW) && KernelCheck.sameBits(values(pdB, C), dB))
            #expect(arena.guardsIntact, "N \(N) C \(C)")
            // naive references: the forward's definition, and the backward's in Double
            var expected = KernelCheck.zeros(N * C)
            layerNormForwardNaive(&expected, x, weight: w, bias: b, rows: N, cols: C)
            #expect(KernelCheck.maxDifference(out, expected) < 1e-4, "N \(N) C \(C)")
            let naive = layerNormBackwardNaive(dOut: dOut, x: x, weight: w, rows: N, cols: C)
            #expect(KernelCheck.maxDifference(dX, zip(dX0, naive.dX).map { $0 + $1 }) < 1e-3)
            #expect(KernelCheck.maxDifference(dW, zip(dW0, naive.dWeight).map { $0 + $1 }) < 1e-3)
            #expect(KernelCheck.maxDifference(dB, zip(dB0, naive.dBias).map { $0 + $1 }) < 1e-3)
        }
    }

    @Test func layerNormRowStrideSkipsThePadding() {
        var rng = SplitMix64(seed: 302)
        let (N, C, ld) = (5, 33, 40)
        let x = rng.gaussians(N * C), w = rng.gaussians(C), b = rng.gaussians(C), dOut = rng.gaussians(N * C)
        var out = KernelCheck.zeros(N * C), mean = KernelCheck.zeros(N), rstd = KernelCheck.zeros(N)
        layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: N, cols: C)
        var dX = KernelCheck.zeros(N * C), dW = KernelCheck.zeros(C), dB = KernelCheck.zeros(C)
        layerNormBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: dOut, x: x, weight: w,
                          mean: mean, rstd: rstd, rows: N, cols: C)
        var stridedOut = padded(KernelCheck.zeros(N * C), rows: N, cols: C, rowStride: ld)
        var stridedDX = stridedOut
        var m = KernelCheck.zeros(N), r = KernelCheck.zeros(N)
        var dW2 = KernelCheck.zeros(C), dB2 = KernelCheck.zeros(C)
        let stridedX = padded(x, rows: N, cols: C, rowStride: ld)
        let stridedDOut = padded(dOut, rows: N, cols: C, rowStride: ld)
        stridedOut.withUnsafeMutableBufferPointer { o in
            layerNormForward(o.baseAddress!, mean: &m, rstd: &r, stridedX, weight: w, bias: b,
                             rows: N, cols: C, rowStride: ld)
        }
        stridedDX.withUnsafeMutableBufferPointer { d in
            layerNormBackward(dX: d.baseAddress!, dWeight: &dW2, dBias: &dB2, dOut: stridedDOut,
                              x: stridedX, weight: w, mean: m, rstd: r, rows: N, cols: C, rowStride: ld)
        }
        #expect(KernelCheck.sameBits(unpadded(stridedOut, rows: N, cols: C, rowStride: ld), out))
        #expect(KernelCheck.sameBits(unpadded(stridedDX, rows: N, cols: C, rowStride: ld), dX))
        #expect(KernelCheck.sameBits(dW2, dW) && KernelCheck.sameBits(dB2, dB))
        #expect(paddingUntouched(stridedOut, rows: N, cols: C, rowStride: ld))
        #expect(paddingUntouched(stridedDX, rows: N, cols: C, rowStride: ld))
    }
}

/// The reference for `layerNormBackward`, in Double from the definition: what it adds.
func layerNormBackwardNaive(dOut: [Float], x: [Float], weight: [Float], rows N: Int, cols C: Int)
    -> (dX: [Float], dWeight: [Float], dBias: [Float]) {
    var dX = KernelCheck.zeros(N * C), dW = [Double](repeating: 0, count: C), dB = dW
    for n in 0..<N {
        let row = (0..<C).map { Double(x[n * C + $0]) }
        let mu = row.reduce(0, +) / Double(C)
        let variance = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(C)
        let s = 1 / (variance + 1e-5).squareRoot()
        let norm = row.map { ($0 - mu) * s }
        let g = (0..<C).map { Double(dOut[n * C + $0]) * Double(weight[$0]) }
        let gMean = g.reduce(0, +) / Double(C)
        let gNormMean = zip(g, norm).reduce(0) { $0 + $1.0 * $1.1 } / Double(C)
        for i in 0..<C {
            dX[n * C + i] = Float(s * (g[i] - gMean - norm[i] * gNormMean))
            dW[i] += Double(dOut[n * C + i]) * norm[i]
            dB[i] += Double(dOut[n * C + i])
        }
    }
    return (dX, dW.map { Float($0) }, dB.map { Float($0) })
}
