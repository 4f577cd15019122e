// gemv (y = α·op(A)·x + β·y) against a naive loop and against gemm's blocked path, which it
// must match bit for bit: gemm routes M = 1 here, so a one-row product (one-token sampling)
// gives exactly the numbers it gave before. Awkward sizes, padded lda, strided x, α/β, threads.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct GemvTests {
    /// Sizes around the 16/32/64 blocks and the 256-long k slices, and a threaded one.
    static let shapes = [(1, 1), (7, 33), (33, 7), (127, 1), (1, 127), (256, 64), (300, 513), (700, 1000)]

    /// y = α·op(A)·x + β·y by plain loops in Double.
    func naive(transpose: Bool, rows M: Int, cols N: Int, alpha: Float, a: [Float], lda: Int,
               x: [Float], incx: Int, beta: Float, y: [Float]) -> [Float] {
        let outputs = transpose ? N : M, depth = transpose ? M : N
        return (0..<outputs).map { o in
            var sum = 0.0
            for p in 0..<depth {
                let aValue = transpose ? a[p * lda + o] : a[o * lda + p]
                sum += Double(aValue) * Double(x[p * incx])
            }
            return Float(Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(y[o])))
        }
    }

    @Test(arguments: [false, true])
    func gemvMatchesNaiveAndGemmsBlockedPathBitForBit(transpose: Bool) {
        var rng = SplitMix64(seed: 501)
        for (M, N) in GemvTests.shapes {
            for (pad, incx, alpha, beta): (Int, Int, Float, Float) in [(0, 1, 1, 0), (3, 2, 0.5, 1), (1, 3, -1.5, 0.25)] {
                let lda = N + pad, outputs = transpose ? N : M, depth = transpose ? M : N
                let a = rng.gaussians(M * lda), x = rng.gaussians(max(1, depth * incx))
                let y0 = rng.gaussians(outputs)
                var y = y0
                a.withUnsafeBufferPointer { pa in
                    x.withUnsafeBufferPointer { px in
                        gemv(transpose: transpose, rows: M, cols: N, alpha: alpha, a: pa.baseAddress!, lda: lda,
                             x: px.baseAddress!, incx: incx, beta: beta, y: &y)
                    }
                }
                let expected = naive(transpose: transpose, rows: M, cols: N, alpha: alpha, a: a, lda: lda,
                                     x: x, incx: incx, beta: beta, y: y0)
                let tolerance = 1e-5 * Float(depth).squareRoot() * max(1, abs(alpha))
                #expect(KernelCheck.maxDifference(y, expected) < tolerance, "\(M)x\(N) transpose \(transpose)")
                // gemm's blocked path: the same op(A)·x as row 0 of a 2-row product (M = 2 does
                // not take the gemv route). gemm's A is x (as a row, or a column when strided).
                let B = a, ldb = lda
                var two = [Float](repeating: 0, count: 2 * outputs)
                for j in 0..<outputs { two[j] = y0[j]; two[outputs + j] = y0[j] }
                var xTwo = [Float](repeating: 0, count: depth * 2)   // stored (K, 2): transposeA
                for p in 0..<depth { xTwo[p * 2] = x[p * incx]; xTwo[p * 2 + 1] = x[p * incx] }
                gemm(transposeA: true, transposeB: !transpose, m: 2, n: outputs, k: depth, alpha: alpha,
                     a: xTwo, lda: 2, b: B, ldb: ldb, beta: beta, c: &two, ldc: outputs)
                #expect(KernelCheck.sameBits(y, Array(two[0..<outputs])), "\(M)x\(N) transpose \(transpose) pad \(pad)")
                // and gemm with M = 1 (routed to gemv) gives those bits too
                var one = y0
                gemm(transposeA: incx != 1, transposeB: !transpose, m: 1, n: outputs, k: depth, alpha: alpha,
                     a: x, lda: incx != 1 ? incx : max(1, depth), b: B, ldb: ldb, beta: beta,
                     c: &one, ldc: outputs)
                #expect(KernelCheck.sameBits(one, y), "\(M)x\(N) transpose \(transpose) pad \(pad)")
            }
        }
    }

    @Test func packedGemmWithOneRowMatchesItsBlockedPathBitForBit() {
        var rng = SplitMix64(seed: 502)
        for (K, N) in [(1, 1), (7, 33), (33, 7), (256, 96), (300, 130)] {
            for transpose in [false, true] {
                let b = rng.gaussians(K * N), x = rng.gaussians(K), y0 = rng.gaussians(N)
                let packed = PackedMatrix(rows: K, columns: N)
                packed.pack(transpose: transpose, b)
                var one = y0, two = y0 + y0
                let xTwo = x + x
                gemm(m: 1, alpha: 0.5, a: x, lda: K, packedB: packed, beta: 0.75, c: &one, ldc: N)
                gemm(m: 2, alpha: 0.5, a: xTwo, lda: K, packedB: packed, beta: 0.75, c: &two, ldc: N)
                #expect(KernelCheck.sameBits(one, Array(two[0..<N])), "K \(K) N \(N) transpose \(transpose)")
                var unpacked = y0
                gemm(transposeB: transpose, m: 1, n: N, k: K, alpha: 0.5, a: x, lda: K, b: b,
                     ldb: transpose ? K : N, beta: 0.75, c: &unpacked, ldc: N)
                #expect(KernelCheck.sameBits(one, unpacked), "K \(K) N \(N) transpose \(transpose)")
            }
        }
    }

    @Test func gemvGivesTheSameBitsOnOneAndTwoThreads() {
        var rng = SplitMix64(seed: 503)
        let (M, N) = (900, 1100)                    // 2 MFLOP: above the threading threshold
        let a = rng.gaussians(M * N), x = rng.gaussians(max(M, N))
        for transpose in [false, true] {
            var y1 = KernelCheck.zeros(transpose ? N : M), y2 = y1
            gemv(transpose: transpose, rows: M, cols: N, a: a, lda: N, x: x, y: &y1, threads: 1)
            gemv(transpose: transpose, rows: M, cols: N, a: a, lda: N, x: x, y: &y2, threads: 2)
            #expect(KernelCheck.sameBits(y1, y2), "transpose \(transpose)")
        }
    }

    @Test func gemvWithEmptyDepthScalesY() {
        var y: [Float] = [1, 2, .nan]
        let empty: [Float] = [0]
        gemv(transpose: true, rows: 0, cols: 3, a: empty, lda: 3, x: empty, beta: 0, y: &y)
        #expect(y == [0, 0, 0])
        var z: [Float] = [1, 2]
        gemv(rows: 2, cols: 0, a: empty, lda: 1, x: empty, beta: 2, y: &z)
        #expect(z == [2, 4])
    }
}
