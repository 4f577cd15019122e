// The attention pair (Shared/Kernels/Attention.swift) against its definition at awkward sizes
// and strides (a fused (B, T, 3C) q|k|v buffer, cross-attention with Tq ≠ Tk, a KV cache's query
// offset, padded keys, fully masked rows), its backward against finite differences with and
// without a dropout mask, its causality, and its independence from the thread count.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct AttentionTests {
    /// One attention problem: random q, k, v rows of the layout's strides (padding columns set
    /// to a value that would show if read), and a mask.
    struct Case: CustomStringConvertible, Sendable {
        let layout: AttentionLayout
        let mask: AttentionMask
        let name: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(layout: AttentionLayout(batch: 1, heads: 1, queries: 1, keys: 1, headSize: 1), mask: .none, name: "1x1"),
        Case(layout: .fusedSelfAttention(batch: 2, length: 7, width: 12, heads: 3), mask: AttentionMask(causal: true),
             name: "fused qkv, causal, B 2 T 7 C 12 H 3"),
        Case(layout: AttentionLayout(batch: 3, heads: 2, queries: 5, keys: 9, headSize: 4, queryRowStride: 9,
                                     keyRowStride: 11, valueRowStride: 8, outRowStride: 13),
             mask: AttentionMask(keyLengths: [9, 0, 4]), name: "cross, padded strides, key lengths 9/0/4"),
        Case(layout: AttentionLayout(batch: 1, heads: 4, queries: 3, keys: 33, headSize: 8, queryRowStride: 96,
                                     keyRowStride: 32, valueRowStride: 32, outRowStride: 32),
             mask: AttentionMask(causal: true, queryOffset: 30), name: "KV cache: 3 new rows after 30"),
        Case(layout: AttentionLayout(batch: 2, heads: 1, queries: 127, keys: 127, headSize: 7),
             mask: AttentionMask(causal: true, keyLengths: [127, 50]), name: "T 127, causal and padded"),
    ]

    static func random(rows: Int, stride: Int, batch: Int, _ rng: inout SplitMix64) -> [Float] {
        rng.gaussians(batch * rows * stride)
    }

    struct Inputs {
        var query: [Float], key: [Float], value: [Float]
        init(_ c: Case, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            let l = c.layout
            query = AttentionTests.random(rows: l.queries, stride: l.queryRowStride, batch: l.batch, &rng)
            key = AttentionTests.random(rows: l.keys, stride: l.keyRowStride, batch: l.batch, &rng)
            value = AttentionTests.random(rows: l.keys, stride: l.valueRowStride, batch: l.batch, &rng)
        }
    }

    /// Runs the kernel; out is returned packed as (B·Tq, H·D) to compare with the naive form.
    static func forward(_ c: Case, _ x: Inputs, dropout: [Float]? = nil) -> (out: [Float], probs: [Float]) {
        let l = c.layout, HD = l.heads * l.headSize
        var out = [Float](repeating: 99, count: l.batch * l.queries * l.outRowStride)
        var probs = [Float](repeating: 99, count: l.weightCount), weights = probs
        if let dropout {
            dropout.withUnsafeBufferPointer { m in
                weights.withUnsafeMutableBufferPointer { w in
                    attentionForward(&out, probs: &probs, query: x.query, key: x.key, value: x.value, layout: l,
                                     mask: c.mask, dropout: (m.baseAddress!, w.baseAddress!))
                }
            }
        } else {
            attentionForward(&out, probs: &probs, query: x.query, key: x.key, value: x.value, layout: l, mask: c.mask)
        }
        let packed = (0..<(l.batch * l.queries)).flatMap { row in out[(row * l.outRowStride)..<(row * l.outRowStride + HD)] }
        return (packed, probs)
    }

    @Test(arguments: cases)
    func forwardMatchesDefinition(c: Case) {
        let x = Inputs(c, seed: 11)
        let (out, probs) = Self.forward(c, x)
        let reference = attentionForwardNaive(query: x.query, key: x.key, value: x.value, layout: c.layout, mask: c.mask)
        #expect(out.allSatisfy { $0.isFinite } && probs.allSatisfy { $0.isFinite })
        #expect(normRelativeError(out, reference.out) < 1e-5)
        #expect(normRelativeError(probs, reference.probs) < 1e-5)
        // every row of weights sums to 1 over its visible keys and is 0 past them (0 everywhere
        // for a row that sees nothing)
        let l = c.layout
        for b in 0..<l.batch {
            for h in 0..<l.heads {
                for i in 0..<l.queries {
                    let visible = c.mask.visibleKeys(batch: b, query: i, keys: l.keys)
                    let row = probs[(((b * l.heads + h) * l.queries + i) * l.keys)...].prefix(l.keys)
                    #expect(abs(row.prefix(visible).reduce(0, +) - (visible > 0 ? 1 : 0)) < 1e-5)
                    #expect(row.dropFirst(visible).allSatisfy { $0 == 0 })
                }
            }
        }
    }

    @Test(arguments: [(cases[1], false), (cases[2], false), (cases[3], false), (cases[1], true)])
    func backwardMatchesNumericGradient(c: Case, dropout: Bool) {
        let l = c.layout
        let x = Inputs(c, seed: 12)
        var rng = SplitMix64(seed: 13)
        var mask: [Float]?
        if dropout {
            var m = [Float](repeating: 0, count: l.weightCount)
            m.withUnsafeMutableBufferPointer { dropoutMask($0.baseAddress!, count: $0.count, probability: 0.3, rng: &rng) }
            mask = m
        }
        let dOut = rng.gaussians(l.batch * l.queries * l.outRowStride)
        func loss(_ q: [Float], _ k: [Float], _ v: [Float]) -> Double {
            var out = [Float](repeating: 0, count: dOut.count)
            var probs = [Float](repeating: 0, count: l.weightCount), weights = probs
            if let mask {
                mask.withUnsafeBufferPointer { m in
                    weights.withUnsafeMutableBufferPointer { w in
                        attentionForward(&out, probs: &probs, query: q, key: k, value: v, layout: l, mask: c.mask,
                                         dropout: (m.baseAddress!, w.baseAddress!))
                    }
                }
            } else {
                attentionForward(&out, probs: &probs, query: q, key: k, value: v, layout: l, mask: c.mask)
            }
            // only the heads' columns are outputs; the rest of a wider row is not written
            var sum = 0.0
            for row in 0..<(l.batch * l.queries) {
                for col in 0..<(l.heads * l.headSize) { sum += Double(out[row * l.outRowStride + col] * dOut[row * l.outRowStride + col]) }
            }
            return sum
        }
        // the forward's saved values, then the backward
        var probs = [Float](repeating: 0, count: l.weightCount), weights = probs
        var out = [Float](repeating: 0, count: dOut.count)
        var dQ = [Float](repeating: 0, count: x.query.count), dK = [Float](repeating: 0, count: x.key.count)
        var dV = [Float](repeating: 0, count: x.value.count), scratch = [Float](repeating: 0, count: l.weightCount)
        if let mask {
            mask.withUnsafeBufferPointer { m in
                weights.withUnsafeMutableBufferPointer { w in
                    attentionForward(&out, probs: &probs, query: x.query, key: x.key, value: x.value, layout: l,
                                     mask: c.mask, dropout: (m.baseAddress!, w.baseAddress!))
                    attentionBackward(dQuery: &dQ, dKey: &dK, dValue: &dV, scratch: &scratch, dOut: dOut, probs: probs,
                                      query: x.query, key: x.key, value: x.value, layout: l, mask: c.mask,
                                      dropout: (m.baseAddress!, UnsafePointer(w.baseAddress!)))
                }
            }
        } else {
            attentionForward(&out, probs: &probs, query: x.query, key: x.key, value: x.value, layout: l, mask: c.mask)
            attentionBackward(dQuery: &dQ, dKey: &dK, dValue: &dV, scratch: &scratch, dOut: dOut, probs: probs,
                              query: x.query, key: x.key, value: x.value, layout: l, mask: c.mask)
        }
        #expect(normRelativeError(dQ, numericGradient(of: { loss($0, x.key, x.value) }, at: x.query)) < 1e-3)
        #expect(normRelativeError(dK, numericGradient(of: { loss(x.query, $0, x.value) }, at: x.key)) < 1e-3)
        #expect(normRelativeError(dV, numericGradient(of: { loss(x.query, x.key, $0) }, at: x.value)) < 1e-3)
    }

    @Test func backwardAddsIntoItsGradients() {
        // += semantics: a second backward doubles the gradients
        let c = Self.cases[1], l = c.layout, x = Inputs(c, seed: 14)
        var rng = SplitMix64(seed: 15)
        let dOut = rng.gaussians(l.batch * l.queries * l.outRowStride)
        var out = [Float](repeating: 0, count: dOut.count), probs = [Float](repeating: 0, count: l.weightCount)
        attentionForward(&out, probs: &probs, query: x.query, key: x.key, value: x.value, layout: l, mask: c.mask)
        var dQ = [Float](repeating: 0, count: x.query.count), scratch = probs
        var once: [Float] = []
        for pass in 0..<2 {
            var dK = [Float](repeating: 0, count: x.key.count), dV = dK
            attentionBackward(dQuery: &dQ, dKey: &dK, dValue: &dV, scratch: &scratch, dOut: dOut, probs: probs,
                              query: x.query, key: x.key, value: x.value, layout: l, mask: c.mask)
            if pass == 0 { once = dQ }
        }
        #expect(normRelativeError(dQ, once.map { 2 * $0 }) < 1e-6)
    }

    @Test func causalOutputsIgnoreLaterPositions() {
        // Changing the keys and values of the last position changes no output before it.
        let c = Self.cases[1], l = c.layout
        var x = Inputs(c, seed: 16)
        let before = Self.forward(c, x).out
        let C = l.heads * l.headSize, T = l.queries
        for b in 0..<l.batch {
            for col in 0..<C { x.key[(b * T + T - 1) * 3 * C + col] += 1; x.value[(b * T + T - 1) * 3 * C + col] += 1 }
        }
        let after = Self.forward(c, x).out
        for b in 0..<l.batch {
            let rows = (b * T * C)..<((b * T + T - 1) * C), last = ((b * T + T - 1) * C)..<((b * T + T) * C)
            #expect(Array(before[rows]) == Array(after[rows]))
            #expect(before[last] != after[last])
        }
    }

    @Test func resultDoesNotDependOnTheThreadCount() {
        let c = Self.cases[4], x = Inputs(c, seed: 17)
        let one = Threads.$count.withValue(1) { Self.forward(c, x) }
        let two = Threads.$count.withValue(2) { Self.forward(c, x) }
        #expect(one.out == two.out && one.probs == two.probs)
    }
}
