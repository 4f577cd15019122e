// The strided batched GEMM against a naive loop at awkward sizes and strides; the masked
// softmax (causal with a query offset, key lengths, a key mask, fully masked rows) against its
// definition and gradient-checked per mask kind; token-major attention on a fused (B, T, 3C)
// QKV buffer against the (B, H, T, D) array forms and end to end by finite differences.
import Testing
@testable import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct StridedAttentionTests {
    // MARK: Strided batched GEMM

    /// B x H matrices per operand, heads side by side in the columns of one wide row (as in a
    /// QKV buffer), rows `pad` longer than they need to be and batches `pad` rows apart.
    struct Operand {
        let rows: Int, cols: Int, heads: Int, batch: Int, pad: Int
        var ld: Int { heads * cols + pad }
        var headStride: Int { cols }
        var batchStride: Int { (rows + pad) * ld }
        var count: Int { batch * batchStride }
        /// Which values belong to a matrix (the rest is padding).
        func isValue(_ index: Int) -> Bool {
            let inBatch = index % batchStride, row = inBatch / ld, col = inBatch % ld
            return row < rows && col < heads * cols
        }
        func random(_ rng: inout SplitMix64, padding: Float) -> [Float] {
            (0..<count).map { isValue($0) ? rng.normal() : padding }
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func batchedGemmMatchesNaiveAtAwkwardSizesAndStrides(transposes: (Bool, Bool)) {
        let (transposeA, transposeB) = transposes
        var rng = SplitMix64(seed: 401)
        for (B, H, M, N, K, pad) in [(1, 1, 1, 1, 1, 0), (2, 3, 7, 33, 5, 3), (3, 2, 33, 7, 127, 1),
                                     (1, 2, 40, 64, 32, 0), (2, 1, 1, 127, 9, 2)] {
            let a = Operand(rows: transposeA ? K : M, cols: transposeA ? M : K, heads: H, batch: B, pad: pad)
            let b = Operand(rows: transposeB ? N : K, cols: transposeB ? K : N, heads: H, batch: B, pad: pad)
            let c = Operand(rows: M, cols: N, heads: H, batch: B, pad: pad + 1)
            let aValues = a.random(&rng, padding: .nan), bValues = b.random(&rng, padding: .nan)
            let c0 = c.random(&rng, padding: .nan)
            for beta: Float in [0, 0.5] {
                var fast = c0, naive = c0
                batchedGemm(transposeA: transposeA, transposeB: transposeB, batch: B, heads: H,
                            m: M, n: N, k: K, alpha: 0.75,
                            a: aValues, lda: a.ld, batchStrideA: a.batchStride, headStrideA: a.headStride,
                            b: bValues, ldb: b.ld, batchStrideB: b.batchStride, headStrideB: b.headStride,
                            beta: beta, c: &fast, ldc: c.ld, batchStrideC: c.batchStride, headStrideC: c.headStride)
                aValues.withUnsafeBufferPointer { pa in
                    bValues.withUnsafeBufferPointer { pb in
                        naive.withUnsafeMutableBufferPointer { pc in
                            for batch in 0..<B {
                                for h in 0..<H {
                                    gemmNaive(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                                              alpha: 0.75,
                                              a: pa.baseAddress! + batch * a.batchStride + h * a.headStride, lda: a.ld,
                                              b: pb.baseAddress! + batch * b.batchStride + h * b.headStride, ldb: b.ld,
                                              beta: beta,
                                              c: pc.baseAddress! + batch * c.batchStride + h * c.headStride, ldc: c.ld)
                                }
                            }
                        }
                    }
                }
                var worst: Float = 0
                var paddingKept = true
                for i in 0..<c.count {
                    if c.isValue(i) {
                        let error = abs(fast[i] - naive[i])
                        worst = max(worst, error.isNaN ? .infinity : error)
                    } else if !fast[i].isNaN {
                        paddingKept = false
                    }
                }
                #expect(worst < 1e-4 * Float(K).squareRoot(), "B \(B) H \(H) M \(M) N \(N) K \(K) pad \(pad) β \(beta)")
                #expect(paddingKept, "B \(B) H \(H) M \(M) N \(N) K \(K) pad \(pad)")
            }
        }
    }

    // MARK: Masked softmax

    /// The masks one test case applies.
    struct Mask: CustomStringConvertible, Sendable {
        var causal = false, queryOffset = 0
        var keyLengths: [Int]? = nil
        var keyMask: [Bool]? = nil
        var description: String {
            "causal \(causal) offset \(queryOffset) lengths \(keyLengths.map { "\($0)" } ?? "-") mask \(keyMask != nil)"
        }
        func allows(batch b: Int, query i: Int, key j: Int, keys Tk: Int) -> Bool {
            (!causal || j <= queryOffset + i) && (keyLengths.map { j < $0[b] } ?? true)
                && (keyMask.map { $0[b * Tk + j] } ?? true)
        }
    }

    /// (B, H, Tq, Tk) of the masked softmax cases.
    static let maskShape = (2, 2, 3, 7)
    /// Every mask kind; the key lengths and the key mask each leave one row set fully masked.
    static let masks: [Mask] = [
        Mask(),
        Mask(causal: true),
        Mask(causal: true, queryOffset: 4),                          // a KV cache: 4 keys before the 3 queries
        Mask(keyLengths: [5, 0]),                                    // batch entry 1: all padding
        Mask(keyMask: [true, false, true, true, false, false, true,
                       false, false, false, false, false, false, false]),
        Mask(causal: true, queryOffset: 2, keyLengths: [4, 6],
             keyMask: [false, false, false, true, true, true, true,
                       true, false, true, false, true, true, true]),   // row (0, i = 0) sees nothing
    ]

    func maskedSoftmax(_ scores: [Float], _ mask: Mask) -> [Float] {
        let (B, H, Tq, Tk) = StridedAttentionTests.maskShape
        var probs = KernelCheck.zeros(scores.count)
        let lengths = mask.keyLengths ?? [], keyMask = mask.keyMask ?? []
        lengths.withUnsafeBufferPointer { l in
            keyMask.withUnsafeBufferPointer { m in
                maskedSoftmaxForward(&probs, scores, batch: B, heads: H, queries: Tq, keys: Tk,
                                     causal: mask.causal, queryOffset: mask.queryOffset,
                                     keyLengths: mask.keyLengths == nil ? nil : l.baseAddress,
                                     keyMask: mask.keyMask == nil ? nil : m.baseAddress)
            }
        }
        return probs
    }

    @Test(arguments: masks)
    func maskedSoftmaxMatchesDefinitionAndZeroesFullyMaskedRows(mask: Mask) {
        let (B, H, Tq, Tk) = StridedAttentionTests.maskShape
        var rng = SplitMix64(seed: 402)
        let scores = rng.gaussians(B * H * Tq * Tk, std: 3)
        let probs = maskedSoftmax(scores, mask)
        #expect(probs.allSatisfy { $0.isFinite })
        var worst: Float = 0
        for b in 0..<B {
            for h in 0..<H {
                for i in 0..<Tq {
                    let row = ((b * H + h) * Tq + i) * Tk
                    let allowed = (0..<Tk).filter { mask.allows(batch: b, query: i, key: $0, keys: Tk) }
                    let maxScore = allowed.map { Double(scores[row + $0]) }.max() ?? 0
                    let sum = allowed.reduce(0.0) { $0 + exp(Double(scores[row + $1]) - maxScore) }
                    for j in 0..<Tk {
                        let expected = allowed.contains(j) ? exp(Double(scores[row + j]) - maxScore) / sum : 0
                        worst = max(worst, abs(probs[row + j] - Float(expected)))
                        if !allowed.contains(j) { #expect(probs[row + j] == 0, "\(mask) (\(b), \(h), \(i), \(j))") }
                    }
                }
            }
        }
        #expect(worst < 1e-6, "\(mask)")
    }

    @Test(arguments: masks)
    func maskedSoftmaxBackwardMatchesNumericGradient(mask: Mask) {
        let (B, H, Tq, Tk) = StridedAttentionTests.maskShape
        var rng = SplitMix64(seed: 403)
        let scores = rng.gaussians(B * H * Tq * Tk), dOut = rng.gaussians(scores.count)
        let probs = maskedSoftmax(scores, mask)
        var dScores = KernelCheck.zeros(scores.count)
        maskedSoftmaxBackward(dScores: &dScores, dProbs: dOut, probs: probs,
                              batch: B, heads: H, queries: Tq, keys: Tk)
        let result = KernelCheck.check("masked softmax (\(mask))", analytic: dScores, at: scores,
                                       dOut: dOut) { maskedSoftmax($0, mask) }
        #expect(result.passed, "\(result)")
        // masked scores (and every score of a fully masked row) get exactly no gradient
        for index in 0..<scores.count {
            let b = index / (H * Tq * Tk), i = (index / Tk) % Tq, j = index % Tk
            if !mask.allows(batch: b, query: i, key: j, keys: Tk) { #expect(dScores[index] == 0) }
        }
    }

    @Test func causalMaskWithoutOffsetIsTheSquareCausalSoftmax() {
        var rng = SplitMix64(seed: 404)
        let (B, H, T) = (2, 3, 9)
        let scores = rng.gaussians(B * H * T * T)
        var square = KernelCheck.zeros(scores.count), masked = square, inPlace = scores
        softmaxForward(&square, scores, rows: B * H * T, cols: T, causal: true)
        maskedSoftmaxForward(&masked, scores, batch: B, heads: H, queries: T, keys: T, causal: true)
        inPlace.withUnsafeMutableBufferPointer { p in
            maskedSoftmaxForward(p.baseAddress!, p.baseAddress!, batch: B, heads: H, queries: T, keys: T,
                                 causal: true)
        }
        #expect(KernelCheck.sameBits(masked, square) && KernelCheck.sameBits(inPlace, square))
    }

    // MARK: Attention on a fused QKV buffer

    /// (B, T, 3C) → the (B, H, T, D) stack of q (part 0), k (1) or v (2).
    static func headMajor(_ qkv: UnsafePointer<Float>, part: Int, batch B: Int, time T: Int,
                          heads H: Int, headSize D: Int) -> [Float] {
        let C = H * D
        var out = KernelCheck.zeros(B * H * T * D)
        for b in 0..<B { for h in 0..<H { for t in 0..<T { for d in 0..<D {
            out[((b * H + h) * T + t) * D + d] = qkv[(b * T + t) * 3 * C + part * C + h * D + d]
        } } } }
        return out
    }

    @Test func tokenMajorAttentionOnFusedQKVMatchesHeadMajorArrays() {
        var rng = SplitMix64(seed: 405)
        let (B, H, T, D) = (2, 3, 7, 5)
        let C = H * D
        let arena = GuardedArena()
        let qkv = arena.floats(rng.gaussians(B * T * 3 * C))
        let dOut = rng.gaussians(B * T * C)
        let scale = 1 / Float(D).squareRoot()
        // token-major: straight from the fused buffer, output (B, T, C)
        let scores = arena.zeros(B * H * T * T), att = arena.zeros(B * H * T * T)
        let out = arena.zeros(B * T * C)
        attentionScoresForward(scores, query: qkv, queryRowStride: 3 * C, key: qkv + C, keyRowStride: 3 * C,
                               batch: B, heads: H, queries: T, keys: T, headSize: D, scale: scale)
        maskedSoftmaxForward(att, scores, batch: B, heads: H, queries: T, keys: T, causal: true)
        attentionValuesForward(out, outRowStride: C, attention: att, value: qkv + 2 * C, valueRowStride: 3 * C,
                               batch: B, heads: H, queries: T, keys: T, headSize: D)
        let dAtt = arena.zeros(B * H * T * T), dScores = arena.zeros(B * H * T * T)
        let dqkv = arena.zeros(B * T * 3 * C), pdOut = arena.floats(dOut)
        attentionValuesBackward(dAttention: dAtt, dValue: dqkv + 2 * C, dOut: pdOut, outRowStride: C,
                                attention: att, value: qkv + 2 * C, valueRowStride: 3 * C,
                                batch: B, heads: H, queries: T, keys: T, headSize: D)
        maskedSoftmaxBackward(dScores: dScores, dProbs: dAtt, probs: att, batch: B, heads: H, queries: T, keys: T)
        attentionScoresBackward(dQuery: dqkv, dKey: dqkv + C, dScores: dScores,
                                query: qkv, queryRowStride: 3 * C, key: qkv + C, keyRowStride: 3 * C,
                                batch: B, heads: H, queries: T, keys: T, headSize: D, scale: scale)
        #expect(arena.guardsIntact)
        // head-major arrays: permuted copies, the (B, H, T, D) array forms
        let q = Self.headMajor(qkv, part: 0, batch: B, time: T, heads: H, headSize: D)
        let k = Self.headMajor(qkv, part: 1, batch: B, time: T, heads: H, headSize: D)
        let v = Self.headMajor(qkv, part: 2, batch: B, time: T, heads: H, headSize: D)
        var s = KernelCheck.zeros(B * H * T * T), a = s, o = KernelCheck.zeros(B * H * T * D)
        attentionScoresForward(&s, query: q, key: k, batch: B, heads: H, time: T, headSize: D, scale: scale)
        softmaxForward(&a, s, rows: B * H * T, cols: T, causal: true)
        attentionValuesForward(&o, attention: a, value: v, batch: B, heads: H, time: T, headSize: D)
        // dOut permuted to (B, H, T, D) as well
        var dO = KernelCheck.zeros(B * H * T * D)
        for b in 0..<B { for h in 0..<H { for t in 0..<T { for d in 0..<D {
            dO[((b * H + h) * T + t) * D + d] = dOut[(b * T + t) * C + h * D + d]
        } } } }
        var dA = KernelCheck.zeros(s.count), dV = KernelCheck.zeros(v.count), dS = KernelCheck.zeros(s.count)
        attentionValuesBackward(dAttention: &dA, dValue: &dV, dOut: dO, attention: a, value: v,
                                batch: B, heads: H, time: T, headSize: D)
        softmaxBackward(dLogits: &dS, dProbs: dA, probs: a, rows: B * H * T, cols: T)
        var dQ = KernelCheck.zeros(q.count), dK = KernelCheck.zeros(k.count)
        attentionScoresBackward(dQuery: &dQ, dKey: &dK, dScores: dS, query: q, key: k,
                                batch: B, heads: H, time: T, headSize: D, scale: scale)
        #expect(KernelCheck.sameBits(values(scores, s.count), s) && KernelCheck.sameBits(values(att, a.count), a))
        let outHeadMajor = Self.headMajor(UnsafePointer(arena.floats(
            (0..<(B * T)).flatMap { row in values(out + row * C, C) + [Float](repeating: 0, count: 2 * C) }
        )), part: 0, batch: B, time: T, heads: H, headSize: D)
        #expect(KernelCheck.sameBits(outHeadMajor, o))
        #expect(KernelCheck.sameBits(Self.headMajor(dqkv, part: 0, batch: B, time: T, heads: H, headSize: D), dQ))
        #expect(KernelCheck.sameBits(Self.headMajor(dqkv, part: 1, batch: B, time: T, heads: H, headSize: D), dK))
        #expect(KernelCheck.sameBits(Self.headMajor(dqkv, part: 2, batch: B, time: T, heads: H, headSize: D), dV))
    }

    /// Fused QKV → scores → masked softmax (causal, a query offset, key lengths) → values,
    /// backward through all of it, against finite differences of the whole QKV buffer.
    @Test func tokenMajorAttentionWithKVCacheMasksMatchesNumericGradient() {
        var rng = SplitMix64(seed: 406)
        let (B, H, Tq, Tk, D) = (2, 2, 3, 5, 4)
        let C = H * D
        let queries = rng.gaussians(B * Tq * C), kv = rng.gaussians(B * Tk * 2 * C)
        let dOut = rng.gaussians(B * Tq * C), lengths = [5, 3]
        let scale = 1 / Float(D).squareRoot()
        func forward(_ queries: [Float], _ kv: [Float]) -> (scores: [Float], att: [Float], out: [Float]) {
            var scores = KernelCheck.zeros(B * H * Tq * Tk), att = scores, out = KernelCheck.zeros(B * Tq * C)
            kv.withUnsafeBufferPointer { kv in
                let k = kv.baseAddress!, v = kv.baseAddress! + C
                attentionScoresForward(&scores, query: queries, queryRowStride: C, key: k, keyRowStride: 2 * C,
                                       batch: B, heads: H, queries: Tq, keys: Tk, headSize: D, scale: scale)
                maskedSoftmaxForward(&att, scores, batch: B, heads: H, queries: Tq, keys: Tk,
                                     causal: true, queryOffset: Tk - Tq, keyLengths: lengths)
                attentionValuesForward(&out, outRowStride: C, attention: att, value: v, valueRowStride: 2 * C,
                                       batch: B, heads: H, queries: Tq, keys: Tk, headSize: D)
            }
            return (scores, att, out)
        }
        let cache = forward(queries, kv)
        var dAtt = KernelCheck.zeros(cache.att.count), dScores = dAtt
        var dQueries = KernelCheck.zeros(queries.count), dKV = KernelCheck.zeros(kv.count)
        kv.withUnsafeBufferPointer { kvb in
            dKV.withUnsafeMutableBufferPointer { dkvb in
                let (k, v, dK, dV) = (kvb.baseAddress!, kvb.baseAddress! + C, dkvb.baseAddress!, dkvb.baseAddress! + C)
                attentionValuesBackward(dAttention: &dAtt, dValue: dV, dOut: dOut, outRowStride: C,
                                        attention: cache.att, value: v, valueRowStride: 2 * C,
                                        batch: B, heads: H, queries: Tq, keys: Tk, headSize: D)
                maskedSoftmaxBackward(dScores: &dScores, dProbs: dAtt, probs: cache.att,
                                      batch: B, heads: H, queries: Tq, keys: Tk)
                attentionScoresBackward(dQuery: &dQueries, dKey: dK, dScores: dScores,
                                        query: queries, queryRowStride: C, key: k, keyRowStride: 2 * C,
                                        batch: B, heads: H, queries: Tq, keys: Tk, headSize: D, scale: scale)
            }
        }
        let results = [
            KernelCheck.check("attention dQuery", analytic: dQueries, at: queries, dOut: dOut) { forward($0, kv).out },
            KernelCheck.check("attention dKV", analytic: dKV, at: kv, dOut: dOut) { forward(queries, $0).out },
        ]
        for result in results { #expect(result.passed, "\(result)") }
        // keys past batch entry 1's length (3) get no gradient
        for j in 3..<Tk { #expect(dKV[((1 * Tk) + j) * 2 * C ..< ((1 * Tk) + j + 1) * 2 * C].allSatisfy { $0 == 0 }) }
    }
}
