// Matrix multiplication, the kernel everything else stands on (Linear layers, attention,
// the RNN's recurrences). BLAS's sgemm contract: C = α·op(A)·op(B) + β·C. Used by every
// week from 3 on. Three versions side by side, so `swift run -c release Bench gemm` shows
// what each idea buys: `gemmNaive` (three loops), `gemmSIMDOnly` (vectors, nothing else) and
// `gemm` (blocking + packing + a register-tile micro-kernel + threads).
// Reference: Goto & van de Geijn, "Anatomy of high-performance matrix multiplication" (2008);
// Van Zee & van de Geijn, "BLIS: a framework for rapidly instantiating BLAS functionality" (2015).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - The fast GEMM

/// C = α·op(A)·op(B) + β·C, all row-major.
///   op(A): (M, K) — A is stored (M, K) with row stride lda, or (K, M) when transposeA.
///   op(B): (K, N) — B is stored (K, N) with row stride ldb, or (N, K) when transposeB.
///   C:     (M, N) with row stride ldc.
/// β = 0 overwrites C (even NaN in C is ignored, as BLAS does); β = 1 accumulates (backward
/// passes add into gradients). Work is split across `threads` cores (default: all cores) by
/// output tiles only, so a given thread count always gives bit-identical results. (In fact
/// every C element is summed in the same order whatever the thread count, so 1 and 2 threads
/// agree bit for bit too.)
///
/// How it is fast (the Goto/BLIS algorithm). A 2-core AVX-512 machine does ~500 GFLOP/s of
/// fused multiply-adds, but its memory delivers a few billion floats per second: each number
/// fetched from RAM has to take part in ~100 multiply-adds, and each number fetched from a
/// cache in several. Three ideas get there:
///
/// 1. **A register tile (the micro-kernel).** The innermost code computes an 8 x 32 block of
///    C in 16 `SIMD16<Float>` accumulators (8 rows x 2 vectors of 16 columns: 16 of the 32
///    AVX-512 registers). For each p it loads 32 values of a B row (2 vectors), broadcasts
///    8 values of an A column, and issues 16 fused multiply-adds: 512 flops per 40 loaded
///    numbers, with the accumulators never leaving registers for the whole K loop. Sixteen
///    independent accumulators also hide the FMA latency (4 cycles x 2 pipes = 8 in flight).
///    Why 8 rows: the batch sizes here (32, 128) and the MLP's 784 are multiples of 8, so no
///    tile is wasted on padding rows (a 6-row tile would cover a 32-row batch with 36 rows).
///
/// 2. **Blocking for the caches.** The loops around the micro-kernel cut the problem so the
///    data it reads sits in a cache that can feed it:
///        for jc in columns of C, by NC          (B block: KC x NC, in L3)
///          for pc in 0..<K, by KC                (one slice of the sum over k)
///            pack B[pc.., jc..] -> packedB
///            for ic in rows of C, by MC          (A block: MC x KC, in L2)
///              pack A[ic.., pc..] -> packedA  (A stored transposed; see 3.)
///              for jr in the block by NR = 32    (B micro-panel: KC x 32, stays in L1)
///                for ir in the block by MR = 8   (A micro-panel: 8 x KC, streams from L2)
///                  micro-kernel: C[ir.., jr..] (8 x 32) += A-panel · B-panel
///    The sum over k is cut into KC-long slices; the first slice applies β, later ones add.
///
/// 3. **Packing.** Before use, each block is copied into a contiguous buffer in the order the
///    micro-kernel reads it: B as 32 numbers per k (two aligned vector loads), A as 8-row
///    panels (8 broadcasts per k). The micro-kernel then walks short, dense, aligned buffers
///    that stay in cache, whatever lda/ldb are. Packing is also where the transposes vanish:
///    op(A) and op(B) are read through their strides once, while packing, so one micro-kernel
///    serves all four transpose combinations. (The A panel comes in two layouts, 8 rows of kc
///    or kc groups of 8, whichever makes the copy from A contiguous, so the copy moves whole
///    runs of memory; the micro-kernel takes the panel's strides.)
///    A stored (M, K) is not copied at all: its rows already run along k, and 8 rows read
///    through lda stream well enough, so a copy would only add memory traffic.
///    Only a ragged last panel (fewer than 8 rows) is copied, to pad it with zeros.
///    Edges are zero-padded to whole 8 x 32 tiles, so any M, N, K work; a partial tile is
///    computed in full and only its valid part is written to C.
///
/// Threads: the rows (or columns) of C are dealt out in whole micro-tiles, one range per
/// thread; each thread packs its own panels into its own reusable scratch buffers. K is
/// never split, so no two threads add into the same number. Problems under
/// `gemmParallelThreshold` flops run on the calling thread: waking a second core costs more
/// than it saves.
public func gemm(transposeA: Bool = false, transposeB: Bool = false,
                 m M: Int, n N: Int, k K: Int,
                 alpha: Float = 1,
                 a A: UnsafePointer<Float>, lda: Int,
                 b B: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0,
                 c C: UnsafeMutablePointer<Float>, ldc: Int,
                 threads: Int? = nil) {
    precondition(M >= 0 && N >= 0 && K >= 0, "gemm: negative size \(M)x\(N)x\(K)")
    precondition(lda >= max(1, transposeA ? M : K), "gemm: lda \(lda) is smaller than a row of A")
    precondition(ldb >= max(1, transposeB ? K : N), "gemm: ldb \(ldb) is smaller than a row of B")
    precondition(ldc >= max(1, N), "gemm: ldc \(ldc) is smaller than a row of C")
    if M == 0 || N == 0 { return }
    if K == 0 || alpha == 0 {
        // Nothing to multiply: C = β·C (β = 0 writes zeros, whatever C held).
        scaleMatrix(C, rows: M, columns: N, ld: ldc, by: beta)
        return
    }
    if M == 1 {
        // One row of C: a matrix-vector product with op(A)'s row as the vector (see `gemv`).
        // C = a·B is y = Bᵀ·a (B stored (K, N)); C = a·Bᵀ is y = B·a (B stored (N, K)).
        gemv(transpose: !transposeB, rows: transposeB ? N : K, cols: transposeB ? K : N,
             alpha: alpha, a: B, lda: ldb, x: A, incx: transposeA ? lda : 1,
             beta: beta, y: C, threads: threads)
        return
    }
    let problem = BlockedProblem(transposeA: transposeA, transposeB: transposeB, K: K,
                                 alpha: alpha, A: A, lda: lda, B: B, ldb: ldb, packedB: nil,
                                 beta: beta, C: C, ldc: ldc)
    gemmOnThreads(problem, m: M, n: N, threads: threads)
}

