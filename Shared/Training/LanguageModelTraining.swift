// One training loop for every language model (weeks 5-10): batches of T tokens (random
// chunks, or consecutive lanes carrying a recurrent state), forward, cross-entropy, backward
// (over micro-batches when the batch is accumulated), clipping by global norm, Adam or AdamW
// with decay on matrices only, a learning-rate schedule; train and validation loss every N
// steps, progress with tokens/s, samples along the way, checkpoints every N steps and at the
// end, and a --resume that continues bit for bit; optionally (week 9) early stopping with
// patience that keeps and restores the best validation weights, and a last evaluation over the
// whole validation split. Week 5 introduces it with the RNN, week 6
// runs the LSTM and the RNN through it, the GPT weeks train with it.
// Reference: nanoGPT's train.py (https://github.com/karpathy/nanoGPT/blob/master/train.py).
import SharedKernels
import SharedTools
import SharedData
import SharedNN

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every knob of one training run.
public struct LanguageModelTrainingConfig {
    public var steps: Int
    /// B, sequences per optimizer step.
    public var batchSize: Int
    /// T, tokens per sequence (how far BPTT reaches back; the GPT's context).
    public var context: Int
    /// Gradient accumulation: the batch of B goes through forward and backward in this many
    /// micro-batches of B/microBatches rows (B must divide), the gradients adding up to the
    /// gradient of the whole batch's mean loss. Same step, less activation memory.
    public var microBatches: Int
    public var optimizer: AdamVariant
    /// The learning rate at each step (constant, warm-up + cosine to a floor, ...).
    public var schedule: LearningRateSchedule
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    /// λ, on matrices only (the model's layout says which tensors decay).
    public var weightDecay: Float
    /// Global-norm clipping threshold; nil turns clipping off.
    public var clip: Float?
    /// Carry a recurrent state from one batch to the next (truncated BPTT over consecutive
    /// lanes of the text) instead of starting every chunk from zero. One micro-batch only.
    public var carryState: Bool
    /// Evaluate every this many steps (and after the last).
    public var evalEvery: Int
    /// Validation windows of T tokens per evaluation (nil: the whole validation split).
    public var evalWindows: Int?
    /// Windows per forward pass during evaluation.
    public var evalBatch: Int
    /// Also evaluate this many windows of the training split at each evaluation (its loss in
    /// "train_eval_loss"; 0: skip). "train_loss" is always the mean of the steps' own losses.
    public var trainEvalWindows: Int
    /// Print a sample every this many steps (0: never), of `sampleLength` tokens started from
    /// `sampleStartToken`, drawn with `sampling` from the training RNG.
    public var sampleEvery: Int
    public var sampleLength: Int
    public var sampling: SamplingSettings
    public var sampleStartToken: Int
    /// Save a checkpoint every this many steps (0: never); also after the last step whenever
    /// `checkpointPath` is set.
    public var checkpointEvery: Int
    public var checkpointPath: String?
    /// The run's configuration as JSON, stored in checkpoints.
    public var configJSON: String
    /// Characters per token on the validation text, for bits per character (1 for characters).
    public var charactersPerToken: Double
    /// Early stopping: stop once this many evaluations in a row have not improved on the best
    /// validation loss so far (nil: never stop early). Implies `keepBest`.
    public var earlyStoppingPatience: Int?
    /// Keep the weights of the best validation loss (in memory, and in `bestCheckpointPath` when
    /// set) and put them back into the model when training ends.
    public var keepBest: Bool
    /// Where the best-validation checkpoint is saved each time the validation loss improves
    /// (a full training checkpoint of that step: loadable for inference, resumable).
    public var bestCheckpointPath: String?
    /// After training (and after restoring the best weights), evaluate the whole validation
    /// split, every window of T tokens once, into `run.fullValidationLoss`.
    public var evaluateWholeValidationAtEnd: Bool

