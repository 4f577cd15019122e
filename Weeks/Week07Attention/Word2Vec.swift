// Part 2: word embeddings learned by skip-gram with negative sampling (word2vec; Mikolov et al.
// 2013, https://arxiv.org/abs/1310.4546). Each word w has an input vector v_w and an output
// vector u_w. For a word at position i and a context word at j within the window, the model
// should score the true pair high and K random "negative" words low:
//   L = −log σ(u_o·v_c) − Σ_k log σ(−u_k·v_c)       c = context (input), o = the word at i
// Words that appear in the same contexts end up with similar input vectors. The training loop
// follows the original C code (and gensim's): a random window shrink per word, negatives drawn
// from counts^0.75, plain SGD with a learning rate falling linearly to almost 0.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// The corpus as word ids: one sentence per non-empty line, words as `lowercaseWords`, words
/// rarer than the minimum count removed (they get no vector). Ids are in order of frequency,
/// most frequent first (ties alphabetical), so "the 2,000 most frequent words" is ids 0..<2000.
struct WordCorpus {
    let words: [String]
    let counts: [Int]
    let index: [String: Int]
    let sentences: [[Int]]
    /// Words in the text before the rare ones were dropped (the anchor's throughput counts these).
    let rawWordCount: Int

    init(text: String, minimumCount: Int) {
        let lines = text.split(separator: "\n").map(lowercaseWords).filter { !$0.isEmpty }
        var counts: [String: Int] = [:]
        for line in lines { for word in line { counts[word, default: 0] += 1 } }
        let kept = counts.filter { $0.value >= minimumCount }
            .sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        words = kept.map(\.key)
        self.counts = kept.map(\.value)
        var index: [String: Int] = [:]
        for (i, word) in words.enumerated() { index[word] = i }
        self.index = index
        sentences = lines.map { $0.compactMap { index[$0] } }.filter { !$0.isEmpty }
        rawWordCount = lines.reduce(0) { $0 + $1.count }
    }

    var vocabularySize: Int { words.count }
    /// Words left after dropping the rare ones: what one epoch trains on.
    var keptWordCount: Int { sentences.reduce(0) { $0 + $1.count } }
}

// MARK: - The loss, forward and backward (for checking; the trainer fuses them with SGD)

/// Per-pair skip-gram negative-sampling losses.
///   inputVectors, outputVectors: (V, D)   inputs, outputs: (N) word ids (context c, word o)
///   negatives: (N, K) word ids   returns losses (N):
///   loss_n = −log σ(u_o·v_c) − Σ_k log σ(−u_k·v_c)
func skipGramLossForward(inputVectors: [Float], outputVectors: [Float], dimension D: Int,
                         inputs: [Int], outputs: [Int], negatives: [Int], negativeCount K: Int) -> [Float] {
    precondition(inputs.count == outputs.count && negatives.count == inputs.count * K, "skipGramLossForward: shapes")
    func dot(_ a: Int, _ b: Int) -> Float {
        var s: Float = 0
        for d in 0..<D { s += inputVectors[a * D + d] * outputVectors[b * D + d] }
        return s
    }
    // −log σ(x) = log(1 + e^−x), written as softplus(−x) so large |x| neither overflows nor
    // loses the result to 1 + tiny = 1
    func softplus(_ x: Float) -> Float { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }
    return (0..<inputs.count).map { n in
        var loss = softplus(-dot(inputs[n], outputs[n]))
        for k in 0..<K { loss += softplus(dot(inputs[n], negatives[n * K + k])) }
        return loss
    }
}

