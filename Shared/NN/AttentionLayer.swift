// Scaled dot-product attention (weeks 7-9): every query position takes a weighted average of
// the value vectors, with weights softmax(q·kᵀ/√D) over the key positions it may see.
//   out = softmax(Q·Kᵀ/√D + mask)·V
// The math is Shared/Kernels/Attention.swift's `attentionForward` / `attentionBackward`, the pair
// the GPT uses too. Here it is offered on (B, H, T, D) arrays, so one call serves a single head
// (H = 1), many heads, self-attention (keys = queries' sequence) and cross-attention (a decoder
// reading an encoder: Tq ≠ Tk); and `MultiHeadSelfAttention` wraps it as a Module that reads q,
// k and v straight out of its fused projection: project, attend, project. Reference: Vaswani et al. 2017, https://arxiv.org/abs/1706.03762
// (sections 3.2.1-3.2.2); https://pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html
import SharedKernels
import SharedTools
import SharedData
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shape of attention on (B, H, T, D) arrays: B sequences, H heads of size D, Tq queries
/// and Tk keys each. The weights a forward keeps for its backward are (B, H, Tq, Tk).
public struct AttentionShape: Equatable {
    public let batch: Int
    public let heads: Int
    public let queryTime: Int
    public let keyTime: Int
    public let headSize: Int

    public init(batch B: Int, heads H: Int, queryTime Tq: Int, keyTime Tk: Int, headSize D: Int) {
        precondition(B >= 0 && H >= 1 && Tq >= 0 && Tk >= 0 && D >= 1,
                     "AttentionShape: need B >= 0, H >= 1, T >= 0, D >= 1; got \(B), \(H), \(Tq), \(Tk), \(D)")
        batch = B; heads = H; queryTime = Tq; keyTime = Tk; headSize = D
    }
}

// MARK: - The function on (B, H, T, D) arrays

extension AttentionShape {
    /// (B, H, T, D) stacks are B·H sequences of rows D wide with one head each: the kernel's
    /// token-major layout with batch B·H, one head, and row stride D.
    var headMajorLayout: AttentionLayout {
        AttentionLayout(batch: batch * heads, heads: 1, queries: queryTime, keys: keyTime, headSize: headSize)
    }

    /// The mask for that layout: sequence b's key length repeated for each of its H heads.
    func headMajorMask(_ mask: AttentionMask) -> AttentionMask {
        var expanded = mask
        expanded.keyLengths = mask.keyLengths.map { lengths in lengths.flatMap { [Int](repeating: $0, count: heads) } }
        return expanded
    }
}

/// out = softmax(Q·Kᵀ/√D + mask)·V, per (batch, head): Shared/Kernels/Attention.swift's
/// `attentionForward` on head-major arrays.
///   query: (B, H, Tq, D)   key, value: (B, H, Tk, D)
///   out: (B, H, Tq, D), overwritten   probabilities: (B, H, Tq, Tk), overwritten (keep it for
///   the backward and for attention maps).
public func scaledDotProductAttentionForward(_ out: inout [Float], probabilities: inout [Float],
                                             query: [Float], key: [Float], value: [Float],
                                             shape: AttentionShape, mask: AttentionMask = .none) {
    let B = shape.batch, H = shape.heads, Tq = shape.queryTime, Tk = shape.keyTime, D = shape.headSize
    requireCount(query, B * H * Tq * D, "attention: query")
    requireCount(key, B * H * Tk * D, "attention: key")
    requireCount(value, B * H * Tk * D, "attention: value")
    requireCount(out, B * H * Tq * D, "attention: out")
    requireCount(probabilities, B * H * Tq * Tk, "attention: probabilities")
    if let lengths = mask.keyLengths {
        precondition(lengths.count == B && lengths.allSatisfy { $0 >= 0 && $0 <= Tk },
                     "attention: keyLengths needs \(B) lengths in 0...\(Tk), got \(lengths)")
    }
    attentionForward(&out, probs: &probabilities, query: query, key: key, value: value,
                     layout: shape.headMajorLayout, mask: shape.headMajorMask(mask))
}

/// Backward of `scaledDotProductAttentionForward`: `attentionBackward` on head-major arrays.
/// Adds into dQuery, dKey and dValue.
///   dQuery, query: (B, H, Tq, D)   dKey, dValue, key, value: (B, H, Tk, D)
///   dOut: (B, H, Tq, D)   probabilities: (B, H, Tq, Tk) from the forward (with its mask).
public func scaledDotProductAttentionBackward(dQuery: inout [Float], dKey: inout [Float], dValue: inout [Float],
                                              dOut: [Float], query: [Float], key: [Float], value: [Float],
                                              probabilities: [Float], shape: AttentionShape,
                                              mask: AttentionMask = .none) {
    let B = shape.batch, H = shape.heads, Tq = shape.queryTime, Tk = shape.keyTime, D = shape.headSize
    requireCount(dQuery, B * H * Tq * D, "attention backward: dQuery")
    requireCount(dKey, B * H * Tk * D, "attention backward: dKey")
    requireCount(dValue, B * H * Tk * D, "attention backward: dValue")
    requireCount(dOut, B * H * Tq * D, "attention backward: dOut")
    requireCount(probabilities, B * H * Tq * Tk, "attention backward: probabilities")
    var scratch = [Float](repeating: 0, count: B * H * Tq * Tk)
    attentionBackward(dQuery: &dQuery, dKey: &dKey, dValue: &dValue, scratch: &scratch, dOut: dOut,
                      probs: probabilities, query: query, key: key, value: value,
                      layout: shape.headMajorLayout, mask: shape.headMajorMask(mask))
}

