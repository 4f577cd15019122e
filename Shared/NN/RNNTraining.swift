// Training a character-level recurrent language model (weeks 5-6): random chunks of T
// characters (or consecutive ones, carrying the hidden state: truncated BPTT), forward,
// cross-entropy, BPTT, clipping by global norm, Adam; validation in nats and bits per
// character; samples along the way. Week 5 introduces it with the RNN; week 6 runs the same
// loop on the LSTM and on the RNN, so the comparison is fair by construction.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every knob of one training run.
public struct RecurrentTrainingConfig {
    public var steps: Int
    /// B, sequences per batch.
    public var batchSize: Int
    /// T, characters per chunk (how far BPTT reaches back).
    public var blockSize: Int
    public var learningRate: Float
    /// Global-norm clipping threshold; nil turns clipping off.
    public var clip: Float?
    /// Carry the hidden state from one chunk to the next (truncated BPTT over a stream) instead
    /// of starting every chunk from zero.
    public var carryState: Bool
    /// Validate every this many steps (and after the last).
    public var evalEvery: Int
    /// Validation windows per evaluation (nil: the whole validation split).
    public var evalWindows: Int?
    /// Print a sample every this many steps (0: never).
    public var sampleEvery: Int
    public var sampleLength: Int
    public var temperature: Float

    public init(steps: Int, batchSize: Int, blockSize: Int, learningRate: Float, clip: Float?,
                carryState: Bool = false, evalEvery: Int, evalWindows: Int? = nil,
                sampleEvery: Int = 0, sampleLength: Int = 200, temperature: Float = 0.8) {
        self.steps = steps
        self.batchSize = batchSize
        self.blockSize = blockSize
        self.learningRate = learningRate
        self.clip = clip
        self.carryState = carryState
        self.evalEvery = evalEvery
        self.evalWindows = evalWindows
        self.sampleEvery = sampleEvery
        self.sampleLength = sampleLength
        self.temperature = temperature
    }
}

/// What a run produced: per-step traces, per-evaluation history, samples, timings.
public struct RecurrentTrainingRun {
    /// Training loss of every step (nats/char), (steps).
    public var stepLosses: [Double] = []
    /// Global gradient norm of every step, before clipping, (steps).
    public var gradientNorms: [Double] = []
    /// One row per evaluation: step, train_loss (mean since the last evaluation), val_loss,
    /// val_bits_per_char, grad_norm (mean), seconds (since the start).
    public var history: [[String: Double]] = []
    /// (step, text) of every sample printed along the way.
    public var samples: [(step: Int, text: String)] = []
    /// The last validation loss (nats/char); the divergence message instead, if it diverged.
    public var finalValidationLoss = Double.nan
    public var divergence: String?
    /// Median wall time of one training step (batch + forward + backward + clip + Adam), ms.
    public var medianStepMilliseconds = 0.0
    public var seconds = 0.0
    public var stepsDone: Int { stepLosses.count }
}

/// Nats per bit, ln 2: bits per character = nats per character / ln 2.
public let natsPerBit = 0.693_147_180_559_945_3

/// Where each of the B rows of the next batch starts reading the training text.
/// Random (the default): fresh uniform starts every step, zero initial state.
/// Consecutive (truncated BPTT): the text is cut into B equal lanes and row b walks its lane
/// chunk after chunk, so the state carried from the previous step belongs to the text just
/// before; a row that reaches the end of its lane wraps to the lane's start (state reset).
public struct ChunkSchedule {
    public let chunks: TextChunks
    public let batchSize: Int
    public let consecutive: Bool
    /// Consecutive mode: the next chunk of each lane, as an offset into the lane.
    private var position = 0
    private let laneLength: Int

    public init(chunks: TextChunks, batchSize B: Int, consecutive: Bool) throws {
        self.chunks = chunks
        self.batchSize = B
        self.consecutive = consecutive
        laneLength = chunks.startCount / B
        if consecutive && laneLength < chunks.blockSize {
            throw WorkbookError("the training text (\(chunks.ids.count) characters) is too short for "
                                + "\(B) lanes of at least \(chunks.blockSize) characters")
        }
    }