// MARK: - Matrix times vector (M = 1)

/// y = α·op(A)·x + β·y, the matrix-vector product (BLAS's sgemv): one-token decoding and
/// sampling, where a "batch" is a single row. A is (M, N) row-major with row stride lda.
///   transpose false: op(A) = A,  x: (N), y: (M)      y_i = α·Σ_p A[i, p]·x_p + β·y_i
///   transpose true:  op(A) = Aᵀ, x: (M), y: (N)      y_j = α·Σ_p x_p·A[p, j] + β·y_j
/// x is read with stride incx (x_p at x[p·incx]); y is contiguous. β = 0 overwrites y.
///
/// A GEMM with M = 1 would spend 7/8 of its 8-row register tile on padding and copy B into
/// panels it reads once; here every number of A is read once, where it lies. A one-row
/// product is bound by reading A from memory, so this is what counts: once A no longer sits in
/// cache (768 x 2304 and up), gemv takes about half the time of the blocked path. `gemm` routes
/// M = 1 here, and the results are the same bits as its blocked path: each y_j is summed with
/// fused multiply-adds in p order, in the same 256-long slices of p (`gemmKC`), each slice's
/// sum applied to y as the micro-kernel applies it to C. Large products split y across
/// threads (each y_j still summed by one thread, so any thread count gives the same bits).
public func gemv(transpose: Bool = false, rows M: Int, cols N: Int, alpha: Float = 1,
                 a A: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, incx: Int = 1,
                 beta: Float = 0, y: UnsafeMutablePointer<Float>, threads: Int? = nil) {
    precondition(M >= 0 && N >= 0, "gemv: negative size \(M)x\(N)")
    precondition(lda >= max(1, N), "gemv: lda \(lda) is smaller than a row of A")
    precondition(incx >= 1, "gemv: incx must be at least 1, got \(incx)")
    let outputs = transpose ? N : M, depth = transpose ? M : N
    if outputs == 0 { return }
    if depth == 0 || alpha == 0 {
        scaleMatrix(y, rows: 1, columns: outputs, ld: outputs, by: beta)
        return
    }
    // Outputs are computed in blocks: up to 4096 columns of A (transpose; threads split them
    // at multiples of 64) or 16 rows (no transpose).
    let block = transpose ? gemvColumnBlock : 16
    gemvOnThreads(outputs: outputs, depth: depth, block: transpose ? 2 * gemmNR : 16,
                  threads: threads) { range in
        let scratch = GemmScratch.forCurrentThread()
        for first in stride(from: range.lowerBound, to: range.upperBound, by: block) {
            let width = min(block, range.upperBound - first)
            if transpose {
                gemvColumnsStreaming(depth: depth, x: x, incx: incx, a: A + first, lda: lda,
                                     alpha: alpha, beta: beta, y: y + first, width: width,
                                     sums: scratch.packedB)
            } else {
                gemvRows(depth: depth, x: x, incx: incx, a: A + first * lda, lda: lda,
                         alpha: alpha, beta: beta, y: y + first, rows: width, tile: scratch.edgeTile)
            }
        }
    }
}

/// Runs `body` over the outputs 0..<outputs, on the calling thread when the product is small
/// (under `gemmParallelThreshold` flops), otherwise in one range of whole blocks per thread.
private func gemvOnThreads(outputs: Int, depth: Int, block: Int, threads: Int?,
                           _ body: (Range<Int>) -> Void) {
    let blocks = (outputs + block - 1) / block
    let threads = 2 * outputs * depth < gemmParallelThreshold ? 1 : max(1, threads ?? Threads.count)
    let chunks = min(threads, blocks)
    if chunks <= 1 { body(0..<outputs); return }
    parallelFor(chunks, threads: threads) { chunk in
        body(min(outputs, chunk * blocks / chunks * block)..<min(outputs, (chunk + 1) * blocks / chunks * block))
    }
}

/// Columns of A per `gemvColumnsStreaming` call: their running sums (16 KB) stay in L1.
let gemvColumnBlock = 4096

/// y[0..<width] (width <= 4096) of y = α·x·A + β·y for the columns of A starting at `a`.
/// A is read row by row, each row's `width` values contiguous (the access pattern memory
/// prefetches best), into running sums kept in `sums` (width floats, in L1): sums[j] += x_p·A[p, j],
/// a fused multiply-add in p order, restarted for every 256-long slice of p as in `gemm`.
@inline(__always)
private func gemvColumnsStreaming(depth K: Int, x: UnsafePointer<Float>, incx: Int,
                                  a: UnsafePointer<Float>, lda: Int, alpha: Float, beta: Float,
                                  y: UnsafeMutablePointer<Float>, width: Int,
                                  sums: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let full = width - width % 16
    for pc in stride(from: 0, to: K, by: gemmKC) {
        let kc = min(gemmKC, K - pc)
        sums.update(repeating: 0, count: width)
        for p in pc..<(pc + kc) {
            let xp = V(repeating: x[p * incx]), row = a + p * lda
            var j = 0
            while j < full {
                var sum = load16(sums + j)
                sum.addProduct(xp, load16(row + j))
                store16(sum, sums + j)
                j += 16
            }
            if j < width {
                var sum = load16(sums + j, count: width - j)
                sum.addProduct(xp, load16(row + j, count: width - j))
                store16(sum, sums + j, count: width - j)
            }
        }
        // The first slice applies β to the old y; later slices add to what is there.
        let sliceBeta: Float = pc == 0 ? beta : 1
        for j in stride(from: 0, to: width, by: 16) {
            gemvStore(load16(sums + j, count: min(16, width - j)), y + j, count: min(16, width - j),
                      alpha: alpha, beta: sliceBeta)
        }
    }
}