    public init(steps: Int, batchSize: Int, context: Int, learningRate: Float, clip: Float?,
                microBatches: Int = 1, optimizer: AdamVariant = .adam, schedule: LearningRateSchedule? = nil,
                beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0,
                carryState: Bool = false, evalEvery: Int, evalWindows: Int? = nil, evalBatch: Int = 64,
                trainEvalWindows: Int = 0, sampleEvery: Int = 0, sampleLength: Int = 200,
                sampling: SamplingSettings = SamplingSettings(temperature: 0.8), sampleStartToken: Int = 0,
                checkpointEvery: Int = 0, checkpointPath: String? = nil, configJSON: String = "{}",
                charactersPerToken: Double = 1, earlyStoppingPatience: Int? = nil, keepBest: Bool = false,
                bestCheckpointPath: String? = nil, evaluateWholeValidationAtEnd: Bool = false) {
        self.steps = steps
        self.batchSize = batchSize
        self.context = context
        self.microBatches = microBatches
        self.optimizer = optimizer
        self.schedule = schedule ?? .constant(lr: learningRate)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.clip = clip
        self.carryState = carryState
        self.evalEvery = evalEvery
        self.evalWindows = evalWindows
        self.evalBatch = evalBatch
        self.trainEvalWindows = trainEvalWindows
        self.sampleEvery = sampleEvery
        self.sampleLength = sampleLength
        self.sampling = sampling
        self.sampleStartToken = sampleStartToken
        self.checkpointEvery = checkpointEvery
        self.checkpointPath = checkpointPath
        self.configJSON = configJSON
        self.charactersPerToken = charactersPerToken
        self.earlyStoppingPatience = earlyStoppingPatience
        self.keepBest = keepBest || earlyStoppingPatience != nil || bestCheckpointPath != nil
        self.bestCheckpointPath = bestCheckpointPath
        self.evaluateWholeValidationAtEnd = evaluateWholeValidationAtEnd
    }

    /// The first thing wrong with the settings, as one line (nil when they are fine).
    func problem() -> String? {
        if let patience = earlyStoppingPatience, patience < 1 { return "the early-stopping patience must be at least 1 evaluation, got \(patience)" }
        if steps < 1 { return "steps must be at least 1, got \(steps)" }
        if batchSize < 1 || context < 1 { return "batch \(batchSize) and block \(context) must be positive" }
        if microBatches < 1 || batchSize % microBatches != 0 {
            return "the batch (\(batchSize)) must split into \(microBatches) equal micro-batches"
        }
        if carryState && microBatches > 1 { return "carrying the state across batches works with one micro-batch per step" }
        if evalEvery < 1 { return "evaluate-every must be at least 1, got \(evalEvery)" }
        if let clip, !(clip > 0) { return "the clipping norm must be positive, got \(clip)" }
        if !(weightDecay >= 0) { return "weight decay must be ≥ 0, got \(weightDecay)" }
        if checkpointEvery < 0 { return "checkpoint-every must be ≥ 0, got \(checkpointEvery)" }
        return nil
    }

    /// The settings a resumed run must share with the run that saved the checkpoint for the
    /// continuation to be exact (steps, schedule, evaluation and sampling may change).
    var resumeSignature: String {
        "batch \(batchSize), block \(context), micro-batches \(microBatches), \(optimizer.rawValue) betas \(beta1)/\(beta2) "
            + "eps \(eps), weight decay \(weightDecay), clip \(clip.map { "\($0)" } ?? "off"), carry \(carryState)"
    }
}

/// What a run produced: per-step traces, per-evaluation history, samples, timings.
public struct LanguageModelTrainingRun {
    /// Training loss of every step (nats/token), (steps).
    public var stepLosses: [Double] = []
    /// Global gradient norm of every step, before clipping, (steps).
    public var gradientNorms: [Double] = []
    /// One row per evaluation: step, train_loss (mean since the last evaluation), val_loss,
    /// val_bits_per_char, grad_norm (mean), lr, seconds (since the start), and train_eval_loss
    /// when the training split is evaluated too.
    public var history: [[String: Double]] = []
    /// (step, text) of every sample printed along the way.
    public var samples: [(step: Int, text: String)] = []
    /// The last validation loss (nats/token).
    public var finalValidationLoss = Double.nan
    /// One line saying where and how the run diverged; nil when it did not.
    public var divergence: String?
    /// Median wall time of one training step (batch + forward + backward + clip + update), ms.
    public var medianStepMilliseconds = 0.0
    /// Wall time of this invocation (a resumed run counts from the resume).
    public var seconds = 0.0
    /// Checkpoint files written.
    public var checkpoints: [String] = []
    public var stepsDone: Int { stepLosses.count }
    /// With `keepBest`: the lowest validation loss seen and the step it was seen at (0: none yet).
    public var bestValidationLoss = Double.infinity
    public var bestStep = 0
    /// Evaluations since the best one (early stopping stops when it reaches the patience).
    public var evaluationsSinceBest = 0
    /// One line saying that and why training stopped early; nil when it ran its steps.
    public var earlyStop: String?
    /// The step whose weights the model holds after training: `bestStep` when the best weights
    /// were restored, else the last step.
    public var restoredStep: Int?
    /// With `evaluateWholeValidationAtEnd`: the mean loss over the whole validation split (nats
    /// per token) and how many tokens it scored (every non-overlapping window of T).
    public var fullValidationLoss: Double?
    public var fullValidationTokens = 0
}

