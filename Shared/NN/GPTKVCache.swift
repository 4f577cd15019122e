// Incremental decoding with a key/value cache (week 9): a GPT that has read t tokens keeps, per
// block, the keys and values of those t positions, so the next token costs one row through the
// model (plus attention over t cached rows) instead of rerunning all t rows. The same layer
// functions as the full forward (GPTLayers.swift), on n new rows at a time: a prompt is
// prefilled in one pass, each generated token is a pass with n = 1.
// Reference: nanoGPT's model.py generate() (which recomputes everything; we cache), and the
// "past_key_values" of Hugging Face's GPT2Attention.

/// The keys and values of one sequence, per block, and the scratch rows one decoding pass needs.
///   keys[l], values[l]: (T, C), row t = position t, heads side by side (head h: columns h·D ..< (h+1)·D)
/// Filled positions are 0 ..< `length`; `GPT.decode(_:into:)` appends. Everything is allocated
/// once, for T rows (the longest pass is a prefill of a whole context).
public final class GPTKVCache {
    public let layers: Int, context: Int, width: Int, vocabularySize: Int
    /// Positions filled so far (≤ context).
    public internal(set) var length = 0
    let keys: [FloatPointer], values: [FloatPointer]
    // Scratch for up to T new rows: the residual stream, norms, q|k|v, attention output, MLP.
    let x, normed, mean, rstd, qkv, attnY, sum1, hidden, hiddenAct, sum2, scores: FloatPointer
    /// (V) logits of the last new row.
    let logits: FloatPointer
    private let storage: FloatPointer

    init(layers L: Int, context T: Int, width C: Int, heads H: Int, vocabularySize V: Int) {
        layers = L
        context = T
        width = C
        vocabularySize = V
        let sizes = [Int](repeating: T * C, count: 2 * L)
            + [T * C, T * C, T, T, T * 3 * C, T * C, T * C, T * 4 * C, T * 4 * C, T * C, T * T, V]
        storage = .allocate(capacity: sizes.reduce(0, +))
        storage.initialize(repeating: 0, count: sizes.reduce(0, +))
        var pointers: [FloatPointer] = []
        var cursor = storage
        for size in sizes { pointers.append(cursor); cursor += size }
        keys = Array(pointers[0..<L])
        values = Array(pointers[L..<(2 * L)])
        var rest = pointers[(2 * L)...].makeIterator()
        x = rest.next()!; normed = rest.next()!; mean = rest.next()!; rstd = rest.next()!
        qkv = rest.next()!; attnY = rest.next()!; sum1 = rest.next()!; hidden = rest.next()!
        hiddenAct = rest.next()!; sum2 = rest.next()!; scores = rest.next()!; logits = rest.next()!
    }

    deinit { storage.deallocate() }

    /// Forgets every position (the buffers stay allocated).
    public func reset() { length = 0 }
}

extension GPT {
    /// An empty cache sized for this model's context.
    public func makeKVCache() -> GPTKVCache {
        GPTKVCache(layers: config.layers, context: config.context, width: config.width, heads: config.heads,
                   vocabularySize: config.vocabularySize)
    }