/// y[0..<width] (width <= 64) of y = α·x·A + β·y, where the block's columns 0..<32 have row p at
/// left + p·rowStride and columns 32..<64 at right + p·rowStride (right is left + 32 in a plain
/// matrix, the next panel in a `PackedMatrix`). Four accumulators, one FMA each per p.
@inline(__always)
private func gemvColumns(depth K: Int, x: UnsafePointer<Float>, incx: Int,
                         left: UnsafePointer<Float>, right: UnsafePointer<Float>, rowStride: Int,
                         alpha: Float, beta: Float, y: UnsafeMutablePointer<Float>, width: Int) {
    typealias V = SIMD16<Float>
    // Valid lanes of each of the four vectors (the last block of y may be narrower).
    let counts = (min(16, width), max(0, min(16, width - 16)), max(0, min(16, width - 32)),
                  max(0, min(16, width - 48)))
    for pc in stride(from: 0, to: K, by: gemmKC) {
        let kc = min(gemmKC, K - pc)
        var acc0 = V(), acc1 = V(), acc2 = V(), acc3 = V()
        if width == 2 * gemmNR {
            for p in pc..<(pc + kc) {
                let xp = V(repeating: x[p * incx])
                let l = left + p * rowStride, r = right + p * rowStride
                acc0.addProduct(xp, load16(l)); acc1.addProduct(xp, load16(l + 16))
                acc2.addProduct(xp, load16(r)); acc3.addProduct(xp, load16(r + 16))
            }
        } else {
            // A ragged last block: read only the columns that exist.
            for p in pc..<(pc + kc) {
                let xp = V(repeating: x[p * incx])
                let l = left + p * rowStride, r = right + p * rowStride
                acc0.addProduct(xp, load16(l, count: counts.0))
                if counts.1 > 0 { acc1.addProduct(xp, load16(l + 16, count: counts.1)) }
                if counts.2 > 0 { acc2.addProduct(xp, load16(r, count: counts.2)) }
                if counts.3 > 0 { acc3.addProduct(xp, load16(r + 16, count: counts.3)) }
            }
        }
        // The first slice applies β to the old y; later slices add to what is there.
        let sliceBeta: Float = pc == 0 ? beta : 1
        gemvStore(acc0, y, count: counts.0, alpha: alpha, beta: sliceBeta)
        gemvStore(acc1, y + 16, count: counts.1, alpha: alpha, beta: sliceBeta)
        gemvStore(acc2, y + 32, count: counts.2, alpha: alpha, beta: sliceBeta)
        gemvStore(acc3, y + 48, count: counts.3, alpha: alpha, beta: sliceBeta)
    }
}

/// y[0..<rows] (rows <= 16) of y = α·A·x + β·y for 16 rows of A starting at `a`. The sums
/// run along the rows of A, so 16 rows x 16 values are transposed (through `tile`, 256
/// floats) into 16 vectors that each hold one column p for all 16 rows; one FMA per p then
/// advances all 16 sums.
@inline(__always)
private func gemvRows(depth K: Int, x: UnsafePointer<Float>, incx: Int,
                      a: UnsafePointer<Float>, lda: Int, alpha: Float, beta: Float,
                      y: UnsafeMutablePointer<Float>, rows: Int, tile: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    for pc in stride(from: 0, to: K, by: gemmKC) {
        let kc = min(gemmKC, K - pc)
        var acc = V()
        var p = pc
        if rows == 16 {
            while p + 16 <= pc + kc {
                transpose16x16(from: a + p, rowStride: lda, to: tile, rowStride: 16)
                for q in 0..<16 { acc.addProduct(V(repeating: x[(p + q) * incx]), load16(tile + 16 * q)) }
                p += 16
            }
        }
        // The rest of the slice (and every p of a block of fewer than 16 rows): gather column p.
        while p < pc + kc {
            var column = V()
            for i in 0..<rows { column[i] = a[i * lda + p] }
            acc.addProduct(V(repeating: x[p * incx]), column)
            p += 1
        }
        gemvStore(acc, y, count: rows, alpha: alpha, beta: pc == 0 ? beta : 1)
    }
}

/// y[0..<count] = α·acc + β·y (β = 0: the old y is not read), as the micro-kernel stores C.
@inline(__always)
private func gemvStore(_ acc: SIMD16<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                       alpha: Float, beta: Float) {
    if count == 0 { return }
    if beta == 0 {
        store16(alpha * acc, y, count: count)
    } else {
        store16(alpha * acc + beta * load16(y, count: count), y, count: count)
    }
}

/// Runs one problem: on the calling thread when it is small, otherwise with C split into
/// `chunks` ranges of whole tiles, along whichever side has more tiles.
private func gemmOnThreads(_ problem: BlockedProblem, m M: Int, n N: Int, threads: Int?) {
    let flops = 2 * M * N * problem.K
    let threads = flops < gemmParallelThreshold ? 1 : max(1, threads ?? Threads.count)
    let rowTiles = (M + gemmMR - 1) / gemmMR
    let columnTiles = (N + gemmNR - 1) / gemmNR
    let splitRows = rowTiles >= columnTiles
    let chunks = min(threads, splitRows ? rowTiles : columnTiles)
    if chunks <= 1 {
        gemmBlocked(problem, rows: 0..<M, columns: 0..<N)
        return
    }
    parallelFor(chunks, threads: threads) { chunk in
        let tiles = splitRows ? rowTiles : columnTiles
        let tileSize = splitRows ? gemmMR : gemmNR
        let side = splitRows ? M : N
        let first = (chunk * tiles / chunks) * tileSize
        let end = min(side, ((chunk + 1) * tiles / chunks) * tileSize)
        if splitRows {
            gemmBlocked(problem, rows: first..<end, columns: 0..<N)
        } else {
            gemmBlocked(problem, rows: 0..<M, columns: first..<end)
        }
    }
}