/// Trains one `LanguageModel`. Make it, optionally `resume(from:)` a checkpoint, then `train`.
public final class LanguageModelTrainer {
    public let model: any LanguageModel
    public let config: LanguageModelTrainingConfig
    /// The training RNG: batches and samples draw from it (saved in checkpoints).
    public var rng: SplitMix64
    public let optimizer: ParameterVectorAdam
    public private(set) var run = LanguageModelTrainingRun()
    /// Optimizer steps done so far (also after a resume).
    public var step: Int { optimizer.stepCount }

    private var chunks: ChunkSchedule
    /// The validation ids every evaluation reads (the split, or its first `evalWindows` windows).
    public let validationIDs: [Int]
    private let trainEvalIDs: [Int]?
    /// Step losses and norms since the last evaluation (their means go into the history).
    private var sinceEval = (loss: 0.0, norm: 0.0, count: 0)
    /// The full validation split (the last evaluation reads all of it).
    private let wholeValidationIDs: [Int]
    /// The weights of the best validation loss so far (with `keepBest`), in layout order.
    private var bestParameters: [NamedTensor]?

    /// train, validation: token ids (N). Throws one clear line for settings or texts that do
    /// not fit (a text shorter than a block, a batch that does not split, ...).
    public init(model: any LanguageModel, train: [Int], validation: [Int],
                config: LanguageModelTrainingConfig, rng: SplitMix64) throws {
        if let problem = config.problem() { throw WorkbookError(problem) }
        if let context = model.contextLength, config.context > context {
            throw WorkbookError("context \(config.context) is longer than the model's context of \(context) tokens")
        }
        self.model = model
        self.config = config
        self.rng = rng
        chunks = try ChunkSchedule(chunks: TextChunks(ids: train, context: config.context),
                                   batchSize: config.batchSize, consecutive: config.carryState)
        validationIDs = try validationSlice(validation, context: config.context, windows: config.evalWindows)
        wholeValidationIDs = validation
        trainEvalIDs = config.trainEvalWindows > 0
            ? try validationSlice(train, context: config.context, windows: config.trainEvalWindows) : nil
        optimizer = ParameterVectorAdam(layout: model.parameterLayout, variant: config.optimizer,
                                        learningRate: config.schedule.learningRate(step: 0), beta1: config.beta1,
                                        beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay)
    }

    // MARK: One step

    /// One optimizer step: the learning rate of this step, a batch, zeroed gradients, forward
    /// and backward of each micro-batch (lossScale 1/k each), the global norm, and, unless the
    /// loss or the norm is no longer finite (then the weights are left alone and nil is
    /// returned), clipping and the update. Returns the batch's mean loss and the norm before clipping.
    public func trainStep() throws -> (loss: Double, gradientNorm: Double)? {
        let (batch, reset) = chunks.next(rng: &rng)
        return try trainStep(on: batch, continuesState: !reset)
    }

    /// The same step on a batch the caller chose (a test replaying PyTorch's batches, say).
    /// continuesState: the batch continues the lanes of the previous one (with `carryState`).
    public func trainStep(on batch: TextBatch, continuesState: Bool = false) throws -> (loss: Double, gradientNorm: Double)? {
        let reset = !continuesState
        optimizer.learningRate = config.schedule.learningRate(step: optimizer.stepCount)
        model.zeroGradients()
        let k = config.microBatches
        var loss: Double
        if k == 1 {
            loss = try model.loss(batch, training: true, carryState: config.carryState && !reset)
            model.backward(lossScale: 1)
        } else {
            let rows = batch.batchSize / k
            loss = 0
            for i in 0..<k {
                let micro = batch.rows((i * rows)..<((i + 1) * rows))
                loss += try model.loss(micro, training: true, carryState: false)
                model.backward(lossScale: 1 / Float(k))
            }
            loss /= Double(k)
        }
        let norm = model.gradientNorm()
        guard loss.isFinite, norm.isFinite else {
            run.divergence = "diverged at step \(optimizer.stepCount + 1): the " + (loss.isFinite ? "gradient norm" : "loss")
                + " is no longer finite (try a lower --lr, or clipping); the weights are those of the step before"
            return nil
        }
        // clipping by global norm, with the norm already measured (clipGradients' rule)
        if let clip = config.clip {
            let factor = clipScale(norm: norm, maxNorm: clip)
            if factor < 1 { model.scaleGradients(by: factor) }
        }
        optimizer.step(model)
        return (loss, norm)
    }

