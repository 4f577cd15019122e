// Incremental decoding with a key/value cache (week 9): a GPT that has read t tokens keeps, per
// block, the keys and values of those t positions, so the next token costs one row through the
// model (plus attention over t cached rows) instead of rerunning all t rows. Decoding runs the
// very `blockForward` that training runs, on n new rows at a time: a prompt is prefilled in one
// pass, each generated token is a pass with n = 1; only attention's keys and values come from
// the cache instead of the rows' own qkv.
// Reference: nanoGPT's model.py generate() (which recomputes everything; we cache), and the
// "past_key_values" of Hugging Face's GPT2Attention.
import SharedKernels
import SharedTools
import SharedData

/// One block's cached keys and values, as `blockForward` reads and extends them.
///   keys, values: (T, C), row t = position t, heads side by side (head h: columns h·D ..< (h+1)·D)
///   start: rows 0 ..< start are filled; the pass's new rows go to start, start + 1, ...
struct KVCacheRows {
    let keys: FloatPointer, values: FloatPointer
    let start: Int

    /// Copies the k and v thirds of n new qkv rows (n, 3C) into cache rows start ..< start + n.
    func append(qkv: UnsafePointer<Float>, rows n: Int, width C: Int) {
        for i in 0..<n {
            (keys + (start + i) * C).update(from: qkv + i * 3 * C + C, count: C)
            (values + (start + i) * C).update(from: qkv + i * 3 * C + 2 * C, count: C)
        }
    }
}

/// The keys and values of one sequence, per block, and the buffers one decoding pass needs.
/// Filled positions are 0 ..< `length`; `GPT.decode(_:into:)` appends. Everything is allocated
/// once, for T rows (the longest pass is a prefill of a whole context).
public final class GPTKVCache {
    public let layers: Int, context: Int, width: Int, vocabularySize: Int
    /// Positions filled so far (≤ context).
    public internal(set) var length = 0
    private let arena: FloatArena
    let keys: [FloatPointer], values: [FloatPointer]   // per block: (T, C) each
    /// One block's activations for up to T rows (batch 1), reused by every block in turn.
    let activations: BlockActivations
    let x: FloatPointer                                 // (T, C)  the residual stream of the new rows
    let lnf: FloatPointer, lnfMean: FloatPointer, lnfRstd: FloatPointer   // (C), (1), (1): the last row's LN_f
    let logits: FloatPointer                            // (V)     the last row's logits

    init(config: GPTConfig) {
        let L = config.layers, T = config.context, C = config.width
        layers = L
        context = T
        width = C
        vocabularySize = config.vocabularySize
        let arena = FloatArena()
        self.arena = arena
        keys = (0..<L).map { _ in arena.take(T * C) }
        values = (0..<L).map { _ in arena.take(T * C) }
        activations = BlockActivations(arena: arena, batch: 1, length: T, width: C, heads: config.heads, dropout: false)
        x = arena.take(T * C)
        lnf = arena.take(C); lnfMean = arena.take(1); lnfRstd = arena.take(1)
        logits = arena.take(config.vocabularySize)
    }

    /// Forgets every position (the buffers stay allocated).
    public func reset() { length = 0 }
}

extension GPT {
    /// An empty cache sized for this model's context.
    public func makeKVCache() -> GPTKVCache { GPTKVCache(config: config) }

    /// Feeds `tokens` (n ≥ 1) at positions cache.length ..< cache.length + n (which must not pass
    /// the context), appends their keys and values to the cache, and returns the logits (V) of
    /// the last of them: what `forward` on the whole sequence gives at that row, without
    /// recomputing the rows before. Dropout is off (this is inference).
    ///
    /// With s = cache.length, each block runs `blockForward` on the n new rows, whose attention
    /// appends their keys and values at rows s ..< s + n and lets new row i see cached rows
    /// 0 ... s + i (the causal mask with query offset s). Then LN_f and the head, last row only.
    public func decode(_ tokens: [Int], into cache: GPTKVCache) -> [Float] {
        let n = tokens.count, s = cache.length, C = config.width
        precondition(n >= 1 && s + n <= config.context, "GPT.decode: \(n) tokens after \(s) exceed the context \(config.context)")
        precondition(cache.layers == config.layers && cache.width == C, "GPT.decode: the cache is of another model")
        // 1. Embedding: token rows plus the rows of their positions s ..< s + n.
        for i in 0..<n { embed(token: tokens[i], position: s + i, into: cache.x + i * C) }
        // 2. The blocks; queries are the n new rows, keys and values all s + n cached ones.
        let layout = AttentionLayout(batch: 1, heads: config.heads, queries: n, keys: s + n, headSize: C / config.heads,
                                     queryRowStride: 3 * C, keyRowStride: C, valueRowStride: C, outRowStride: C)
        var noDropout = SplitMix64(seed: 0)   // never drawn from: training is off
        for l in 0..<config.layers {
            let rows = KVCacheRows(keys: cache.keys[l], values: cache.values[l], start: s)
            let out = blockForward(l, cache.x, cache.activations, rows: n, layout: layout, cache: rows,
                                   training: false, rng: &noDropout)
            cache.x.update(from: out, count: n * C)
        }
        cache.length = s + n
        // 3. Only the last row's logits are needed.
        headForward(cache.logits, lnf: cache.lnf, mean: cache.lnfMean, rstd: cache.lnfRstd, cache.x + (n - 1) * C, rows: 1)
        return Array(UnsafeBufferPointer(start: cache.logits, count: config.vocabularySize))
    }
}
