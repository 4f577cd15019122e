// GEMM: the blocked, packed, threaded `gemm` and the SIMD-only version against the three-loop
// `gemmNaive`, in all four transpose combinations, at odd and round sizes, with padded
// leading dimensions, α/β variants, and 1 or 2 threads.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct MatmulTests {
    /// One GEMM problem with padded storage: every matrix row is `pad` floats longer than it
    /// needs to be, so a kernel that ignores lda/ldb/ldc reads or writes the wrong numbers.
    struct Problem {
        let transposeA: Bool, transposeB: Bool
        let M: Int, N: Int, K: Int
        let lda: Int, ldb: Int, ldc: Int
        var a: [Float], b: [Float], c: [Float]

        init(transposeA: Bool, transposeB: Bool, m M: Int, n N: Int, k K: Int, pad: Int = 0,
             seed: UInt64 = 7) {
            self.transposeA = transposeA; self.transposeB = transposeB
            self.M = M; self.N = N; self.K = K
            var rng = SplitMix64(seed: seed)
            // A is stored (M, K) or (K, M); B is stored (K, N) or (N, K).
            lda = (transposeA ? M : K) + pad
            ldb = (transposeB ? K : N) + pad
            ldc = N + pad
            a = rng.gaussians(max(1, (transposeA ? K : M) * lda))
            b = rng.gaussians(max(1, (transposeB ? N : K) * ldb))
            c = rng.gaussians(max(1, M * ldc))
        }

        /// Runs one implementation on a copy of c and returns the result.
        func run(alpha: Float, beta: Float, initialC: [Float]? = nil,
                 _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>,
                            UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var out = initialC ?? c
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        kernel(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    }
                }
            }
            return out
        }

        func naive(alpha: Float, beta: Float, initialC: [Float]? = nil) -> [Float] {
            run(alpha: alpha, beta: beta, initialC: initialC) { a, b, c in
                gemmNaive(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                          alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }

        func fast(alpha: Float, beta: Float, threads: Int, initialC: [Float]? = nil) -> [Float] {
            run(alpha: alpha, beta: beta, initialC: initialC) { a, b, c in
                gemm(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                     alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                     threads: threads)
            }
        }

        func simdOnly(alpha: Float, beta: Float, initialC: [Float]? = nil) -> [Float] {
            run(alpha: alpha, beta: beta, initialC: initialC) { a, b, c in
                gemmSIMDOnly(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                             alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                             ldc: ldc)
            }
        }

        /// Largest |got - want| over the M x N block, and whether the padding past each row
        /// (which no kernel may touch) still holds the original values.
        func compare(_ got: [Float], _ want: [Float]) -> (maxError: Float, paddingKept: Bool) {
            var maxError: Float = 0
            var paddingKept = true
            for i in 0..<M {
                for j in 0..<ldc {
                    let index = i * ldc + j
                    if j < N {
                        // NaN must never appear: make it count as an infinite error.
                        let error = abs(got[index] - want[index])
                        maxError = max(maxError, error.isNaN ? .infinity : error)
                    } else if got[index] != c[index] {
                        paddingKept = false
                    }
                }
            }
            return (maxError, paddingKept)
        }

        /// Summation order differs between kernels, so the allowed error grows with K: each
        /// product is ~N(0,1), a sum of K of them is ~√K in size, and Float32 rounding adds up
        /// to about K·ε of that in the worst case
        /// (ε = 6e-8; we allow ~30 times more, still far below the ~1 a wrong term costs).
        var tolerance: Float { 2e-6 * Float(max(K, 1)) * Float(max(K, 1)).squareRoot() + 1e-5 }
    }

    static let transposes = [(false, false), (true, false), (false, true), (true, true)]

    @Test("gemm matches gemmNaive: all transposes, odd and round sizes, 1 and 2 threads",
          arguments: [(1, 1, 1), (7, 7, 7), (33, 33, 33), (127, 127, 127), (128, 128, 128),
                      (7, 33, 1), (33, 127, 7), (127, 7, 33), (70, 45, 300), (13, 200, 19),
                      (20, 300, 400) /* more column tiles than row tiles: split by columns */])
    func blockedMatchesNaive(size: (Int, Int, Int)) {
        let (M, N, K) = size
        for (transposeA, transposeB) in Self.transposes {
            let problem = Problem(transposeA: transposeA, transposeB: transposeB,
                                  m: M, n: N, k: K, pad: 3)
            let want = problem.naive(alpha: 1, beta: 0)
            for threads in [1, 2] {
                let (error, paddingKept) = problem.compare(
                    problem.fast(alpha: 1, beta: 0, threads: threads), want)
                #expect(error <= problem.tolerance,
                        "M=\(M) N=\(N) K=\(K) tA=\(transposeA) tB=\(transposeB) threads=\(threads)")
                #expect(paddingKept, "gemm wrote past column N (ldc padding)")
            }
        }
    }

    @Test("gemmSIMDOnly matches gemmNaive", arguments: [(1, 1, 1), (7, 33, 17), (33, 7, 40)])
    func simdOnlyMatchesNaive(size: (Int, Int, Int)) {
        let (M, N, K) = size
        for (transposeA, transposeB) in Self.transposes {
            let problem = Problem(transposeA: transposeA, transposeB: transposeB,
                                  m: M, n: N, k: K, pad: 2)
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                let (error, paddingKept) = problem.compare(
                    problem.simdOnly(alpha: alpha, beta: beta), problem.naive(alpha: alpha, beta: beta))
                #expect(error <= 3 * problem.tolerance, "tA=\(transposeA) tB=\(transposeB) α=\(alpha) β=\(beta)")
                #expect(paddingKept)
            }
        }
    }

    @Test("α and β: scaling, accumulation (β = 1), and β = 0 overwriting NaN")
    func alphaBeta() {
        for (transposeA, transposeB) in Self.transposes {
            // Large enough to be split across 2 threads and to span several KC slices.
            let problem = Problem(transposeA: transposeA, transposeB: transposeB,
                                  m: 50, n: 70, k: 600, pad: 1, seed: 11)
            for (alpha, beta) in [(Float(2), Float(0)), (1, 1), (-0.5, 0.75), (0, 0.5)] {
                for threads in [1, 2] {
                    let (error, paddingKept) = problem.compare(
                        problem.fast(alpha: alpha, beta: beta, threads: threads),
                        problem.naive(alpha: alpha, beta: beta))
                    #expect(error <= 2 * problem.tolerance, "α=\(alpha) β=\(beta) threads=\(threads)")
                    #expect(paddingKept)
                }
            }
            // β = 0 must not read C: NaN there has to vanish, as in BLAS.
            var nanC = problem.c
            for i in 0..<problem.M { for j in 0..<problem.N { nanC[i * problem.ldc + j] = .nan } }
            let overwritten = problem.fast(alpha: 1, beta: 0, threads: 2, initialC: nanC)
            let (error, _) = problem.compare(overwritten, problem.naive(alpha: 1, beta: 0))
            #expect(error <= problem.tolerance, "β = 0 let NaN through")
        }
    }

    @Test("K = 0 gives C = β·C; empty M or N leaves C alone")
    func emptyDimensions() {
        var c: [Float] = [1, 2, .nan, 4, 5, 6]                   // (2, 3)
        matmul(&c, [], [], m: 2, n: 3, k: 0, beta: 0)
        #expect(c == [0, 0, 0, 0, 0, 0])
        c = [1, 2, 3, 4, 5, 6]
        matmul(&c, [], [], m: 2, n: 3, k: 0, beta: 2)
        #expect(c == [2, 4, 6, 8, 10, 12])
        var untouched: [Float] = [9]
        matmul(&untouched, [1, 2], [], m: 1, n: 0, k: 2)
        #expect(untouched == [9])
    }

    @Test("matmul array form: a known 2x3 · 3x2 product, and Xᵀ·dZ through transposeA")
    func matmulKnownAnswer() {
        let a: [Float] = [1, 2, 3,
                          4, 5, 6]                                 // (2, 3)
        let b: [Float] = [7, 8,
                          9, 10,
                          11, 12]                                  // (3, 2)
        var c = [Float](repeating: .nan, count: 4)
        matmul(&c, a, b, m: 2, n: 2, k: 3)
        #expect(c == [58, 64, 139, 154])
        // aᵀ (3, 2) · c (2, 2), with accumulate: [[1,4],[2,5],[3,6]]·[[58,64],[139,154]] + 1
        var d = [Float](repeating: 1, count: 6)
        matmul(&d, a, c, m: 3, n: 2, k: 2, transposeA: true, beta: 1)
        #expect(d == [615, 681, 812, 899, 1009, 1117])
    }

    @Test("gemm with a PackedMatrix B matches gemmNaive and equals the unpacked gemm bit for bit",
          arguments: [(1, 1, 1), (7, 33, 17), (32, 1024, 256) /* the LSTM's recurrence */,
                      (33, 70, 300) /* two KC slices, a ragged last panel */, (5, 1100, 9) /* two NC blocks */])
    func packedMatchesNaive(size: (Int, Int, Int)) {
        let (M, N, K) = size
        for (transposeA, transposeB) in Self.transposes {
            let problem = Problem(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K, pad: 3, seed: 13)
            let packed = PackedMatrix(rows: K, columns: N)
            problem.b.withUnsafeBufferPointer { packed.pack(transpose: transposeB, b: $0.baseAddress!, ldb: problem.ldb) }
            for (alpha, beta) in [(Float(1), Float(0)), (-0.5, 1)] {
                for threads in [1, 2] {
                    let got = problem.run(alpha: alpha, beta: beta) { a, _, c in
                        gemm(transposeA: transposeA, m: M, alpha: alpha, a: a, lda: problem.lda, packedB: packed,
                             beta: beta, c: c, ldc: problem.ldc, threads: threads)
                    }
                    let (error, paddingKept) = problem.compare(got, problem.naive(alpha: alpha, beta: beta))
                    #expect(error <= 2 * problem.tolerance,
                            "M=\(M) N=\(N) K=\(K) tA=\(transposeA) tB=\(transposeB) α=\(alpha) threads=\(threads)")
                    #expect(paddingKept, "packed gemm wrote past column N (ldc padding)")
                    #expect(got == problem.fast(alpha: alpha, beta: beta, threads: threads),
                            "packing once must not change a single bit")
                }
            }
        }
    }

    @Test("bit-identical results: same thread count twice, and 1 vs 2 threads")
    func deterministic() {
        for (transposeA, transposeB) in Self.transposes {
            let problem = Problem(transposeA: transposeA, transposeB: transposeB,
                                  m: 130, n: 97, k: 300, seed: 5)
            let first = problem.fast(alpha: 0.5, beta: 1, threads: 2)
            let second = problem.fast(alpha: 0.5, beta: 1, threads: 2)
            let single = problem.fast(alpha: 0.5, beta: 1, threads: 1)
            #expect(first == second)
            #expect(first == single)
        }
    }
}