    // MARK: The loop

    /// Trains until `config.steps` (or until `stopAfter` steps in all, or divergence), evaluating
    /// every `evalEvery` steps, sampling every `sampleEvery`, checkpointing every
    /// `checkpointEvery` and at the end. `tokenizer` decodes the samples; `log` gets samples and
    /// messages; `label` starts each progress line; `progressNote` adds text to it from the
    /// tokens per second so far (a GPT's model FLOPs utilisation, say).
    /// `onEvaluation` sees each new history row as soon as it is recorded.
    @discardableResult
    public func train(label: String, tokenizer: (any Tokenizer)? = nil, stopAfter: Int? = nil,
                      progressNote: ((_ tokensPerSecond: Double) -> String)? = nil,
                      onEvaluation: ((_ row: [String: Double]) -> Void)? = nil,
                      log: (String) -> Void = { _ in }) throws -> LanguageModelTrainingRun {
        let start = monotonicSeconds()
        let T = config.context, B = config.batchSize
        let last = min(config.steps, stopAfter ?? config.steps)
        var stepTimes: [Double] = []
        let progress = Progress(total: config.steps, label: label)
        var tokens = 0
        let constantRate: Bool
        if case .constant = config.schedule { constantRate = true } else { constantRate = false }

        while optimizer.stepCount < last && run.divergence == nil {
            let stepStart = monotonicSeconds()
            guard let (loss, norm) = try trainStep() else { break }
            stepTimes.append(monotonicSeconds() - stepStart)
            let step = optimizer.stepCount
            run.stepLosses.append(loss)
            run.gradientNorms.append(norm)
            sinceEval = (sinceEval.loss + loss, sinceEval.norm + norm, sinceEval.count + 1)
            tokens += B * T
            let elapsed = monotonicSeconds() - start
            let tokensPerSecond = Double(tokens) / max(elapsed, 1e-9)
            var extra = formatCount(tokensPerSecond) + " tokens/s"
            if !constantRate { extra += " | lr " + formatScientific(Double(optimizer.learningRate)) }
            if let note = progressNote?(tokensPerSecond), !note.isEmpty { extra += " | " + note }
            progress.update(step: step, loss: loss, extra: extra)

            if step % config.evalEvery == 0 || step == config.steps {
                let validationLoss = try model.evaluate(ids: validationIDs, context: T, batch: config.evalBatch)
                var row: [String: Double] = [
                    "step": Double(step), "train_loss": sinceEval.loss / Double(sinceEval.count),
                    "val_loss": validationLoss,
                    "val_bits_per_char": bitsPerCharacter(natsPerToken: validationLoss, charactersPerToken: config.charactersPerToken),
                    "val_perplexity": exp(validationLoss),
                    "grad_norm": sinceEval.norm / Double(sinceEval.count), "lr": Double(optimizer.learningRate),
                    "seconds": monotonicSeconds() - start,
                ]
                if let trainEvalIDs {
                    row["train_eval_loss"] = try model.evaluate(ids: trainEvalIDs, context: T, batch: config.evalBatch)
                }
                run.history.append(row)
                onEvaluation?(row)
                sinceEval = (0, 0, 0)
                run.finalValidationLoss = validationLoss
                if !validationLoss.isFinite {
                    run.divergence = "diverged at step \(step): the validation loss is no longer finite (try a lower --lr, or clipping)"
                    break
                }
                if config.keepBest, try noteValidationLoss(validationLoss, step: step, log: log) { break }
            }
            if config.sampleEvery > 0 && step % config.sampleEvery == 0 && step < config.steps {
                let ids = try generate(model, prompt: [config.sampleStartToken], maxTokens: config.sampleLength,
                                       sampling: config.sampling, rng: &rng)
                let text = tokenizer?.decode(ids) ?? ids.map(String.init).joined(separator: " ")
                run.samples.append((step, text))
                log("--- sample at step \(step) (temperature \(config.sampling.temperature)) ---\n\(text)\n---")
            }
            if let path = config.checkpointPath, config.checkpointEvery > 0, step % config.checkpointEvery == 0, step < last {
                try saveCheckpoint(to: path)
            }
        }
        progress.finish(run.divergence ?? run.earlyStop ?? "")
        if let path = config.checkpointPath, run.divergence == nil { try saveCheckpoint(to: path) }
        try finishWithBestWeights(log: log)
        run.seconds = monotonicSeconds() - start
        stepTimes.sort()
        run.medianStepMilliseconds = stepTimes.isEmpty ? 0 : stepTimes[stepTimes.count / 2] * 1000
        return run
    }