    /// Feeds `tokens` (n ≥ 1) at positions cache.length ..< cache.length + n (which must not pass
    /// the context), appends their keys and values to the cache, and returns the logits (V) of
    /// the last of them: what `forward` on the whole sequence gives at that row, without
    /// recomputing the rows before. Dropout is off (this is inference).
    ///
    /// With s = cache.length, rows i = 0 ..< n at positions s + i, per block (Pre-LN):
    ///   a = LN1(x)   qkv = a·W_attnᵀ (n, 3C)   keys[s + i] = k_i, values[s + i] = v_i
    ///   per head: scores[i, j] = q_i·k_j/√D for j ≤ s + i (the causal mask: row i sees the
    ///   cached positions and the new rows up to itself)   P = softmax   y_i = Σ_j P[i, j]·v_j
    ///   x = x + y·W_projᵀ,  then the MLP as in `forward`.
    /// Post-LN reads attention from x itself and normalises after each residual sum.
    public func decode(_ tokens: [Int], into cache: GPTKVCache) -> [Float] {
        let n = tokens.count, s = cache.length
        precondition(n >= 1 && s + n <= config.context, "GPT.decode: \(n) tokens after \(s) exceed the context \(config.context)")
        precondition(cache.layers == config.layers && cache.width == config.width, "GPT.decode: the cache is of another model")
        let V = config.vocabularySize, C = config.width, H = config.heads, D = C / H
        let total = s + n                               // keys visible to the last new row
        let p = parameters
        func param(_ offset: Int) -> UnsafePointer<Float>? { offset >= 0 ? UnsafePointer(p + offset) : nil }
        func normBias(_ offset: Int) -> UnsafePointer<Float> { offset >= 0 ? UnsafePointer(p + offset) : UnsafePointer(zeroBias) }
        let rms = config.norm == .rmsNorm, relu = config.activation == .relu

        // 1. Embedding: token rows plus the rows of their positions s ..< s + n.
        for i in 0..<n { embed(token: tokens[i], position: s + i, into: cache.x + i * C) }

        // 2. The blocks; the residual stream lives in cache.x (Pre-LN) and is rewritten per block.
        for (l, o) in blocks.enumerated() {
            let keys = cache.keys[l], values = cache.values[l]
            // attention input: LN1(x) for Pre-LN, x itself for Post-LN
            let attnIn: UnsafePointer<Float>
            if config.preNorm {
                gptNormForward(cache.normed, mean: cache.mean, rstd: cache.rstd, cache.x, weight: p + o.ln1Weight,
                               bias: normBias(o.ln1Bias), rms: rms, rows: n, cols: C)
                attnIn = UnsafePointer(cache.normed)
            } else {
                attnIn = UnsafePointer(cache.x)
            }
            gptLinearForward(cache.qkv, attnIn, weight: p + o.attnWeight, bias: param(o.attnBias),
                             rows: n, inFeatures: C, outFeatures: 3 * C)
            // append this pass's keys and values: rows s ..< s + n of the cache
            for i in 0..<n {
                (keys + (s + i) * C).update(from: cache.qkv + i * 3 * C + C, count: C)
                (values + (s + i) * C).update(from: cache.qkv + i * 3 * C + 2 * C, count: C)
            }
            attendToCache(cache, keys: keys, values: values, newRows: n, start: s, heads: H, headSize: D)
            // sum1 = x + y·W_projᵀ (+ b)
            cache.sum1.update(from: cache.x, count: n * C)
            gptLinearForward(cache.sum1, cache.attnY, weight: p + o.projWeight, bias: param(o.projBias),
                             rows: n, inFeatures: C, outFeatures: C, accumulate: true)
            // the MLP reads LN2(sum1) (Pre-LN) or a = LN1(sum1) (Post-LN), and adds onto its input's base
            let mlpBase: UnsafePointer<Float>
            if config.preNorm {
                gptNormForward(cache.normed, mean: cache.mean, rstd: cache.rstd, cache.sum1, weight: p + o.ln2Weight,
                               bias: normBias(o.ln2Bias), rms: rms, rows: n, cols: C)
                mlpBase = UnsafePointer(cache.sum1)
            } else {
                gptNormForward(cache.normed, mean: cache.mean, rstd: cache.rstd, cache.sum1, weight: p + o.ln1Weight,
                               bias: normBias(o.ln1Bias), rms: rms, rows: n, cols: C)
                mlpBase = UnsafePointer(cache.normed)
            }
            gptLinearForward(cache.hidden, cache.normed, weight: p + o.fcWeight, bias: param(o.fcBias),
                             rows: n, inFeatures: C, outFeatures: 4 * C)
            gptActivationForward(cache.hiddenAct, cache.hidden, count: n * 4 * C, relu: relu)
            cache.sum2.update(from: mlpBase, count: n * C)
            gptLinearForward(cache.sum2, cache.hiddenAct, weight: p + o.fcProjWeight, bias: param(o.fcProjBias),
                             rows: n, inFeatures: 4 * C, outFeatures: C, accumulate: true)
            // the block's output becomes the next block's x
            if config.preNorm {
                cache.x.update(from: cache.sum2, count: n * C)
            } else {
                gptNormForward(cache.x, mean: cache.mean, rstd: cache.rstd, cache.sum2, weight: p + o.ln2Weight,
                               bias: normBias(o.ln2Bias), rms: rms, rows: n, cols: C)
            }
        }
        cache.length = total

        // 3. Only the last row's logits are needed: LN_f of that row, then the head.
        let last = UnsafePointer(cache.x + (n - 1) * C)
        gptNormForward(cache.normed, mean: cache.mean, rstd: cache.rstd, last, weight: p + lnfWeight,
                       bias: normBias(lnfBias), rms: rms, rows: 1, cols: C)
        gptLinearForward(cache.logits, cache.normed, weight: p + headWeight, bias: nil, rows: 1, inFeatures: C, outFeatures: V)
        return Array(UnsafeBufferPointer(start: cache.logits, count: V))
    }

    /// Causal attention of n new rows (their q in cache.qkv) over the cached keys and values of
    /// positions 0 ..< start + n, written to cache.attnY (n, C). Per head h, with D-wide slices:
    ///   scores (n, start + n) = q·Kᵀ/√D   (one gemm over the cache rows, leading dimension C)
    ///   row i: softmax over its first start + i + 1 entries, the rest 0
    ///   y (n, D) = P·V                     (one gemm, into the head's D columns of attnY)
    private func attendToCache(_ cache: GPTKVCache, keys: FloatPointer, values: FloatPointer,
                               newRows n: Int, start s: Int, heads H: Int, headSize D: Int) {
        let C = H * D, total = s + n, scale = 1 / Float(D).squareRoot()
        for h in 0..<H {
            gemm(transposeB: true, m: n, n: total, k: D, alpha: scale, a: cache.qkv + h * D, lda: 3 * C,
                 b: keys + h * D, ldb: C, c: cache.scores, ldc: total)
            for i in 0..<n {
                let row = cache.scores + i * total, visible = s + i + 1
                _ = softmaxRow(row, row, visible: visible)
                for j in visible..<max(visible, total) { row[j] = 0 }
            }
            gemm(m: n, n: D, k: total, a: cache.scores, lda: total, b: values + h * D, ldb: C,
                 c: cache.attnY + h * D, ldc: C)
        }
    }
}
