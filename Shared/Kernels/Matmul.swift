// Matrix multiplication, the kernel everything else stands on (Linear layers, attention,
// the RNN's recurrences). BLAS's sgemm contract: C = α·op(A)·op(B) + β·C.
// Used by every week from 3 on.
// NOTE: the fast blocked/threaded implementation replaces the body of `gemm` below.

/// C = α·op(A)·op(B) + β·C, all row-major.
///   op(A): (M, K) — A is stored (M, K) with row stride lda, or (K, M) when transposeA.
///   op(B): (K, N) — B is stored (K, N) with row stride ldb, or (N, K) when transposeB.
///   C:     (M, N) with row stride ldc.
/// β = 0 overwrites C (even NaN in C is ignored, as BLAS does); β = 1 accumulates (backward
/// passes add into gradients). Work is split across `threads` cores (default: all cores) by
/// output tiles only, so a given thread count always gives bit-identical results.
public func gemm(transposeA: Bool = false, transposeB: Bool = false,
                 m M: Int, n N: Int, k K: Int,
                 alpha: Float = 1,
                 a A: UnsafePointer<Float>, lda: Int,
                 b B: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0,
                 c C: UnsafeMutablePointer<Float>, ldc: Int,
                 threads: Int? = nil) {
    gemmNaive(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K, alpha: alpha,
              a: A, lda: lda, b: B, ldb: ldb, beta: beta, c: C, ldc: ldc)
}

/// The reference: three plain loops, summing in Float in k order. Slow and obviously right;
/// tests compare every fast path against it.
public func gemmNaive(transposeA: Bool = false, transposeB: Bool = false,
                      m M: Int, n N: Int, k K: Int,
                      alpha: Float = 1,
                      a A: UnsafePointer<Float>, lda: Int,
                      b B: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0,
                      c C: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<M {
        for j in 0..<N {
            var sum: Float = 0
            for p in 0..<K {
                let aip = transposeA ? A[p * lda + i] : A[i * lda + p]
                let bpj = transposeB ? B[j * ldb + p] : B[p * ldb + j]
                sum += aip * bpj
            }
            C[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * C[i * ldc + j])
        }
    }
}

/// Array form for contiguous matrices: c (M, N) = α·op(a)·op(b) + β·c.
///   a: (M, K), or (K, M) when transposeA.   b: (K, N), or (N, K) when transposeB.
public func matmul(_ c: inout [Float], _ a: [Float], _ b: [Float],
                   m M: Int, n N: Int, k K: Int,
                   transposeA: Bool = false, transposeB: Bool = false,
                   alpha: Float = 1, beta: Float = 0, threads: Int? = nil) {
    precondition(a.count >= M * K, "matmul: a has \(a.count) values, needs \(M)x\(K)")
    precondition(b.count >= K * N, "matmul: b has \(b.count) values, needs \(K)x\(N)")
    precondition(c.count >= M * N, "matmul: c has \(c.count) values, needs \(M)x\(N)")
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                gemm(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                     alpha: alpha, a: pa.baseAddress!, lda: transposeA ? M : K,
                     b: pb.baseAddress!, ldb: transposeB ? K : N,
                     beta: beta, c: pc.baseAddress!, ldc: N, threads: threads)
            }
        }
    }
}