    // MARK: Early stopping and the last evaluation

    /// Records one evaluation for `keepBest`: a new best keeps a copy of the weights (and saves
    /// the best checkpoint); otherwise the count since the best goes up. Returns true when the
    /// patience has run out and training should stop.
    private func noteValidationLoss(_ loss: Double, step: Int, log: (String) -> Void) throws -> Bool {
        if loss < run.bestValidationLoss {
            run.bestValidationLoss = loss
            run.bestStep = step
            run.evaluationsSinceBest = 0
            bestParameters = model.parameterTensors()
            if let path = config.bestCheckpointPath { try saveCheckpoint(to: path) }
            return false
        }
        run.evaluationsSinceBest += 1
        guard let patience = config.earlyStoppingPatience, run.evaluationsSinceBest >= patience else { return false }
        run.earlyStop = "stopped early at step \(step): \(patience) evaluation\(patience == 1 ? "" : "s") without improving on "
            + "the best validation loss \(formatFixed(run.bestValidationLoss, digits: 4)) (step \(run.bestStep))"
        log(run.earlyStop!)
        return true
    }

    /// After the loop: with `keepBest`, put the best weights back (from memory, or from the best
    /// checkpoint after a resume); with `evaluateWholeValidationAtEnd`, evaluate the whole split.
    private func finishWithBestWeights(log: (String) -> Void) throws {
        run.restoredStep = optimizer.stepCount
        if config.keepBest && run.bestStep > 0 && run.bestStep != optimizer.stepCount {
            if bestParameters == nil, let path = config.bestCheckpointPath {
                bestParameters = try TrainingCheckpoint.load(from: path, expectingKind: model.kind).parameters
            }
            if let best = bestParameters {
                try model.loadParameters(Dictionary(uniqueKeysWithValues: best.map { ($0.name, $0) }))
                run.restoredStep = run.bestStep
                log("restored the weights of step \(run.bestStep) (best validation loss \(formatFixed(run.bestValidationLoss, digits: 4)))")
            }
        }
        if config.evaluateWholeValidationAtEnd && run.divergence == nil {
            let T = config.context
            let windows = try TextChunks(ids: wholeValidationIDs, context: T).sequentialStarts.count
            run.fullValidationLoss = try model.evaluate(ids: wholeValidationIDs, context: T, batch: config.evalBatch)
            run.fullValidationTokens = windows * T
        }
    }

    // MARK: Checkpoints

    /// Saves everything a resumed run needs (atomically, `TrainingCheckpoint`): the weights,
    /// Adam's m and v, the step, the RNG state, the history and the per-step traces, the
    /// position of consecutive lanes, the running means since the last evaluation, and the
    /// model's own resume state (a carried hidden state).
    public func saveCheckpoint(to path: String) throws {
        let extra = model.resumeState()
        func json(_ values: [Double]) -> String { JSONValue.array(values.map { .number($0) }).serialized(pretty: false) }
        var metadata: [String: String] = [
            "optimizer": optimizer.name,
            "trainer": config.resumeSignature,
            "step_losses": json(run.stepLosses),
            "gradient_norms": json(run.gradientNorms),
            "since_eval": json([sinceEval.loss, sinceEval.norm, Double(sinceEval.count)]),
            "chunk_position": String(chunks.position),
            "final_val_loss": "\(run.finalValidationLoss)",
        ]
        if config.keepBest {
            metadata["best_val_loss"] = "\(run.bestValidationLoss)"
            metadata["best_step"] = String(run.bestStep)
            metadata["evaluations_since_best"] = String(run.evaluationsSinceBest)
        }
        for (key, value) in extra.metadata { metadata["model." + key] = value }
        let checkpoint = TrainingCheckpoint(parameters: model.parameterTensors(), optimizerState: optimizer.stateTensors(),
                                            extraTensors: extra.tensors, step: optimizer.stepCount, rngState: rng.state,
                                            history: run.history, config: config.configJSON, metadata: metadata)
        try checkpoint.save(kind: model.kind, to: path)
        if !run.checkpoints.contains(path) { run.checkpoints.append(path) }
    }