// MARK: - A matrix packed once, multiplied many times

/// op(B) (K, N), copied once into the order the micro-kernel reads (`packB`'s panels, over
/// the whole depth K), for a matrix that is multiplied many times before it changes.
/// The recurrent weight W_hh of the RNN and LSTM is the case in point: one training step
/// multiplies it by T small batches of hidden states (B = 32 rows each) in the forward pass,
/// and its transpose by T batches of gradients in the backward pass. A plain `gemm` packs its
/// B afresh each call, and at (32 x 256)·(256 x 1024) copying the 1 MB weight costs about as
/// much as the multiply-adds; packed once per pass, it costs 1/T of that.
///   Layout: panel s (32 columns) holds op(B)[p, 32s + j] at storage[s·32·K + p·32 + j],
///   columns past N zero-padded. The KC-slices `gemm` walks are then consecutive 32·KC runs.
public final class PackedMatrix {
    /// K, the depth of op(B).
    public let rows: Int
    /// N, the columns of op(B).
    public let columns: Int
    let storage: UnsafeMutablePointer<Float>

    /// Room for an op(B) of shape (k, n); fill it with `pack`.
    public init(rows K: Int, columns N: Int) {
        precondition(K >= 1 && N >= 1, "PackedMatrix: sizes must be positive, got \(K)x\(N)")
        rows = K
        columns = N
        let count = ((N + gemmNR - 1) / gemmNR) * gemmNR * K
        storage = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride,
                                                   alignment: 64).bindMemory(to: Float.self, capacity: count)
        storage.update(repeating: 0, count: count)
    }

    deinit { storage.deallocate() }

    /// Copies op(B) in: B stored (K, N) with row stride ldb, or (N, K) when `transpose`.
    /// Call again whenever B changes (after every optimizer step, for a weight).
    public func pack(transpose: Bool = false, b B: UnsafePointer<Float>, ldb: Int) {
        precondition(ldb >= (transpose ? rows : columns), "PackedMatrix.pack: ldb \(ldb) is smaller than a row of B")
        let problem = BlockedProblem(transposeA: false, transposeB: transpose, K: rows, alpha: 1,
                                     A: UnsafePointer(storage), lda: 1, B: B, ldb: ldb, packedB: nil,
                                     beta: 0, C: storage, ldc: 1)
        packB(problem, depth: 0..<rows, columns: 0..<columns, into: storage)
    }

    /// Array form: op(b) of this shape; b (K, N), or (N, K) when `transpose`, contiguous.
    public func pack(transpose: Bool = false, _ b: [Float]) {
        precondition(b.count >= rows * columns, "PackedMatrix.pack: \(b.count) values for \(rows)x\(columns)")
        b.withUnsafeBufferPointer { pack(transpose: transpose, b: $0.baseAddress!, ldb: transpose ? rows : columns) }
    }
}

/// `gemm` with op(B) already packed: C = α·op(A)·B + β·C, B = `packedB` (K, N).
/// Same contract, same threads, same results bit for bit as `gemm` on the unpacked B.
public func gemm(transposeA: Bool = false, m M: Int, alpha: Float = 1,
                 a A: UnsafePointer<Float>, lda: Int, packedB: PackedMatrix,
                 beta: Float = 0, c C: UnsafeMutablePointer<Float>, ldc: Int,
                 threads: Int? = nil) {
    let N = packedB.columns, K = packedB.rows
    precondition(M >= 0, "gemm: negative size \(M)")
    precondition(lda >= max(1, transposeA ? M : K), "gemm: lda \(lda) is smaller than a row of A")
    precondition(ldc >= N, "gemm: ldc \(ldc) is smaller than a row of C")
    if M == 0 { return }
    if alpha == 0 {
        scaleMatrix(C, rows: M, columns: N, ld: ldc, by: beta)
        return
    }
    if M == 1 {
        // One row of C: y = Bᵀ·a over the packed panels, as `gemv` does (the same bits as below).
        let panels = UnsafePointer(packedB.storage), x = A, incx = transposeA ? lda : 1
        gemvOnThreads(outputs: N, depth: K, block: 2 * gemmNR, threads: threads) { range in
            for first in stride(from: range.lowerBound, to: range.upperBound, by: 2 * gemmNR) {
                // panel s = first/32 holds columns 32s..<32s+32, row p at panel + p·32
                let left = panels + (first / gemmNR) * gemmNR * K
                gemvColumns(depth: K, x: x, incx: incx, left: left, right: left + gemmNR * K,
                            rowStride: gemmNR, alpha: alpha, beta: beta, y: C + first,
                            width: min(2 * gemmNR, range.upperBound - first))
            }
        }
        return
    }
    let problem = BlockedProblem(transposeA: transposeA, transposeB: false, K: K, alpha: alpha,
                                 A: A, lda: lda, B: UnsafePointer(packedB.storage), ldb: N,
                                 packedB: UnsafePointer(packedB.storage), beta: beta, C: C, ldc: ldc)
    gemmOnThreads(problem, m: M, n: N, threads: threads)
}

/// Problems with fewer flops (2·M·N·K) than this run single-threaded. Measured on a busy
/// 2-core machine: 64x64x64 (0.5 MFLOP, 5 µs) breaks even on 2 threads, 64x64x128 gains 20%,
/// 128x128x64 (2.1 MFLOP) runs in 13 µs instead of 20. Handing work to a spinning worker
/// costs about 2 µs (see `parallelFor`); a quiet machine computes twice as fast, hence 1 MFLOP.
public let gemmParallelThreshold = 1_000_000

// Register tile and cache block sizes (see `gemm`'s doc comment).
//   MR x NR  = 8 x 32: the micro-kernel's tile of C, 16 SIMD16 accumulators.
//   KC = 256: B micro-panel KC x NR = 32 KB (L1), A micro-panel MR x KC = 8 KB.
//   MC = 144: A block MC x KC = 144 KB (L2).   NC = 1024: B block KC x NC = 1 MB (L2/L3).
let gemmMR = 8
let gemmNR = 32
let gemmKC = 256
let gemmMC = 144
let gemmNC = 1024