/// The reference: `attentionForwardNaive` (plain loops in Double) on head-major arrays.
/// Shapes as `scaledDotProductAttentionForward`.
public func scaledDotProductAttentionNaive(query: [Float], key: [Float], value: [Float],
                                           shape: AttentionShape, mask: AttentionMask = .none)
    -> (out: [Float], probabilities: [Float])
{
    let (out, probs) = attentionForwardNaive(query: query, key: key, value: value, layout: shape.headMajorLayout,
                                             mask: shape.headMajorMask(mask))
    return (out, probs)
}

// MARK: - The layer

/// Multi-head self-attention as a Module (week 7's small Transformer):
///   qkv = x·W_attn + b_attn                     x: (B·T, C)   W_attn: (C, 3C), columns [q | k | v]
///   q, k, v: the three C-wide thirds of a qkv row, each H heads of D = C/H columns
///   y_h = softmax(q_h·k_hᵀ/√D + mask)·v_h       every head attends on its own, read in place
///   out = concat_h(y_h)·W_proj + b_proj         W_proj: (C, C)   out: (B·T, C)
/// Parameters are named like nanoGPT's: "<name>.c_attn.weight", "<name>.c_proj.weight", ...
/// `forward(x, rows:)` takes rows = B·T with T = `time`; `mask` (causal, padding) applies to
/// every call until changed. The weights of the last forward stay readable in `probabilities`
/// (B, H, T, T) for attention maps.
public final class MultiHeadSelfAttention: Module {
    public let embedding: Int
    public let heads: Int
    public let time: Int
    public var mask: AttentionMask
    public let inputProjection: Linear
    public let outputProjection: Linear
    public var isTraining = true
    /// The cache of the last forward.
    public private(set) var probabilities: [Float] = []
    private var qkv: [Float] = []
    private var batch = 0

    public var headSize: Int { embedding / heads }
    public var parameters: [Parameter] { inputProjection.parameters + outputProjection.parameters }

    /// embedding C must be a multiple of heads H. The projections start N(0, 1/C) (xavier in
    /// fan-in form: there is no ReLU after them).
    public init(embedding C: Int, heads H: Int, time T: Int, mask: AttentionMask = .init(causal: true),
                name: String, rng: inout SplitMix64) {
        precondition(C >= 1 && H >= 1 && C % H == 0, "MultiHeadSelfAttention: embedding \(C) must be a positive multiple of heads \(H)")
        precondition(T >= 1, "MultiHeadSelfAttention: time must be positive, got \(T)")
        embedding = C
        heads = H
        time = T
        self.mask = mask
        inputProjection = Linear(C, 3 * C, name: name + ".c_attn", initialization: .xavier, rng: &rng)
        outputProjection = Linear(C, C, name: name + ".c_proj", initialization: .xavier, rng: &rng)
    }

    private var layout: AttentionLayout {
        .fusedSelfAttention(batch: batch, length: time, width: embedding, heads: heads)
    }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        let C = embedding, T = time
        precondition(rows % T == 0, "MultiHeadSelfAttention: \(rows) rows is not a whole number of sequences of \(T)")
        batch = rows / T
        // project to q|k|v in one (B·T, C)x(C, 3C) product
        qkv = inputProjection.forward(x, rows: rows)
        // every head attends on its own, reading its columns of qkv, writing its columns of y
        var attended = [Float](repeating: 0, count: rows * C)
        probabilities = [Float](repeating: 0, count: layout.weightCount)
        qkv.withUnsafeBufferPointer { qkv in
            let q = qkv.baseAddress!
            attentionForward(&attended, probs: &probabilities, query: q, key: q + C, value: q + 2 * C,
                             layout: layout, mask: mask)
        }
        // mix the heads
        return outputProjection.forward(attended, rows: rows)
    }

    /// Backward, the forward's steps in reverse: through W_proj, attention backward (into the
    /// q, k and v columns of one d(qkv) buffer), through W_attn. Adds into the four parameters' grads.
    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        let C = embedding
        // out = y·W_proj + b_proj
        let dAttended = outputProjection.backward(dOut, needsInputGradient: true)
        var dQKV = [Float](repeating: 0, count: qkv.count)
        var scratch = [Float](repeating: 0, count: layout.weightCount)
        qkv.withUnsafeBufferPointer { qkv in
            dQKV.withUnsafeMutableBufferPointer { dQKV in
                let q = qkv.baseAddress!, dq = dQKV.baseAddress!
                attentionBackward(dQuery: dq, dKey: dq + C, dValue: dq + 2 * C, scratch: &scratch, dOut: dAttended,
                                  probs: probabilities, query: q, key: q + C, value: q + 2 * C,
                                  layout: layout, mask: mask)
            }
        }
        return inputProjection.backward(dQKV, needsInputGradient: needsInputGradient)
    }
}