/// Backward of `skipGramLossForward`. Adds into dInputVectors and dOutputVectors (V, D).
/// forward: loss = −log σ(s_o) − Σ_k log σ(−s_k) with s = u·v_c. Since d/ds[−log σ(s)] = σ(s) − 1
/// and d/ds[−log σ(−s)] = σ(s):
///   g_o = dLoss·(σ(s_o) − 1)     g_k = dLoss·σ(s_k)
///   dv_c += g_o·u_o + Σ_k g_k·u_k      du_o += g_o·v_c      du_k += g_k·v_c
///   dLosses: (N)
func skipGramLossBackward(dInputVectors: inout [Float], dOutputVectors: inout [Float], dLosses: [Float],
                          inputVectors: [Float], outputVectors: [Float], dimension D: Int,
                          inputs: [Int], outputs: [Int], negatives: [Int], negativeCount K: Int) {
    for n in 0..<inputs.count {
        let c = inputs[n]
        let targets = [outputs[n]] + negatives[(n * K)..<((n + 1) * K)]
        for (k, o) in targets.enumerated() {
            var s: Float = 0
            for d in 0..<D { s += inputVectors[c * D + d] * outputVectors[o * D + d] }
            let sigma = 1 / (1 + exp(-s))
            let g = dLosses[n] * (k == 0 ? sigma - 1 : sigma)
            for d in 0..<D {
                dInputVectors[c * D + d] += g * outputVectors[o * D + d]
                dOutputVectors[o * D + d] += g * inputVectors[c * D + d]
            }
        }
    }
}

// MARK: - Training

struct SkipGramConfig {
    var dimension = 64
    var window = 5
    var negatives = 5
    var epochs = 5
    var startLearningRate: Float = 0.025
    /// The floor of the linear decay (gensim's min_alpha).
    var endLearningRate: Float = 0.0001
}

/// The table negatives are drawn from: each word fills a share of it proportional to
/// count^0.75 (flattening the frequencies: "the" is drawn less often than its count says, rare
/// words more often; the exponent is word2vec's).
func negativeSamplingTable(counts: [Int], size: Int = 1_000_000) -> [Int32] {
    let weights = counts.map { pow(Double($0), 0.75) }
    let total = weights.reduce(0, +)
    var table = [Int32](repeating: 0, count: size)
    var word = 0, cumulative = weights.first.map { $0 / total } ?? 1
    for i in 0..<size {
        table[i] = Int32(word)
        if Double(i + 1) / Double(size) > cumulative && word < counts.count - 1 {
            word += 1
            cumulative += weights[word] / total
        }
    }
    return table
}

/// Input vectors (the embeddings) and output vectors, (V, D) each, trained.
struct SkipGramResult {
    let inputVectors: [Float]
    let outputVectors: [Float]
    let seconds: Double
    /// Raw words per second: text words × epochs / training seconds (the anchor's definition).
    let wordsPerSecond: Double
    /// The mean loss per pair over each epoch (measured on every 64th pair).
    let epochLosses: [Double]
}