    /// The next batch, and whether the state must be reset before it (always true when
    /// not consecutive; true at the start and on wrapping when consecutive).
    public mutating func next(rng: inout SplitMix64) -> (batch: TextBatch, resetState: Bool) {
        guard consecutive else { return (chunks.randomBatch(batchSize: batchSize, rng: &rng), true) }
        let T = chunks.blockSize
        var reset = position == 0
        if position + T > laneLength { position = 0; reset = true }
        let starts = (0..<batchSize).map { $0 * laneLength + position }
        position += T
        return (chunks.batch(starts: starts), reset)
    }
}

/// One training step on one batch: forward, loss, BPTT, clip, optimizer update.
/// Returns the batch loss (nats/char) and the gradient norm before clipping.
/// The state in `workspace` is reset first unless `carry` (then it continues from the
/// previous step's final state).
@discardableResult
public func trainingStep(_ model: RecurrentLanguageModel, optimizer: Optimizer,
                         workspace: RecurrentLanguageModel.Workspace, batch: TextBatch,
                         carry: Bool, clip: Float?) -> (loss: Double, gradientNorm: Double) {
    if carry { workspace.recurrent.carryState() } else { workspace.recurrent.resetState() }
    optimizer.zeroGrad()
    let loss = model.loss(inputs: batch.inputs, targets: batch.targets, workspace: workspace)
    model.backward(workspace)
    let parameters = optimizer.parameters
    let norm = clip.map { parameters.clipGradients(maxNorm: $0) } ?? parameters.gradientNorm()
    optimizer.step()
    return (loss, norm)
}

/// Trains `model` with Adam on random (or consecutive) chunks of `train`, validating on
/// `validation` every `config.evalEvery` steps. Stops early, reporting divergence, when the
/// loss or the gradient norm stops being finite. `log` receives progress and samples.
public func trainLanguageModel(_ model: RecurrentLanguageModel, train: [Int], validation: [Int],
                               vocabulary: CharVocabulary, config: RecurrentTrainingConfig,
                               label: String, rng: inout SplitMix64,
                               log: (String) -> Void) throws -> RecurrentTrainingRun {
    let T = config.blockSize, B = config.batchSize
    var schedule = try ChunkSchedule(chunks: TextChunks(ids: train, blockSize: T), batchSize: B,
                                     consecutive: config.carryState)
    let validationIDs = try validationSlice(validation, steps: T, windows: config.evalWindows)
    let optimizer = Adam(model.parameters, learningRate: config.learningRate)
    let workspace = model.makeWorkspace(batch: B, steps: T)
    let newline = vocabulary.id(of: "\n") ?? 0
    var run = RecurrentTrainingRun()
    var stepTimes: [Double] = []
    let start = monotonicSeconds()
    var sinceEval = (loss: 0.0, norm: 0.0, count: 0)
    let progress = Progress(total: config.steps, label: label)

    for step in 1...config.steps {
        let stepStart = monotonicSeconds()
        let (batch, reset) = schedule.next(rng: &rng)
        let (loss, norm) = trainingStep(model, optimizer: optimizer, workspace: workspace, batch: batch,
                                        carry: config.carryState && !reset, clip: config.clip)
        stepTimes.append(monotonicSeconds() - stepStart)
        guard loss.isFinite, norm.isFinite else {
            run.divergence = "diverged at step \(step): the " + (loss.isFinite ? "gradient norm" : "loss")
                + " is no longer finite (try a lower --lr, or clipping)"
            break
        }
        run.stepLosses.append(loss)
        run.gradientNorms.append(norm)
        sinceEval = (sinceEval.loss + loss, sinceEval.norm + norm, sinceEval.count + 1)
        progress.update(step: step, loss: loss, items: B * T)

        if step % config.evalEvery == 0 || step == config.steps {
            let validationLoss = try model.evaluate(ids: validationIDs, steps: T, batch: 64)
            run.history.append([
                "step": Double(step), "train_loss": sinceEval.loss / Double(sinceEval.count),
                "val_loss": validationLoss, "val_bits_per_char": validationLoss / natsPerBit,
                "grad_norm": sinceEval.norm / Double(sinceEval.count), "seconds": monotonicSeconds() - start,
            ])
            sinceEval = (0, 0, 0)
            run.finalValidationLoss = validationLoss
            if !validationLoss.isFinite {
                run.divergence = "diverged at step \(step): the validation loss is no longer finite"
                break
            }
        }
        if config.sampleEvery > 0 && step % config.sampleEvery == 0 && step < config.steps {
            let ids = model.sample(prompt: [newline], count: config.sampleLength,
                                   temperature: config.temperature, rng: &rng)
            let text = vocabulary.decode(ids)
            run.samples.append((step, text))
            log("--- sample at step \(step) (temperature \(config.temperature)) ---\n\(text)\n---")
        }
    }
    progress.finish(run.divergence ?? "")
    run.seconds = monotonicSeconds() - start
    stepTimes.sort()
    run.medianStepMilliseconds = stepTimes.isEmpty ? 0 : stepTimes[stepTimes.count / 2] * 1000
    return run
}