/// The arguments of one `gemm` call, passed as one value to the per-thread workers.
struct BlockedProblem {
    let transposeA: Bool, transposeB: Bool
    let K: Int
    let alpha: Float
    let A: UnsafePointer<Float>, lda: Int
    let B: UnsafePointer<Float>, ldb: Int
    /// op(B) already in panel order (a `PackedMatrix`): then B and ldb are not read.
    let packedB: UnsafePointer<Float>?
    let beta: Float
    let C: UnsafeMutablePointer<Float>, ldc: Int
}

/// The five Goto/BLIS loops over one rectangle of C (rows x columns), on the calling thread.
private func gemmBlocked(_ p: BlockedProblem, rows: Range<Int>, columns: Range<Int>) {
    let scratch = GemmScratch.forCurrentThread()
    for jc in stride(from: columns.lowerBound, to: columns.upperBound, by: gemmNC) {
        let nc = min(gemmNC, columns.upperBound - jc)
        for pc in stride(from: 0, to: p.K, by: gemmKC) {
            let kc = min(gemmKC, p.K - pc)
            // The first k-slice applies β to the old C; later slices add to what is there.
            let beta: Float = pc == 0 ? p.beta : 1
            // The B block in panel order: packed now, or (PackedMatrix) found in place. Panel s
            // of the block starts `panelStride` floats after panel s − 1.
            let blockB: UnsafePointer<Float>, panelStride: Int
            if let packed = p.packedB {
                blockB = packed + (jc / gemmNR) * gemmNR * p.K + pc * gemmNR
                panelStride = gemmNR * p.K
            } else {
                packB(p, depth: pc..<(pc + kc), columns: jc..<(jc + nc), into: scratch.packedB)
                blockB = UnsafePointer(scratch.packedB)
                panelStride = gemmNR * kc
            }
            for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: gemmMC) {
                let mc = min(gemmMC, rows.upperBound - ic)
                // The A block. Stored (K, M) (transposeA), it is packed into 8-row panels. Stored
                // (M, K), each row already runs along k, which is all the micro-kernel needs, so
                // its whole 8-row panels are read where they are (through lda) and only a ragged
                // last panel of fewer than 8 rows is copied out and zero-padded.
                let inPlaceRows = p.transposeA ? 0 : (mc / gemmMR) * gemmMR
                if p.transposeA {
                    packA(p, rows: ic..<(ic + mc), depth: pc..<(pc + kc), into: scratch.packedA)
                } else if inPlaceRows < mc {
                    packA(p, rows: (ic + inPlaceRows)..<(ic + mc), depth: pc..<(pc + kc), into: scratch.packedA)
                }
                for jr in stride(from: 0, to: nc, by: gemmNR) {
                    let panelB = blockB + (jr / gemmNR) * panelStride
                    for ir in stride(from: 0, to: mc, by: gemmMR) {
                        let c = p.C + (ic + ir) * p.ldc + jc + jr
                        let rows = min(gemmMR, mc - ir), columns = min(gemmNR, nc - jr)
                        // Three places the A panel can be (see above and packA); each call
                        // site gets its own copy of the inlined micro-kernel, strides known.
                        if p.transposeA {
                            microKernel8x32(depth: kc, panelA: scratch.packedA + ir * kc, rowStride: 1,
                                            kStride: gemmMR, panelB: panelB, c: c, ldc: p.ldc, rows: rows,
                                            columns: columns, alpha: p.alpha, beta: beta,
                                            edgeTile: scratch.edgeTile)
                        } else if ir < inPlaceRows {
                            microKernel8x32(depth: kc, panelA: p.A + (ic + ir) * p.lda + pc, rowStride: p.lda,
                                            kStride: 1, panelB: panelB, c: c, ldc: p.ldc, rows: rows,
                                            columns: columns, alpha: p.alpha, beta: beta,
                                            edgeTile: scratch.edgeTile)
                        } else {
                            microKernel8x32(depth: kc, panelA: scratch.packedA, rowStride: kc,
                                            kStride: 1, panelB: panelB, c: c, ldc: p.ldc, rows: rows,
                                            columns: columns, alpha: p.alpha, beta: beta,
                                            edgeTile: scratch.edgeTile)
                        }
                    }
                }
            }
        }
    }
}

/// Copies op(A)[rows, depth] into `packed` as micro-panels of 8 rows x kc, zero-padding rows
/// past the end. Each panel is laid out so that the copy reads and writes contiguously:
///   A stored (M, K): 8 rows of kc, op(A)[i, p] at panel[i·kc + p]  (8 straight row copies)
///   A stored (K, M): kc groups of 8, op(A)[i, p] at panel[p·8 + i] (8 adjacent values per k)
/// The micro-kernel reads either layout through its rowStride / kStride arguments.
private func packA(_ p: BlockedProblem, rows: Range<Int>, depth: Range<Int>,
                   into packed: UnsafeMutablePointer<Float>) {
    let kc = depth.count
    var panel = packed
    for panelStart in stride(from: rows.lowerBound, to: rows.upperBound, by: gemmMR) {
        let valid = min(gemmMR, rows.upperBound - panelStart)
        if p.transposeA {
            var src = p.A + depth.lowerBound * p.lda + panelStart
            var dst = panel
            for _ in 0..<kc {
                if valid == gemmMR {
                    dst[0] = src[0]; dst[1] = src[1]; dst[2] = src[2]; dst[3] = src[3]
                    dst[4] = src[4]; dst[5] = src[5]; dst[6] = src[6]; dst[7] = src[7]
                } else {
                    for i in 0..<gemmMR { dst[i] = i < valid ? src[i] : 0 }
                }
                src += p.lda
                dst += gemmMR
            }
        } else {
            for i in 0..<gemmMR {
                let dst = panel + i * kc
                if i < valid {
                    dst.update(from: p.A + (panelStart + i) * p.lda + depth.lowerBound, count: kc)
                } else {
                    dst.update(repeating: 0, count: kc)
                }
            }
        }
        panel += gemmMR * kc
    }
}