    /// Continues the run saved in `path`: the model's weights, the optimizer state, the step,
    /// the RNG, the history and traces, all as they were, so the next steps are those the
    /// uninterrupted run would have taken, bit for bit. The file must come from the same model
    /// kind and layout and the same batch, block, optimizer and clipping (one clear line
    /// otherwise); the number of steps may differ.
    public func resume(from path: String) throws {
        let saved = try TrainingCheckpoint.load(from: path, expectingKind: model.kind)
        func problem(_ message: String) -> WorkbookError { WorkbookError("checkpoint \(path): \(message)") }
        guard saved.metadata["trainer"] == config.resumeSignature else {
            throw problem("was saved with \(saved.metadata["trainer"] ?? "other settings"); this run has \(config.resumeSignature)")
        }
        let tensors = saved.tensorsByName
        do {
            try model.loadParameters(tensors)
            try optimizer.loadState(tensors)
            var modelMetadata: [String: String] = [:]
            for (key, value) in saved.metadata where key.hasPrefix("model.") { modelMetadata[String(key.dropFirst(6))] = value }
            try model.restoreResumeState(tensors: tensors, metadata: modelMetadata)
        } catch let error as CheckpointMismatch {
            throw problem(error.detail)
        } catch let error as WorkbookError {
            throw problem(error.message)
        }
        func numbers(_ key: String) throws -> [Double] {
            guard let text = saved.metadata[key], let values = try? JSONValue.parse(text).arrayValue else {
                throw problem("no readable '\(key)'")
            }
            return try values.map { try $0.doubleValue ?? { throw problem("'\(key)' holds a non-number") }() }
        }
        let losses = try numbers("step_losses"), norms = try numbers("gradient_norms"), since = try numbers("since_eval")
        guard losses.count == saved.step, norms.count == saved.step, since.count == 3,
              let position = saved.metadata["chunk_position"].flatMap({ Int($0) }), position >= 0 else {
            throw problem("its traces do not match its step \(saved.step) (corrupted?)")
        }
        optimizer.stepCount = saved.step
        rng = SplitMix64(seed: saved.rngState)
        chunks.position = position
        run.stepLosses = losses
        run.gradientNorms = norms
        run.history = saved.history
        run.finalValidationLoss = saved.metadata["final_val_loss"].flatMap { Double($0) } ?? .nan
        sinceEval = (since[0], since[1], Int(since[2]))
        if config.keepBest {
            run.bestValidationLoss = saved.metadata["best_val_loss"].flatMap { Double($0) } ?? .infinity
            run.bestStep = saved.metadata["best_step"].flatMap { Int($0) } ?? 0
            run.evaluationsSinceBest = saved.metadata["evaluations_since_best"].flatMap { Int($0) } ?? 0
            // the best weights themselves come back from the best checkpoint when training ends
            if run.bestStep == saved.step { bestParameters = saved.parameters }
        }
    }
}

/// Trains `model` on `train`, evaluating on `validation`: a `LanguageModelTrainer` from `rng`
/// (which afterwards holds the trainer's final state, so the caller goes on drawing where
/// training stopped), resumed from `resume` when given.
public func trainLanguageModel(_ model: any LanguageModel, train: [Int], validation: [Int], tokenizer: any Tokenizer,
                               config: LanguageModelTrainingConfig, label: String, rng: inout SplitMix64,
                               resume: String? = nil, log: (String) -> Void) throws -> LanguageModelTrainingRun {
    let trainer = try LanguageModelTrainer(model: model, train: train, validation: validation, config: config, rng: rng)
    if let resume {
        try trainer.resume(from: resume)
        log("resumed from \(resume) at step \(trainer.step)")
    }
    let run = try trainer.train(label: label, tokenizer: tokenizer, log: log)
    rng = trainer.rng
    return run
}