/// The first `windows` windows of T characters of the validation ids (all when nil), plus
/// the one character that follows (the last window's target).
func validationSlice(_ ids: [Int], steps T: Int, windows: Int?) throws -> [Int] {
    guard ids.count >= T + 1 else {
        throw WorkbookError("the validation text has \(ids.count) characters, fewer than block size + 1 = \(T + 1)")
    }
    guard let windows, windows * T + 1 < ids.count else { return ids }
    return Array(ids[..<(windows * T + 1)])
}

/// Samples `count` characters after a text prompt. A prompt with a character the model
/// never saw throws one clear line naming it (CharVocabulary.encode); an empty prompt
/// starts from a newline.
public func sampleText(_ model: RecurrentLanguageModel, vocabulary: CharVocabulary, prompt: String,
                       count: Int, temperature: Float, rng: inout SplitMix64) throws -> String {
    guard temperature > 0 && temperature.isFinite else {
        throw WorkbookError("the sampling temperature must be a positive number, got \(temperature)")
    }
    let promptIDs: [Int]
    do {
        promptIDs = try vocabulary.encode(prompt)
    } catch let error as WorkbookError {
        throw WorkbookError("cannot sample from the prompt \"\(prompt)\": \(error.message)")
    }
    let ids = model.sample(prompt: promptIDs, count: count, temperature: temperature,
                           startID: vocabulary.id(of: "\n") ?? 0, rng: &rng)
    return prompt + vocabulary.decode(ids)
}

/// The entropy of the character frequencies, −Σ p_c ln p_c (nats/char): the loss of the best
/// model that ignores context entirely. A language model has learned something about
/// sequences only once its validation loss is below this.   ids: (N), each in 0..<V.
public func unigramEntropy(_ ids: [Int], vocabularySize V: Int) -> Double {
    var counts = [Int](repeating: 0, count: V)
    for id in ids { counts[id] += 1 }
    let total = Double(ids.count)
    return counts.reduce(0.0) { sum, count in
        count == 0 ? sum : sum - Double(count) / total * log(Double(count) / total)
    }
}

/// The corpus of weeks 5-6, split 90/10 into training and validation ids (nanoGPT's split).
public struct CharacterData {
    public let corpus: TextCorpus
    public let train: [Int]
    public let validation: [Int]
    /// −Σ p ln p of the training characters: the loss of a model that ignores context.
    public let unigramEntropy: Double
    /// "embedded Shakespeare", or the --corpus path.
    public let name: String
    public var vocabulary: CharVocabulary { corpus.vocabulary }

    /// Loads `path` (a --corpus file) or the embedded Shakespeare. Also checks `prompt` (the
    /// text samples will continue), so a character the corpus lacks fails before training.
    public static func load(corpus path: String?, prompt: String) throws -> CharacterData {
        let corpus = try path.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
        let (train, validation) = corpus.split(trainFraction: 0.9)
        do { _ = try corpus.vocabulary.encode(prompt) } catch let error as WorkbookError {
            throw WorkbookError("--prompt: \(error.message)")
        }
        return CharacterData(corpus: corpus, train: train, validation: validation,
                             unigramEntropy: Shared.unigramEntropy(train, vocabularySize: corpus.vocabulary.size),
                             name: path ?? "embedded Shakespeare")
    }

    /// One line describing the data.
    public var description: String {
        "data: \(name), \(corpus.ids.count) characters, vocabulary \(vocabulary.size); train \(train.count), "
            + "validation \(validation.count); unigram entropy \(formatFixed(unigramEntropy, digits: 3)) nats/char "
            + "(uniform would be ln \(vocabulary.size) = \(formatFixed(log(Double(vocabulary.size)), digits: 3)))"
    }
}