/// Copies op(B)[depth, columns] into `packed` as micro-panels of 32 columns: panel s holds
/// op(B)[p, s·32 + j] at packed[s·32·kc + p·32 + j]. Columns past the end are zero.
private func packB(_ p: BlockedProblem, depth: Range<Int>, columns: Range<Int>,
                   into packed: UnsafeMutablePointer<Float>) {
    let kc = depth.count
    var dst = packed
    for panelStart in stride(from: columns.lowerBound, to: columns.upperBound, by: gemmNR) {
        let valid = min(gemmNR, columns.upperBound - panelStart)
        if p.transposeB && valid == gemmNR {
            // B stored (N, K): the panel is the transpose of 32 rows of B. Whole 16 x 16
            // blocks go through registers; the last kc % 16 values of k one by one.
            let rows = p.B + panelStart * p.ldb + depth.lowerBound
            var k = 0
            while k + 16 <= kc {
                transpose16x16(from: rows + k, rowStride: p.ldb,
                               to: dst + k * gemmNR, rowStride: gemmNR)
                transpose16x16(from: rows + 16 * p.ldb + k, rowStride: p.ldb,
                               to: dst + k * gemmNR + 16, rowStride: gemmNR)
                k += 16
            }
            for j in 0..<gemmNR {
                for kk in k..<kc { dst[kk * gemmNR + j] = rows[j * p.ldb + kk] }
            }
        } else if p.transposeB {
            // A ragged last panel: each column of op(B) is a contiguous row of B.
            for j in 0..<gemmNR {
                if j < valid {
                    let src = p.B + (panelStart + j) * p.ldb + depth.lowerBound
                    for k in 0..<kc { dst[k * gemmNR + j] = src[k] }
                } else {
                    for k in 0..<kc { dst[k * gemmNR + j] = 0 }
                }
            }
        } else if valid == gemmNR {
            // B stored (K, N), full panel: two vector copies per k.
            for k in 0..<kc {
                let src = UnsafeRawPointer(p.B + (depth.lowerBound + k) * p.ldb + panelStart)
                let out = UnsafeMutableRawPointer(dst + k * gemmNR)
                out.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                out.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self),
                               toByteOffset: 64, as: SIMD16<Float>.self)
            }
        } else {
            for k in 0..<kc {
                let src = p.B + (depth.lowerBound + k) * p.ldb + panelStart
                for j in 0..<gemmNR { dst[k * gemmNR + j] = j < valid ? src[j] : 0 }
            }
        }
        dst += gemmNR * kc
    }
}

/// Writes the transpose of a 16 x 16 block: to[c, r] = from[r, c] (rows `rowStride` apart).
/// The block goes into 16 vector registers; then each of four rounds puts the even-indexed
/// numbers of every pair of rows into rows 0-7 and the odd-indexed ones into rows 8-15. Seen
/// as 256 numbers with an 8-bit index (4 row bits, 4 column bits), one round rotates the index
/// right by one bit, so four rounds swap the row and column bits: a transpose, in 64 shuffles
/// instead of 256 scalar loads and stores.
@inline(__always)
private func transpose16x16(from source: UnsafePointer<Float>, rowStride sourceStride: Int,
                            to target: UnsafeMutablePointer<Float>, rowStride targetStride: Int) {
    typealias V = SIMD16<Float>
    // Always inlined: called as functions, these shuffles cost more than the transpose itself.
    @inline(__always) func row(_ i: Int) -> V { UnsafeRawPointer(source + i * sourceStride).loadUnaligned(as: V.self) }
    @inline(__always) func evens(_ x: V, _ y: V) -> V { V(lowHalf: x.evenHalf, highHalf: y.evenHalf) }
    @inline(__always) func odds(_ x: V, _ y: V) -> V { V(lowHalf: x.oddHalf, highHalf: y.oddHalf) }
    var (r0, r1, r2, r3, r4, r5, r6, r7) = (row(0), row(1), row(2), row(3),
                                            row(4), row(5), row(6), row(7))
    var (r8, r9, r10, r11, r12, r13, r14, r15) = (row(8), row(9), row(10), row(11),
                                                  row(12), row(13), row(14), row(15))
    for _ in 0..<4 {
        (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15) =
            (evens(r0, r1), evens(r2, r3), evens(r4, r5), evens(r6, r7),
             evens(r8, r9), evens(r10, r11), evens(r12, r13), evens(r14, r15),
             odds(r0, r1), odds(r2, r3), odds(r4, r5), odds(r6, r7),
             odds(r8, r9), odds(r10, r11), odds(r12, r13), odds(r14, r15))
    }
    @inline(__always) func put(_ i: Int, _ v: V) {
        UnsafeMutableRawPointer(target + i * targetStride).storeBytes(of: v, as: V.self)
    }
    put(0, r0); put(1, r1); put(2, r2); put(3, r3); put(4, r4); put(5, r5); put(6, r6); put(7, r7)
    put(8, r8); put(9, r9); put(10, r10); put(11, r11)
    put(12, r12); put(13, r13); put(14, r14); put(15, r15)
}