/// Trains skip-gram with negative sampling by SGD, one pair at a time, on one thread (so the
/// result is the same on every run with the same seed). For the word at position i, a window
/// of r = window − b words on each side (b uniform in 0..<window, so near words count more);
/// every context word c in it is trained against the word o at i and K negatives.
/// The update is the backward of `skipGramLossBackward` with dLoss = 1, applied at once:
///   g = lr·(label − σ(u·v_c))   (label 1 for o, 0 for a negative; −g/lr is the gradient)
///   u += g·v_c  for each target,  v_c += Σ g·u  after all targets (with the u before its update)
func trainSkipGram(corpus: WordCorpus, config: SkipGramConfig, seed: UInt64,
                   log report: (String) -> Void = { _ in }) -> SkipGramResult {
    let V = corpus.vocabularySize, D = config.dimension, K = config.negatives
    precondition(V >= 2, "word2vec: the corpus has fewer than 2 words above the minimum count")
    var rng = SplitMix64(seed: seed)
    // word2vec's initialisation: inputs uniform in ±0.5/D, outputs zero
    var inputVectors = (0..<(V * D)).map { _ in (rng.uniform() - 0.5) / Float(D) }
    var outputVectors = [Float](repeating: 0, count: V * D)
    let table = negativeSamplingTable(counts: corpus.counts)
    let totalWords = Double(corpus.keptWordCount * config.epochs)
    var processed = 0.0
    var epochLosses: [Double] = []
    let clock = Stopwatch()
    var neu = [Float](repeating: 0, count: D)   // Σ g·u for the current context word
    let progress = Progress(total: config.epochs, label: "word2vec")
    inputVectors.withUnsafeMutableBufferPointer { inputBuffer in
    outputVectors.withUnsafeMutableBufferPointer { outputBuffer in
    neu.withUnsafeMutableBufferPointer { neuBuffer in
        let syn0 = inputBuffer.baseAddress!, syn1 = outputBuffer.baseAddress!, accumulated = neuBuffer.baseAddress!
        for epoch in 0..<config.epochs {
            var lossSum = 0.0, pairs = 0, lossTerms = 0
            for sentence in corpus.sentences {
                // the learning rate falls linearly with the words done, updated once a sentence
                let done = Float(processed / totalWords)
                let lr = max(config.endLearningRate,
                             config.startLearningRate - (config.startLearningRate - config.endLearningRate) * done)
                let n = sentence.count
                for i in 0..<n {
                    let shrink = rng.int(below: config.window)
                    let r = config.window - shrink
                    let word = sentence[i]
                    for j in max(0, i - r)...min(n - 1, i + r) where j != i {
                        let v = syn0 + sentence[j] * D
                        for d in 0..<D { accumulated[d] = 0 }
                        // the loss of every 64th pair, for the progress line (a log per target
                        // would cost more than the rest of the update)
                        let tracksLoss = pairs & 63 == 0
                        for k in 0...K {
                            let target: Int
                            if k == 0 { target = word } else {
                                target = Int(table[Int(rng.next() % UInt64(table.count))])
                                if target == word { continue }
                            }
                            let u = syn1 + target * D
                            let s = dot(v, u, D)
                            let sigma = 1 / (1 + exp(-s))
                            let label: Float = k == 0 ? 1 : 0
                            if tracksLoss {   // −log σ(s) for the word, −log σ(−s) for a negative
                                lossSum -= Double(logf(max(k == 0 ? sigma : 1 - sigma, 1e-7)))
                            }
                            let g = lr * (label - sigma)
                            addScaled(accumulated, g, u, D)   // neu += g·u (u before its update)
                            addScaled(u, g, v, D)             // u += g·v_c
                        }
                        addScaled(v, 1, accumulated, D)       // v_c += Σ g·u
                        if tracksLoss { lossTerms += 1 }
                        pairs += 1
                    }
                }
                processed += Double(n)
            }
            epochLosses.append(lossSum / Double(max(1, lossTerms)))
            progress.update(step: epoch + 1, loss: epochLosses.last, items: corpus.keptWordCount)
        }
    }}}
    progress.finish()
    let seconds = clock.seconds
    report("word2vec: \(config.epochs) epochs over \(corpus.keptWordCount) words in \(formatFixed(seconds, digits: 1)) s")
    return SkipGramResult(inputVectors: inputVectors, outputVectors: outputVectors, seconds: seconds,
                          wordsPerSecond: Double(corpus.rawWordCount * config.epochs) / seconds,
                          epochLosses: epochLosses)
}

/// a·b over D floats, 16 lanes at a time.
@inline(__always)
func dot(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ D: Int) -> Float {
    var sums = SIMD16<Float>(repeating: 0), d = 0
    while d + 16 <= D {
        sums.addProduct(UnsafeRawPointer(a + d).loadUnaligned(as: SIMD16<Float>.self),
                        UnsafeRawPointer(b + d).loadUnaligned(as: SIMD16<Float>.self))
        d += 16
    }
    var sum = sums.sum()
    while d < D { sum += a[d] * b[d]; d += 1 }
    return sum
}

/// y += α·x over D floats, 16 lanes at a time.
@inline(__always)
func addScaled(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ D: Int) {
    var d = 0
    let a = SIMD16<Float>(repeating: alpha)
    while d + 16 <= D {
        var yv = UnsafeRawPointer(y + d).loadUnaligned(as: SIMD16<Float>.self)
        yv.addProduct(a, UnsafeRawPointer(x + d).loadUnaligned(as: SIMD16<Float>.self))
        UnsafeMutableRawPointer(y + d).storeBytes(of: yv, as: SIMD16<Float>.self)
        d += 16
    }
    while d < D { y[d] += alpha * x[d]; d += 1 }
}

// MARK: - Reading the vectors

/// Rows scaled to unit length (cosine similarity becomes a dot product). vectors: (N, D).
func unitRows(_ vectors: [Float], dimension D: Int) -> [Float] {
    var out = vectors
    for row in 0..<(vectors.count / D) {
        var norm: Float = 0
        for d in 0..<D { norm += vectors[row * D + d] * vectors[row * D + d] }
        let scale = norm > 0 ? 1 / norm.squareRoot() : 0
        for d in 0..<D { out[row * D + d] *= scale }
    }
    return out
}

