// RMSNorm, softmax and the bias add over pointers: against the array forms (the same bits) and
// the definitions in Double, at awkward (N, C) shapes on NaN-guarded buffers, and with a padded
// row stride whose padding must be neither read nor written.
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

@Suite struct RowKernelPointerTests {
    @Test func rmsNormPointerFormsMatchArrayFormsAndDefinition() {
        var rng = SplitMix64(seed: 621)
        for (N, C) in rowShapes where C > 0 || N == 0 {
            let x = rng.gaussians(N * C, std: 2), w = rng.gaussians(C), dOut = rng.gaussians(N * C)
            let dX0 = rng.gaussians(N * C), dW0 = rng.gaussians(C)
            var out = KernelCheck.zeros(N * C), rstd = KernelCheck.zeros(N), dX = dX0, dW = dW0
            rmsNormForward(&out, rstd: &rstd, x, weight: w, rows: N, cols: C)
            rmsNormBackward(dX: &dX, dWeight: &dW, dOut: dOut, x: x, weight: w, rstd: rstd, rows: N, cols: C)
            // pointer forms with a padded row stride, in guarded buffers
            let ld = C + 3
            let arena = GuardedArena()
            let px = arena.floats(padded(x, rows: N, cols: C, rowStride: ld)), pw = arena.floats(w)
            let po = arena.floats(padded(KernelCheck.zeros(N * C), rows: N, cols: C, rowStride: ld))
            let pr = arena.zeros(N)
            let pdX = arena.floats(padded(dX0, rows: N, cols: C, rowStride: ld)), pdW = arena.floats(dW0)
            rmsNormForward(po, rstd: pr, px, weight: pw, rows: N, cols: C, rowStride: ld)
            rmsNormBackward(dX: pdX, dWeight: pdW, dOut: arena.floats(padded(dOut, rows: N, cols: C, rowStride: ld)),
                            x: px, weight: pw, rstd: pr, rows: N, cols: C, rowStride: ld)
            let stridedOut = values(po, N * ld), stridedDX = values(pdX, N * ld)
            #expect(KernelCheck.sameBits(unpadded(stridedOut, rows: N, cols: C, rowStride: ld), out), "N \(N) C \(C)")
            #expect(KernelCheck.sameBits(unpadded(stridedDX, rows: N, cols: C, rowStride: ld), dX), "N \(N) C \(C)")
            #expect(KernelCheck.sameBits(values(pdW, C), dW) && KernelCheck.sameBits(values(pr, N), rstd))
            #expect(paddingUntouched(stridedOut, rows: N, cols: C, rowStride: ld) && arena.guardsIntact)
            // definition in Double: out = x·rstd·w, dX = rstd·(g − x̂·mean(g ⊙ x̂)), dW += Σ dOut ⊙ x̂
            var expectedOut = out, expectedDX = dX0, expectedDW = dW0.map { Double($0) }
            for n in 0..<N {
                let row = (0..<C).map { Double(x[n * C + $0]) }
                let s = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(C) + 1e-5).squareRoot()
                let g = (0..<C).map { Double(dOut[n * C + $0]) * Double(w[$0]) }
                let gNormMean = (0..<C).reduce(0.0) { $0 + g[$1] * row[$1] * s } / Double(C)
                for i in 0..<C {
                    expectedOut[n * C + i] = Float(row[i] * s * Double(w[i]))
                    expectedDX[n * C + i] += Float(s * (g[i] - row[i] * s * gNormMean))
                    expectedDW[i] += Double(dOut[n * C + i]) * row[i] * s
                }
            }
            #expect(KernelCheck.maxDifference(out, expectedOut) < 1e-4, "N \(N) C \(C)")
            #expect(KernelCheck.maxDifference(dX, expectedDX) < 1e-3, "N \(N) C \(C)")
            #expect(KernelCheck.maxDifference(dW, expectedDW.map { Float($0) }) < 1e-3, "N \(N) C \(C)")
        }
    }

    @Test(arguments: [false, true])
    func softmaxPointerFormsMatchArrayFormsAndDefinition(causal: Bool) {
        var rng = SplitMix64(seed: 622)
        for (N, C) in rowShapes where C > 0 {
            let rows = causal ? N * C : N           // causal: whole C×C blocks
            let z = rng.gaussians(rows * C, std: 3), g = rng.gaussians(rows * C), d0 = rng.gaussians(rows * C)
            var probs = KernelCheck.zeros(rows * C), d = d0
            softmaxForward(&probs, z, rows: rows, cols: C, causal: causal)
            softmaxBackward(dLogits: &d, dProbs: g, probs: probs, rows: rows, cols: C)
            let ld = C + 5
            let arena = GuardedArena()
            let pz = arena.floats(padded(z, rows: rows, cols: C, rowStride: ld))
            let pp = arena.floats(padded(KernelCheck.zeros(rows * C), rows: rows, cols: C, rowStride: ld))
            let pd = arena.floats(padded(d0, rows: rows, cols: C, rowStride: ld))
            softmaxForward(pp, pz, rows: rows, cols: C, causal: causal, rowStride: ld)
            softmaxBackward(dLogits: pd, dProbs: arena.floats(padded(g, rows: rows, cols: C, rowStride: ld)),
                            probs: pp, rows: rows, cols: C, rowStride: ld)
            let stridedP = values(pp, rows * ld), stridedD = values(pd, rows * ld)
            #expect(KernelCheck.sameBits(unpadded(stridedP, rows: rows, cols: C, rowStride: ld), probs), "N \(rows) C \(C)")
            #expect(KernelCheck.sameBits(unpadded(stridedD, rows: rows, cols: C, rowStride: ld), d), "N \(rows) C \(C)")
            #expect(paddingUntouched(stridedP, rows: rows, cols: C, rowStride: ld) && arena.guardsIntact)
            // definition: the Double softmax, and dz = p ⊙ (g − Σ p·g)
            var expected = KernelCheck.zeros(rows * C)
            softmaxForwardNaive(&expected, z, rows: rows, cols: C, causal: causal)
            #expect(KernelCheck.maxDifference(probs, expected) < 1e-6, "N \(rows) C \(C)")
            var expectedD = d0
            for n in 0..<rows {
                let pg = (0..<C).reduce(0.0) { $0 + Double(expected[n * C + $1]) * Double(g[n * C + $1]) }
                for j in 0..<C { expectedD[n * C + j] += Float(Double(expected[n * C + j]) * (Double(g[n * C + j]) - pg)) }
            }
            #expect(KernelCheck.maxDifference(d, expectedD) < 1e-5, "N \(rows) C \(C)")
        }
    }

    @Test func biasPointerFormsMatchArrayFormsAndDefinition() {
        var rng = SplitMix64(seed: 623)
        for (N, M) in rowShapes {
            let out0 = rng.gaussians(N * M), bias = rng.gaussians(M), dOut = rng.gaussians(N * M)
            let dBias0 = rng.gaussians(M)
            var out = out0, dBias = dBias0
            biasAddForward(&out, bias, rows: N, cols: M)
            biasBackward(dBias: &dBias, dOut: dOut, rows: N, cols: M)
            let ld = M + 2
            let arena = GuardedArena()
            let po = arena.floats(padded(out0, rows: N, cols: M, rowStride: ld)), pb = arena.floats(bias)
            let pdB = arena.floats(dBias0)
            biasAddForward(po, pb, rows: N, cols: M, rowStride: ld)
            biasBackward(dBias: pdB, dOut: arena.floats(padded(dOut, rows: N, cols: M, rowStride: ld)),
                         rows: N, cols: M, rowStride: ld)
            let stridedOut = values(po, N * ld)
            #expect(KernelCheck.sameBits(unpadded(stridedOut, rows: N, cols: M, rowStride: ld), out), "N \(N) M \(M)")
            #expect(KernelCheck.sameBits(values(pdB, M), dBias), "N \(N) M \(M)")
            #expect(paddingUntouched(stridedOut, rows: N, cols: M, rowStride: ld) && arena.guardsIntact)
            #expect(out == (0..<(N * M)).map { out0[$0] + bias[$0 % M] })
            let expectedDB = (0..<M).map { m in (0..<N).reduce(0.0) { $0 + Double(dOut[$1 * M + m]) } }
            #expect(KernelCheck.maxDifference(dBias, (0..<M).map { dBias0[$0] + Float(expectedDB[$0]) }) < 1e-5)
        }
    }
}
