// The batched matmuls of attention over (B, H, T, D): against plain loops at awkward shapes,
// their backwards against finite differences (batch and heads > 1, T ≠ D), and the parallel
// (b, h) split against one thread computing the same blocks.
import Testing
@testable import Shared

@Suite struct AttentionTests {
    @Test func batchedMatmulMatchesGemmNaivePerBatch() {
        var rng = SplitMix64(seed: 81)
        for (batch, M, N, K) in [(1, 1, 1, 1), (3, 7, 33, 5), (4, 33, 7, 127), (2, 16, 16, 16)] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let a = rng.gaussians(batch * M * K), b = rng.gaussians(batch * K * N)
                let start = rng.gaussians(batch * M * N)
                var c = start
                batchedMatmul(&c, a, b, batch: batch, m: M, n: N, k: K, transposeA: transposeA,
                              transposeB: transposeB, alpha: 0.5, beta: 1)
                var expected = start
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        expected.withUnsafeMutableBufferPointer { pc in
                            for i in 0..<batch {
                                gemmNaive(transposeA: transposeA, transposeB: transposeB, m: M, n: N, k: K,
                                          alpha: 0.5, a: pa.baseAddress! + i * M * K, lda: transposeA ? M : K,
                                          b: pb.baseAddress! + i * K * N, ldb: transposeB ? K : N,
                                          beta: 1, c: pc.baseAddress! + i * M * N, ldc: N)
                            }
                        }
                    }
                }
                #expect(KernelCheck.maxDifference(c, expected) < 1e-4,
                        "batch \(batch) M \(M) N \(N) K \(K) tA \(transposeA) tB \(transposeB)")
            }
        }
    }

    @Test func scoresAndValuesMatchLoops() {
        var rng = SplitMix64(seed: 82)
        for (B, H, T, D) in [(1, 1, 1, 1), (2, 3, 7, 5), (1, 2, 33, 8), (2, 1, 5, 127)] {
            let q = rng.gaussians(B * H * T * D), k = rng.gaussians(B * H * T * D)
            let v = rng.gaussians(B * H * T * D), att = rng.uniforms(B * H * T * T)
            let scale: Float = 0.3
            var scores = KernelCheck.zeros(B * H * T * T), out = KernelCheck.zeros(B * H * T * D)
            attentionScoresForward(&scores, query: q, key: k, batch: B, heads: H, time: T, headSize: D, scale: scale)
            attentionValuesForward(&out, attention: att, value: v, batch: B, heads: H, time: T, headSize: D)
            var worstScore: Float = 0, worstOut: Float = 0
            for bh in 0..<(B * H) {
                for t in 0..<T {
                    for s in 0..<T {
                        var dot = 0.0
                        for d in 0..<D { dot += Double(q[(bh * T + t) * D + d]) * Double(k[(bh * T + s) * D + d]) }
                        worstScore = max(worstScore, abs(scores[(bh * T + t) * T + s] - Float(dot) * scale))
                    }
                    for d in 0..<D {
                        var sum = 0.0
                        for s in 0..<T { sum += Double(att[(bh * T + t) * T + s]) * Double(v[(bh * T + s) * D + d]) }
                        worstOut = max(worstOut, abs(out[(bh * T + t) * D + d] - Float(sum)))
                    }
                }
            }
            #expect(worstScore < 1e-4 && worstOut < 1e-4, "B \(B) H \(H) T \(T) D \(D)")
        }
    }

    @Test func scoresBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 83)
        let (B, H, T, D) = (2, 2, 4, 3)
        let q = rng.gaussians(B * H * T * D), k = rng.gaussians(B * H * T * D)
        let dScores = rng.gaussians(B * H * T * T), scale: Float = 1 / Float(D).squareRoot()
        var dQ = KernelCheck.zeros(q.count), dK = KernelCheck.zeros(k.count)
        attentionScoresBackward(dQuery: &dQ, dKey: &dK, dScores: dScores, query: q, key: k,
                                batch: B, heads: H, time: T, headSize: D, scale: scale)
        func forward(_ q: [Float], _ k: [Float]) -> [Float] {
            var scores = KernelCheck.zeros(B * H * T * T)
            attentionScoresForward(&scores, query: q, key: k, batch: B, heads: H, time: T, headSize: D, scale: scale)
            return scores
        }
        let results = [
            KernelCheck.check("scores dQuery", analytic: dQ, at: q, dOut: dScores) { forward($0, k) },
            KernelCheck.check("scores dKey", analytic: dK, at: k, dOut: dScores) { forward(q, $0) },
        ]
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func valuesBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 84)
        let (B, H, T, D) = (2, 2, 4, 3)
        let att = rng.uniforms(B * H * T * T), v = rng.gaussians(B * H * T * D)
        let dOut = rng.gaussians(B * H * T * D)
        var dAtt = KernelCheck.zeros(att.count), dV = KernelCheck.zeros(v.count)
        attentionValuesBackward(dAttention: &dAtt, dValue: &dV, dOut: dOut, attention: att, value: v,
                                batch: B, heads: H, time: T, headSize: D)
        func forward(_ att: [Float], _ v: [Float]) -> [Float] {
            var out = KernelCheck.zeros(B * H * T * D)
            attentionValuesForward(&out, attention: att, value: v, batch: B, heads: H, time: T, headSize: D)
            return out
        }
        let results = [
            KernelCheck.check("values dAttention", analytic: dAtt, at: att, dOut: dOut) { forward($0, v) },
            KernelCheck.check("values dValue", analytic: dV, at: v, dOut: dOut) { forward(att, $0) },
        ]
        for result in results { #expect(result.passed, "\(result)") }
    }

    /// scores → causal softmax → values, backward through all three: the chain a transformer's
    /// attention head runs, checked end to end for the query.
    @Test func causalAttentionChainBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 85)
        let (B, H, T, D) = (1, 2, 5, 4)
        let q = rng.gaussians(B * H * T * D), k = rng.gaussians(B * H * T * D)
        let v = rng.gaussians(B * H * T * D), dOut = rng.gaussians(B * H * T * D)
        let scale = 1 / Float(D).squareRoot()
        func forward(_ q: [Float]) -> (scores: [Float], att: [Float], out: [Float]) {
            var scores = KernelCheck.zeros(B * H * T * T), att = scores, out = KernelCheck.zeros(q.count)
            attentionScoresForward(&scores, query: q, key: k, batch: B, heads: H, time: T, headSize: D, scale: scale)
            softmaxForward(&att, scores, rows: B * H * T, cols: T, causal: true)
            attentionValuesForward(&out, attention: att, value: v, batch: B, heads: H, time: T, headSize: D)
            return (scores, att, out)
        }
        let cache = forward(q)
        var dAtt = KernelCheck.zeros(cache.att.count), dV = KernelCheck.zeros(v.count)
        attentionValuesBackward(dAttention: &dAtt, dValue: &dV, dOut: dOut, attention: cache.att, value: v,
                                batch: B, heads: H, time: T, headSize: D)
        var dScores = KernelCheck.zeros(cache.scores.count)
        softmaxBackward(dLogits: &dScores, dProbs: dAtt, probs: cache.att, rows: B * H * T, cols: T)
        var dQ = KernelCheck.zeros(q.count), dK = KernelCheck.zeros(k.count)
        attentionScoresBackward(dQuery: &dQ, dKey: &dK, dScores: dScores, query: q, key: k,
                                batch: B, heads: H, time: T, headSize: D, scale: scale)
        let result = KernelCheck.check("causal attention dQuery", analytic: dQ, at: q, dOut: dOut) { forward($0).out }
        #expect(result.passed, "\(result)")
        // position 0 attends only to itself: its query has no influence, so no gradient
        for h in 0..<H { #expect(dQ[(h * T) * D ..< (h * T + 1) * D].allSatisfy { abs($0) < 1e-7 }) }
    }

    @Test func parallelSplitGivesTheSameBitsAsOneThread() {
        var rng = SplitMix64(seed: 86)
        let (B, H, T, D) = (3, 4, 17, 8)             // 12 (b, h) blocks over the cores
        let q = rng.gaussians(B * H * T * D), k = rng.gaussians(B * H * T * D)
        var parallel = KernelCheck.zeros(B * H * T * T)
        attentionScoresForward(&parallel, query: q, key: k, batch: B, heads: H, time: T, headSize: D, scale: 0.25)
        var again = KernelCheck.zeros(parallel.count)
        attentionScoresForward(&again, query: q, key: k, batch: B, heads: H, time: T, headSize: D, scale: 0.25)
        var sequential = KernelCheck.zeros(parallel.count)
        q.withUnsafeBufferPointer { pq in
            k.withUnsafeBufferPointer { pk in
                sequential.withUnsafeMutableBufferPointer { ps in
                    for bh in 0..<(B * H) {       // the same gemm calls, one after another
                        gemm(transposeB: true, m: T, n: T, k: D, alpha: 0.25,
                             a: pq.baseAddress! + bh * T * D, lda: D, b: pk.baseAddress! + bh * T * D, ldb: D,
                             beta: 0, c: ps.baseAddress! + bh * T * T, ldc: T, threads: 1)
                    }
                }
            }
        }
        #expect(parallel == sequential && parallel == again)
    }
}