/// The micro-kernel: an 8 x 32 tile of C from an A micro-panel (8 x kc; op(A)[i, p] at
/// panelA[i·rowStride + p·kStride]) and a packed B micro-panel (kc x 32, 32 numbers per k).
///   acc = Σ_p A[:, p] ⊗ B[p, :]      (16 SIMD16 accumulators, in registers)
///   C[tile] = α·acc + β·C[tile]       (β = 0: C[tile] = α·acc, old C never read)
/// Only the top-left rows x columns of the tile are written (edges of C); a partial tile goes
/// through `edgeTile` (8 x 32 scratch) and the same formula, one number at a time.
@inline(__always)
private func microKernel8x32(depth kc: Int, panelA a: UnsafePointer<Float>,
                             rowStride: Int, kStride: Int,
                             panelB b: UnsafePointer<Float>,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             rows: Int, columns: Int, alpha: Float, beta: Float,
                             edgeTile: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
    var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
    // The 8 rows of the A panel, each walked along k.
    var a0 = a, a1 = a + rowStride, a2 = a + 2 * rowStride, a3 = a + 3 * rowStride
    var a4 = a + 4 * rowStride, a5 = a + 5 * rowStride, a6 = a + 6 * rowStride, a7 = a + 7 * rowStride
    var pb = UnsafeRawPointer(b)
    for _ in 0..<kc {
        // One row of the B panel (2 vectors) meets one column of the A panel (8 scalars).
        let b0 = pb.load(as: V.self)
        let b1 = pb.load(fromByteOffset: 64, as: V.self)
        var ai = V(repeating: a0.pointee)
        c00.addProduct(ai, b0); c01.addProduct(ai, b1)
        ai = V(repeating: a1.pointee)
        c10.addProduct(ai, b0); c11.addProduct(ai, b1)
        ai = V(repeating: a2.pointee)
        c20.addProduct(ai, b0); c21.addProduct(ai, b1)
        ai = V(repeating: a3.pointee)
        c30.addProduct(ai, b0); c31.addProduct(ai, b1)
        ai = V(repeating: a4.pointee)
        c40.addProduct(ai, b0); c41.addProduct(ai, b1)
        ai = V(repeating: a5.pointee)
        c50.addProduct(ai, b0); c51.addProduct(ai, b1)
        ai = V(repeating: a6.pointee)
        c60.addProduct(ai, b0); c61.addProduct(ai, b1)
        ai = V(repeating: a7.pointee)
        c70.addProduct(ai, b0); c71.addProduct(ai, b1)
        a0 += kStride; a1 += kStride; a2 += kStride; a3 += kStride
        a4 += kStride; a5 += kStride; a6 += kStride; a7 += kStride
        pb += gemmNR * MemoryLayout<Float>.stride
    }

    if rows == gemmMR && columns == gemmNR {
        // A full tile: update C directly, 16 columns per store.
        storeRow(c00, c01, to: c, alpha: alpha, beta: beta)
        storeRow(c10, c11, to: c + ldc, alpha: alpha, beta: beta)
        storeRow(c20, c21, to: c + 2 * ldc, alpha: alpha, beta: beta)
        storeRow(c30, c31, to: c + 3 * ldc, alpha: alpha, beta: beta)
        storeRow(c40, c41, to: c + 4 * ldc, alpha: alpha, beta: beta)
        storeRow(c50, c51, to: c + 5 * ldc, alpha: alpha, beta: beta)
        storeRow(c60, c61, to: c + 6 * ldc, alpha: alpha, beta: beta)
        storeRow(c70, c71, to: c + 7 * ldc, alpha: alpha, beta: beta)
        return
    }
    // An edge tile: park the accumulators, then update only the valid part of C.
    let tile = UnsafeMutableRawPointer(edgeTile)   // row i at byte offset i·128
    tile.storeBytes(of: c00, toByteOffset: 0, as: V.self)
    tile.storeBytes(of: c01, toByteOffset: 64, as: V.self)
    tile.storeBytes(of: c10, toByteOffset: 128, as: V.self)
    tile.storeBytes(of: c11, toByteOffset: 192, as: V.self)
    tile.storeBytes(of: c20, toByteOffset: 256, as: V.self)
    tile.storeBytes(of: c21, toByteOffset: 320, as: V.self)
    tile.storeBytes(of: c30, toByteOffset: 384, as: V.self)
    tile.storeBytes(of: c31, toByteOffset: 448, as: V.self)
    tile.storeBytes(of: c40, toByteOffset: 512, as: V.self)
    tile.storeBytes(of: c41, toByteOffset: 576, as: V.self)
    tile.storeBytes(of: c50, toByteOffset: 640, as: V.self)
    tile.storeBytes(of: c51, toByteOffset: 704, as: V.self)
    tile.storeBytes(of: c60, toByteOffset: 768, as: V.self)
    tile.storeBytes(of: c61, toByteOffset: 832, as: V.self)
    tile.storeBytes(of: c70, toByteOffset: 896, as: V.self)
    tile.storeBytes(of: c71, toByteOffset: 960, as: V.self)
    for i in 0..<rows {
        let row = c + i * ldc
        for j in 0..<columns {
            let acc = edgeTile[i * gemmNR + j]
            row[j] = beta == 0 ? alpha * acc : alpha * acc + beta * row[j]
        }
    }
}

/// C[0..<32] = α·(left, right) + β·C[0..<32]; with β = 0 the old values are not read.
@inline(__always)
private func storeRow(_ left: SIMD16<Float>, _ right: SIMD16<Float>,
                      to c: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
    let raw = UnsafeMutableRawPointer(c)
    if beta == 0 {
        raw.storeBytes(of: alpha * left, as: SIMD16<Float>.self)
        raw.storeBytes(of: alpha * right, toByteOffset: 64, as: SIMD16<Float>.self)
    } else {
        let old0 = raw.loadUnaligned(as: SIMD16<Float>.self)
        let old1 = raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        raw.storeBytes(of: alpha * left + beta * old0, as: SIMD16<Float>.self)
        raw.storeBytes(of: alpha * right + beta * old1, toByteOffset: 64, as: SIMD16<Float>.self)
    }
}

/// C = β·C for an (M, N) matrix with row stride ld; β = 0 writes zeros (NaN in C included).
private func scaleMatrix(_ C: UnsafeMutablePointer<Float>, rows M: Int, columns N: Int,
                         ld: Int, by beta: Float) {
    for i in 0..<M {
        let row = C + i * ld
        for j in 0..<N { row[j] = beta == 0 ? 0 : beta * row[j] }
    }
}

/// Each thread's packing buffers, allocated the first time that thread runs a `gemm` and
/// reused by every later call (no allocation per call, none in the loops). They live in
/// thread-local storage, so concurrent `gemm` calls (say, one per attention head inside a
/// `parallelFor`) never share a buffer. Freed when the thread exits.
final class GemmScratch {
    /// MC x KC floats: the packed A block.
    let packedA: UnsafeMutablePointer<Float>
    /// KC x NC floats: the packed B block.
    let packedB: UnsafeMutablePointer<Float>
    /// MR x NR floats: where an edge tile's accumulators are parked.
    let edgeTile: UnsafeMutablePointer<Float>

