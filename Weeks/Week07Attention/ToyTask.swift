// Part 4's experiment: every model gets the same step budget, the same freshly drawn batches
// (the data generator is seeded with the run's seed, not shared with the initialisation), Adam
// and clipping, and is scored on the same held-out sequences by greedy decoding: token
// accuracy (answer digits right) and exact match (whole answers right). Then the attention
// maps: how much of each answer step's attention falls on the source position that holds the
// digit it must write (the mirrored position, for reverse).
import Shared

/// The models of parts 4 and 5, by their metrics.json keys.
enum ToyModelKind: String, CaseIterable {
    case lstm
    case lstmAttention = "lstm_attention"
    case transformer
    case transformerNoPositions = "transformer_no_positions"
    case transformerSinusoidal = "transformer_sinusoidal"

    var title: String {
        switch self {
        case .lstm: return "LSTM encoder-decoder"
        case .lstmAttention: return "LSTM + attention"
        case .transformer: return "Transformer (learned positions)"
        case .transformerNoPositions: return "Transformer (no positions)"
        case .transformerSinusoidal: return "Transformer (sinusoidal positions)"
        }
    }
}

/// The settings every toy run shares (Week07Config fills them from the flags).
struct ToyTaskConfig {
    var task: SequenceTask = .reverse
    var steps = 2000
    var batch = 64
    var learningRate: Float = 2e-3
    var clip: Float = 1
    var heldOut = 2000
    var evalEvery = 250
    /// Held-out sequences scored at each evaluation during training (all of them at the end).
    var evalSequences = 256
    var hidden = 128
    var embedding = 64
    var heads = 4
    var layers = 2
    var seed: UInt64 = 1337
}

/// A fresh model of one kind for sequences of length L.
func makeToyModel(_ kind: ToyModelKind, length L: Int, config: ToyTaskConfig) -> ToyModel {
    var rng = SplitMix64(seed: config.seed)
    switch kind {
    case .lstm, .lstmAttention:
        return LSTMEncoderDecoder(vocabulary: 10, hidden: config.hidden, attention: kind == .lstmAttention, rng: &rng)
    case .transformer, .transformerNoPositions, .transformerSinusoidal:
        let positions: PositionEncoding = kind == .transformer ? .learned : kind == .transformerSinusoidal ? .sinusoidal : .none
        return ToyTransformer(vocabulary: 10, length: L, embedding: config.embedding, heads: config.heads,
                              layers: config.layers, positions: positions, rng: &rng)
    }
}

/// Held-out sources and answers: (count, L) each, from their own seed.
func heldOutSequences(task: SequenceTask, length L: Int, count: Int, seed: UInt64) -> (sources: [Int], targets: [Int]) {
    var rng = SplitMix64(seed: seed &+ 0x5eed_0001)
    let batch = SequenceTasks.alignedBatch(task, batchSize: count, length: L, vocabularySize: 10, rng: &rng)
    return (batch.inputs, batch.targets)
}

/// Accuracy of greedy answers, and the attention maps' mirrored mass.
struct ToyScore {
    var tokenAccuracy: Double
    var exactMatch: Double
    /// Per head: mean attention on the position holding the digit to write, shifted by s source
    /// positions, for s = −2 … 2 (index s + 2). Empty for models without attention.
    var mirroredMass: [[Double]]
}

/// The source position holding answer t's digit (reverse: L − 1 − t; copy: t); nil for sort,
/// where it depends on the values.
func alignedSourcePosition(_ task: SequenceTask, answerStep t: Int, length L: Int) -> Int? {
    switch task {
    case .reverse: return L - 1 - t
    case .copy: return t
    case .sort: return nil
    }
}

/// Scores greedy answers on (sources, targets), in chunks of 500 sequences (bounded memory).
/// Also returns the attention maps of the first sequence (one (L, L) map per head).
func scoreToyModel(_ model: ToyModel, task: SequenceTask, sources: [Int], targets: [Int], length L: Int,
                   count: Int) -> (score: ToyScore, firstMaps: [[Float]]) {
    var correctTokens = 0, correctSequences = 0
    var massSums: [[Double]] = [], firstMaps: [[Float]] = []
    var start = 0
    while start < count {
        let n = min(500, count - start)
        let chunk = Array(sources[(start * L)..<((start + n) * L)])
        let (answers, maps) = model.predict(sources: chunk, batch: n)
        for b in 0..<n {
            var allRight = true
            for t in 0..<L {
                if answers[b * L + t] == targets[(start + b) * L + t] { correctTokens += 1 } else { allRight = false }
            }
            if allRight { correctSequences += 1 }
        }
        if massSums.isEmpty { massSums = maps.map { _ in [Double](repeating: 0, count: 5) } }
        for (h, map) in maps.enumerated() {
            if start == 0 { firstMaps.append(Array(map[0..<(L * L)])) }
            for b in 0..<n {
                for t in 0..<L {
                    guard let j = alignedSourcePosition(task, answerStep: t, length: L) else { continue }
                    for shift in -2...2 where j + shift >= 0 && j + shift < L {
                        massSums[h][shift + 2] += Double(map[(b * L + t) * L + j + shift])
                    }
                }
            }
        }
        start += n
    }
    let mass = massSums.map { sums in sums.map { $0 / Double(count * L) } }
    return (ToyScore(tokenAccuracy: Double(correctTokens) / Double(count * L),
                     exactMatch: Double(correctSequences) / Double(count),
                     mirroredMass: alignedSourcePosition(task, answerStep: 0, length: L) == nil ? [] : mass), firstMaps)
}