/// The `count` words with the highest cosine similarity to `word` (itself excluded).
func nearestNeighbours(of word: Int, unitVectors: [Float], dimension D: Int, count: Int) -> [(word: Int, cosine: Float)] {
    let V = unitVectors.count / D
    var similarities: [(word: Int, cosine: Float)] = []
    for other in 0..<V where other != word {
        var s: Float = 0
        for d in 0..<D { s += unitVectors[word * D + d] * unitVectors[other * D + d] }
        similarities.append((other, s))
    }
    return Array(similarities.sorted { $0.cosine > $1.cosine || ($0.cosine == $1.cosine && $0.word < $1.word) }.prefix(count))
}

/// The quality check, fixed before any training (the pairs of ../shared/anchors/word2vec_gensim.py):
/// forms of a pronoun, family words, titles, opposites.
let relatedWordPairs = [("thou", "thee"), ("king", "queen"), ("lord", "lady"), ("father", "mother"), ("he", "she"),
                        ("his", "her"), ("brother", "sister"), ("son", "daughter"), ("good", "bad"), ("day", "night"),
                        ("man", "woman"), ("love", "hate")]

/// For each pair both of whose words are among the `top` most frequent: the rank of the second
/// word among those `top` words by cosine similarity to the first (1 = its nearest). The median
/// is the quality figure; as in the anchor, rank = 1 + #words strictly more similar.
func pairRanks(unitVectors: [Float], dimension D: Int, corpus: WordCorpus, top: Int = 2000) -> [Int] {
    let limit = min(top, corpus.vocabularySize)
    var ranks: [Int] = []
    for (a, b) in relatedWordPairs {
        guard let i = corpus.index[a], let j = corpus.index[b], i < limit, j < limit else { continue }
        func similarity(_ other: Int) -> Float {
            var s: Float = 0
            for d in 0..<D { s += unitVectors[i * D + d] * unitVectors[other * D + d] }
            return s
        }
        let partner = similarity(j)
        var rank = 1
        for other in 0..<limit where other != i && similarity(other) > partner { rank += 1 }
        ranks.append(rank)
    }
    return ranks
}

/// The median of a list of numbers (the mean of the two middle ones for an even count).
func medianValue(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted(), n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// The first two principal components of the rows: x (N, D) centred, then power iteration on
/// the covariance xᵀx, the second after removing the first (deflation). Returns (N, 2).
func principalComponents2D(_ x: [Float], dimension D: Int, iterations: Int = 200) -> [(Double, Double)] {
    let N = x.count / D
    var centred = x.map(Double.init)
    for d in 0..<D {
        var mean = 0.0
        for n in 0..<N { mean += centred[n * D + d] }
        mean /= Double(max(N, 1))
        for n in 0..<N { centred[n * D + d] -= mean }
    }
    var covariance = [Double](repeating: 0, count: D * D)
    for n in 0..<N { for a in 0..<D { for b in 0..<D { covariance[a * D + b] += centred[n * D + a] * centred[n * D + b] } } }
    var components: [[Double]] = []
    for c in 0..<2 {
        // a fixed start vector keeps the plot the same from run to run
        var v = (0..<D).map { Double(($0 * 7 + c * 3) % 11) - 5 }
        for _ in 0..<iterations {
            var next = [Double](repeating: 0, count: D)
            for a in 0..<D { for b in 0..<D { next[a] += covariance[a * D + b] * v[b] } }
            for previous in components {   // deflation: stay orthogonal to the first component
                let overlap = zip(next, previous).reduce(0) { $0 + $1.0 * $1.1 }
                for a in 0..<D { next[a] -= overlap * previous[a] }
            }
            let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 { break }
            v = next.map { $0 / norm }
        }
        components.append(v)
    }
    return (0..<N).map { n in
        let row = centred[(n * D)..<((n + 1) * D)]
        return (zip(row, components[0]).reduce(0) { $0 + $1.0 * $1.1 }, zip(row, components[1]).reduce(0) { $0 + $1.0 * $1.1 })
    }
}