    private init() {
        // 64-byte alignment: every SIMD16 row of a packed panel is one aligned cache line.
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride,
                                             alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
        }
        packedA = buffer(((gemmMC + gemmMR - 1) / gemmMR) * gemmMR * gemmKC)
        packedB = buffer(((gemmNC + gemmNR - 1) / gemmNR) * gemmNR * gemmKC)
        edgeTile = buffer(gemmMR * gemmNR)
    }

    deinit {
        packedA.deallocate()
        packedB.deallocate()
        edgeTile.deallocate()
    }

    static func forCurrentThread() -> GemmScratch {
        if let existing = pthread_getspecific(scratchKey) {
            return Unmanaged<GemmScratch>.fromOpaque(existing).takeUnretainedValue()
        }
        let scratch = GemmScratch()
        pthread_setspecific(scratchKey, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    /// The thread-local slot; its destructor releases the scratch when a thread exits.
    private static let scratchKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            #if canImport(Darwin)
            Unmanaged<GemmScratch>.fromOpaque(pointer).release()
            #else
            if let pointer { Unmanaged<GemmScratch>.fromOpaque(pointer).release() }
            #endif
        }
        precondition(status == 0, "gemm: could not create thread-local storage")
        return key
    }()
}

// MARK: - The two teaching versions

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

/// The first step up from `gemmNaive`: SIMD vectors, and nothing else (no blocking, no
/// packing, one thread). Same contract and shapes as `gemm`.
///   op(B) rows contiguous (no transposeB): row i of C is built as Σ_p A[i,p]·B[p,:], 16
///   columns per vector op (an "axpy" per p), streaming all of B once per row of C.
///   transposeB: C[i,j] = A[i,:]·Bᵀ[j,:] is a dot product of two contiguous rows (row i of A
///   copied out first when A is transposed), 16 k's per vector op.
/// It is several times faster than the naive loop, yet far from `gemm`: every FMA still
/// needs a load from memory, and B is re-read from cache (or RAM) for every row of C.
public func gemmSIMDOnly(transposeA: Bool = false, transposeB: Bool = false,
                         m M: Int, n N: Int, k K: Int,
                         alpha: Float = 1,
                         a A: UnsafePointer<Float>, lda: Int,
                         b B: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0,
                         c C: UnsafeMutablePointer<Float>, ldc: Int) {
    typealias V = SIMD16<Float>
    if M == 0 || N == 0 { return }
    if !transposeB {
        for i in 0..<M {
            let rowC = C + i * ldc
            // C[i,:] = β·C[i,:] first (zeros when β = 0), then add α·A[i,p]·B[p,:] for each p.
            for j in 0..<N { rowC[j] = beta == 0 ? 0 : beta * rowC[j] }
            for p in 0..<K {
                let scale = alpha * (transposeA ? A[p * lda + i] : A[i * lda + p])
                let rowB = B + p * ldb
                let scaleVector = V(repeating: scale)
                var j = 0
                while j + 16 <= N {
                    let cRaw = UnsafeMutableRawPointer(rowC + j)
                    var cv = cRaw.loadUnaligned(as: V.self)
                    cv.addProduct(scaleVector, UnsafeRawPointer(rowB + j).loadUnaligned(as: V.self))
                    cRaw.storeBytes(of: cv, as: V.self)
                    j += 16
                }
                while j < N { rowC[j] += scale * rowB[j]; j += 1 }   // the < 16 tail
            }
        }
        return
    }
    // transposeB: dot products of contiguous rows. A's row i is gathered when A is stored (K, M).
    let rowA = UnsafeMutablePointer<Float>.allocate(capacity: max(1, K))
    defer { rowA.deallocate() }
    for i in 0..<M {
        for p in 0..<K { rowA[p] = transposeA ? A[p * lda + i] : A[i * lda + p] }
        for j in 0..<N {
            let rowB = B + j * ldb
            var acc = V()
            var p = 0
            while p + 16 <= K {
                acc.addProduct(UnsafeRawPointer(rowA + p).loadUnaligned(as: V.self),
                               UnsafeRawPointer(rowB + p).loadUnaligned(as: V.self))
                p += 16
            }
            var sum = acc.sum()
            while p < K { sum += rowA[p] * rowB[p]; p += 1 }
            C[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * C[i * ldc + j])
        }
    }
}

// MARK: - Array form

/// Array form for contiguous matrices: c (M, N) = α·op(a)·op(b) + β·c.
///   a: (M, K), or (K, M) when transposeA.   b: (K, N), or (N, K) when transposeB.
public func matmul(_ c: inout [Float], _ a: [Float], _ b: [Float],
                   m M: Int, n N: Int, k K: Int,
                   transposeA: Bool = false, transposeB: Bool = false,
                   alpha: Float = 1, beta: Float = 0, threads: Int? = nil) {
    precondition(a.count >= M * K, "matmul: a has \(a.count) values, needs \(M)x\(K)")
    precondition(b.count >= K * N, "matmul: b has \(b.count) values, needs \(K)x\(N)")
    precondition(c.count >= M * N, "matmul: c has \(c.count) values, needs \(M)x\(N)")
    if M == 0 || N == 0 { return }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                gemm(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                     alpha: alpha, a: pa.baseAddress ?? UnsafePointer(noStorage),
                     lda: max(1, transposeA ? M : K),
                     b: pb.baseAddress ?? UnsafePointer(noStorage), ldb: max(1, transposeB ? K : N),
                     beta: beta, c: pc.baseAddress!, ldc: max(1, N), threads: threads)
            }
        }
    }
}

/// Stands in for the storage of an empty `a` or `b` (K = 0), which gemm never reads.
private let noStorage = UnsafeMutablePointer<Float>.allocate(capacity: 1)