/// One trained toy model.
struct ToyRun {
    let kind: ToyModelKind
    let length: Int
    let parameters: Int
    /// One row per evaluation: step, train_loss (mean since the last row), val_token_accuracy.
    let history: [[String: Double]]
    let score: ToyScore
    /// The attention maps of held-out sequence 0 (one (L, L) map per head), and that sequence.
    let maps: [[Float]]
    let exampleSource: [Int]
    let exampleAnswer: [Int]
    let seconds: Double
    let finalLoss: Double

    /// The head with the most mass on the aligned position (shift 0), and that mass.
    var bestHead: (head: Int, mass: Double)? {
        score.mirroredMass.enumerated().map { ($0.offset, $0.element[2]) }.max { $0.1 < $1.1 }
    }

    /// The largest aligned mass over heads for shifts 0…2 (the LSTM decoder reads late), and the shift.
    var bestLateShift: (shift: Int, mass: Double)? {
        var best: (Int, Double)?
        for masses in score.mirroredMass {
            for shift in 0...2 where best == nil || masses[shift + 2] > best!.1 { best = (shift, masses[shift + 2]) }
        }
        return best
    }
}

/// Trains one model for `config.steps` steps on fresh batches of the task at length L, then
/// scores it on the held-out sequences.
func trainToyModel(_ kind: ToyModelKind, length L: Int, config: ToyTaskConfig, steps: Int? = nil,
                   log: (String) -> Void) -> ToyRun {
    let steps = steps ?? config.steps
    let model = makeToyModel(kind, length: L, config: config)
    let optimizer = Adam(model.parameters, learningRate: config.learningRate)
    let heldOut = heldOutSequences(task: config.task, length: L, count: config.heldOut, seed: config.seed)
    var data = SplitMix64(seed: config.seed &+ 17)   // the same batches for every model
    let progress = Progress(total: steps, label: "\(kind.rawValue) L=\(L)")
    let clock = Stopwatch()
    var history: [[String: Double]] = [], lossSum = 0.0, lossCount = 0, lastLoss = 0.0
    for step in 1...max(1, steps) {
        let batch = SequenceTasks.alignedBatch(config.task, batchSize: config.batch, length: L, vocabularySize: 10, rng: &data)
        model.parameters.zeroGrad()
        let loss = model.lossAndGradients(sources: batch.inputs, targets: batch.targets, batch: config.batch)
        if config.clip > 0 { model.parameters.clipGradients(maxNorm: config.clip) }
        optimizer.step()
        lossSum += loss; lossCount += 1; lastLoss = loss
        progress.update(step: step, loss: loss, items: config.batch)
        if step % config.evalEvery == 0 || step == steps {
            let n = min(config.evalSequences, config.heldOut)
            let (score, _) = scoreToyModel(model, task: config.task, sources: heldOut.sources, targets: heldOut.targets,
                                           length: L, count: n)
            history.append(["step": Double(step), "train_loss": lossSum / Double(lossCount),
                            "val_token_accuracy": score.tokenAccuracy, "val_exact_match": score.exactMatch,
                            "seconds": clock.seconds])
            lossSum = 0; lossCount = 0
        }
    }
    let (score, maps) = scoreToyModel(model, task: config.task, sources: heldOut.sources, targets: heldOut.targets,
                                      length: L, count: config.heldOut)
    let example = model.predict(sources: Array(heldOut.sources[0..<L]), batch: 1).answers
    progress.finish("held-out token accuracy \(formatPercent(score.tokenAccuracy)), exact match \(formatPercent(score.exactMatch))")
    return ToyRun(kind: kind, length: L, parameters: model.parameters.scalarCount, history: history, score: score,
                  maps: maps, exampleSource: Array(heldOut.sources[0..<L]), exampleAnswer: example,
                  seconds: clock.seconds, finalLoss: lastLoss)
}