@Suite struct ParallelForTests {
    @Test("parallelFor runs every chunk exactly once, for any chunk and thread count")
    func everyChunkOnce() {
        for chunks in [0, 1, 2, 5, 10] {
            for threads in [1, 2, 3] {
                var visits = [Int](repeating: 0, count: chunks)
                visits.withUnsafeMutableBufferPointer { visits in
                    // Each chunk writes only its own slot: no two threads touch the same number.
                    parallelFor(chunks, threads: threads) { chunk in visits[chunk] += 1 }
                }
                #expect(visits == [Int](repeating: 1, count: chunks), "chunks \(chunks) threads \(threads)")
            }
        }
    }

    @Test("a parallelFor inside another (a threaded gemm per attention head) runs and is right")
    func nested() {
        // Two independent 64 x 64 x 400 products, one per outer chunk, each asking for 2 threads.
        var rng = SplitMix64(seed: 3)
        let a = rng.gaussians(2 * 64 * 400), b = rng.gaussians(2 * 400 * 64)
        var c = [Float](repeating: 0, count: 2 * 64 * 64)
        var reference = c
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    parallelFor(2, threads: 2) { head in
                        gemm(m: 64, n: 64, k: 400, a: a.baseAddress! + head * 64 * 400, lda: 400,
                             b: b.baseAddress! + head * 400 * 64, ldb: 64,
                             c: c.baseAddress! + head * 64 * 64, ldc: 64, threads: 2)
                    }
                }
                reference.withUnsafeMutableBufferPointer { r in
                    for head in 0..<2 {
                        gemmNaive(m: 64, n: 64, k: 400, a: a.baseAddress! + head * 64 * 400, lda: 400,
                                  b: b.baseAddress! + head * 400 * 64, ldb: 64,
                                  c: r.baseAddress! + head * 64 * 64, ldc: 64)
                    }
                }
            }
        }
        let maxError = zip(c, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(maxError < 1e-3)
    }
}
