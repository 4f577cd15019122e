// Training the GPT (weeks 8-10): nanoGPT's loop. AdamW over the parameter arena (weight decay on
// the matrices only: arena[0 ..< matrixCount]), linear warm-up then cosine decay of the learning
// rate, clipping by global gradient norm, nanoGPT's loss estimate on random batches of both
// splits, safetensors checkpoints that resume bit for bit, and sampling.
// Reference: nanoGPT train.py; Loshchilov & Hutter, https://arxiv.org/abs/1711.05101.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every knob of the training loop. Defaults: nanoGPT's shakespeare_char CPU run.
public struct GPTTrainingConfig: Equatable {
    public var steps = 2000
    /// B, sequences per step.
    public var batchSize = 12
    public var learningRate: Float = 1e-3
    public var minLearningRate: Float = 1e-4
    public var warmupSteps = 100
    /// The cosine reaches minLearningRate at this step (nanoGPT's lr_decay_iters); nil: `steps`.
    public var decaySteps: Int? = nil
    public var beta1: Float = 0.9
    public var beta2: Float = 0.99
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0.1
    /// Global-norm clipping threshold; 0 turns clipping off.
    public var clip: Float = 1
    /// Estimate the train and validation loss every this many steps (and at 0 and the end).
    public var evalEvery = 250
    /// Random batches per split in each estimate (nanoGPT's eval_iters).
    public var evalBatches = 20

    public init() {}

    /// nanoGPT's get_lr: lr·(s + 1)/(warmup + 1) while s < warmup, then a cosine from lr down
    /// to minLearningRate at decaySteps, minLearningRate after. s counts from 0.
    public func learningRate(at step: Int) -> Float {
        let decay = decaySteps ?? steps
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps + 1) }
        if step > decay || decay <= warmupSteps { return minLearningRate }
        let ratio = Double(step - warmupSteps) / Double(decay - warmupSteps)
        let coefficient = 0.5 * (1 + cos(Double.pi * ratio))
        return minLearningRate + Float(coefficient) * (learningRate - minLearningRate)
    }

    public var json: JSONValue {
        ["steps": JSONValue(steps), "batch": JSONValue(batchSize), "lr": JSONValue(learningRate),
         "min_lr": JSONValue(minLearningRate), "warmup": JSONValue(warmupSteps),
         "decay_steps": JSONValue(decaySteps ?? steps), "beta1": JSONValue(beta1), "beta2": JSONValue(beta2),
         "eps": JSONValue(eps), "weight_decay": JSONValue(weightDecay), "clip": JSONValue(clip),
         "eval_every": JSONValue(evalEvery), "eval_batches": JSONValue(evalBatches)]
    }
}

// MARK: - The trainer

/// One evaluation: the step, the loss estimates, the learning rate, the time.
public struct GPTEvaluation: Equatable {
    public var step: Int
    public var trainLoss: Double
    public var validationLoss: Double
    public var learningRate: Double
    public var seconds: Double

    public var row: [String: Double] {
        ["step": Double(step), "train_loss": trainLoss, "val_loss": validationLoss, "lr": learningRate,
         "seconds": seconds]
    }
}

/// A GPT, its AdamW state and the random stream of its run: everything a checkpoint holds.
public final class GPTTrainer {
    public let model: GPT
    public let training: GPTTrainingConfig
    public let train: TextChunks
    public let validation: TextChunks
    /// AdamW's moments, (parameterCount) each, in the arena's layout.
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    /// Optimizer steps done so far.
    public private(set) var step = 0
    /// The one generator of the run: batches, evaluation batches, dropout (as nanoGPT's).
    public var rng: SplitMix64
    /// Loss of every training step, and the evaluations so far.
    public private(set) var stepLosses: [Double] = []
    public private(set) var evaluations: [GPTEvaluation] = []
    /// Wall time of every step (batch, forward, backward, clip, AdamW), seconds.
    public private(set) var stepSeconds: [Double] = []
    /// Seconds of training before this process (a resumed run's earlier part).
    public private(set) var earlierSeconds = 0.0

    public init(model: GPT, training: GPTTrainingConfig, train: [Int], validation: [Int], seed: UInt64) throws {
        guard training.batchSize <= model.maxBatch else {
            throw WorkbookError("batch \(training.batchSize) is larger than the model's maxBatch \(model.maxBatch)")
        }
        self.model = model
        self.training = training
        self.train = try TextChunks(ids: train, blockSize: model.config.context)
        self.validation = try TextChunks(ids: validation, blockSize: model.config.context)
        firstMoment = [Float](repeating: 0, count: model.parameterCount)
        secondMoment = [Float](repeating: 0, count: model.parameterCount)
        rng = SplitMix64(seed: seed)
    }

    /// One optimizer step on a fresh random batch; returns its loss and gradient norm.
    @discardableResult
    public func trainStep() -> (loss: Double, gradientNorm: Double) {
        let start = monotonicSeconds()
        let batch = train.randomBatch(batchSize: training.batchSize, rng: &rng)
        return trainStep(on: batch, start: start)
    }

    /// One optimizer step on `batch`: zero the gradients, forward, backward, clip, AdamW at
    /// the scheduled learning rate. Returns the batch's loss (before the update) and the
    /// gradient norm (before clipping).
    @discardableResult
    public func trainStep(on batch: TextBatch, start: Double = monotonicSeconds()) -> (loss: Double, gradientNorm: Double) {
        model.zeroGradients()
        let loss = model.forward(inputs: batch.inputs, targets: batch.targets, batch: batch.batchSize,
                                 length: batch.blockSize, training: true, rng: &rng) ?? .nan
        model.backward()
        let norm = sumOfSquares(model.gradients, count: model.parameterCount).squareRoot()
        if training.clip > 0 {
            // PyTorch's clip_grad_norm_: g ← g · clip/(norm + 1e-6) when the norm is above clip
            let factor = clipScale(norm: norm, maxNorm: training.clip)
            if factor < 1 { scaleBuffer(model.gradients, count: model.parameterCount, by: factor) }
        }
        let lr = training.learningRate(at: step)
        step += 1
        let P = model.parameterCount, M = model.matrixCount
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                let m = m.baseAddress!, v = v.baseAddress!
                // matrices with weight decay, then gains and biases without
                adamWUpdate(model.parameters, firstMoment: m, secondMoment: v, gradients: model.gradients, count: M,
                            step: step, learningRate: lr, beta1: training.beta1, beta2: training.beta2,
                            eps: training.eps, weightDecay: training.weightDecay)
                adamWUpdate(model.parameters + M, firstMoment: m + M, secondMoment: v + M,
                            gradients: model.gradients + M, count: P - M, step: step, learningRate: lr,
                            beta1: training.beta1, beta2: training.beta2, eps: training.eps, weightDecay: 0)
            }
        }
        stepLosses.append(loss)
        stepSeconds.append(monotonicSeconds() - start)
        return (loss, norm)
    }

    /// nanoGPT's estimate_loss: the mean loss of `batches` random batches of `split` (no dropout).
    public func estimateLoss(_ split: TextChunks, batches: Int) -> Double {
        var total = 0.0
        for _ in 0..<batches {
            let batch = split.randomBatch(batchSize: training.batchSize, rng: &rng)
            total += model.forward(inputs: batch.inputs, targets: batch.targets, batch: batch.batchSize,
                                   length: batch.blockSize, rng: &rng) ?? .nan
        }
        return total / Double(max(1, batches))
    }

    /// Estimates both losses now and records them.
    @discardableResult
    public func evaluate(elapsed: Double) -> GPTEvaluation {
        let trainLoss = estimateLoss(train, batches: training.evalBatches)
        let validationLoss = estimateLoss(validation, batches: training.evalBatches)
        let evaluation = GPTEvaluation(step: step, trainLoss: trainLoss, validationLoss: validationLoss,
                                       learningRate: Double(training.learningRate(at: step)),
                                       seconds: earlierSeconds + elapsed)
        evaluations.append(evaluation)
        return evaluation
    }

    /// Median step time so far, in milliseconds (the first 10 steps left out when there are
    /// more than 20, as the PyTorch anchor does).
    public var medianStepMilliseconds: Double {
        let times = (stepSeconds.count > 20 ? Array(stepSeconds.dropFirst(10)) : stepSeconds).sorted()
        return times.isEmpty ? 0 : times[times.count / 2] * 1000
    }

    // MARK: Checkpoints

    /// Saves the parameters (by name), AdamW's moments, the step, the generator and the history
    /// as safetensors (atomically: written beside, then renamed).
    public func save(to path: String, elapsed: Double) throws {
        var tensors = model.views.map { view in
            NamedTensor(name: view.name, shape: view.shape,
                        data: Array(UnsafeBufferPointer(start: model.parameters + view.offset, count: view.count)))
        }
        tensors.append(NamedTensor(name: "optimizer.first_moment", shape: [model.parameterCount], data: firstMoment))
        tensors.append(NamedTensor(name: "optimizer.second_moment", shape: [model.parameterCount], data: secondMoment))
        let history = JSONValue.array(evaluations.map { e in .object(e.row.mapValues { .number($0) }) })
        let losses = JSONValue.array(stepLosses.map { .number($0) })
        try Checkpoint.save(tensors, kind: "gpt", config: model.config.json.serialized(), step: step,
                            rngState: rng.state,
                            extraMetadata: ["training": training.json.serialized(), "history": history.serialized(),
                                            "step_losses": losses.serialized(),
                                            "seconds": String(earlierSeconds + elapsed)],
                            to: path)
    }

    /// Restores a checkpoint written by `save` for the same model configuration: afterwards the
    /// run continues exactly as the saved one would have (same batches, same losses).
    public func resume(from path: String) throws {
        let contents = try Checkpoint.load(from: path, expectingKind: "gpt")
        let saved = try GPTConfig(json: try JSONValue.parse(contents.config))
        guard saved == model.config else {
            throw WorkbookError("checkpoint \(path) holds a GPT with config \(contents.config), "
                                + "this run builds \(model.config.json.serialized()): use the same model flags")
        }
        for view in model.views {
            try model.setTensor(view.name, try contents.tensor(view.name, shape: view.shape))
        }
        firstMoment = try contents.tensor("optimizer.first_moment", shape: [model.parameterCount])
        secondMoment = try contents.tensor("optimizer.second_moment", shape: [model.parameterCount])
        step = contents.step
        rng = SplitMix64(seed: 0)
        rng.state = contents.rngState
        evaluations = []
        if let text = contents.metadata["history"], case .array(let rows)? = try? JSONValue.parse(text) {
            for row in rows {
                guard let s = row["step"]?.doubleValue, let t = row["train_loss"]?.doubleValue,
                      let v = row["val_loss"]?.doubleValue, let lr = row["lr"]?.doubleValue,
                      let seconds = row["seconds"]?.doubleValue else { continue }
                evaluations.append(GPTEvaluation(step: Int(s), trainLoss: t, validationLoss: v, learningRate: lr,
                                                 seconds: seconds))
            }
        }
        if let text = contents.metadata["step_losses"], case .array(let values)? = try? JSONValue.parse(text) {
            stepLosses = values.map { $0.doubleValue ?? .nan }
        }
        earlierSeconds = contents.metadata["seconds"].flatMap(Double.init) ?? 0
    }
}

// MARK: - Attention maps

extension GPT {
    /// The attention weights of block `layer`, head `head` from the last forward with batch
    /// row 0: (T, T), row t = query position, column s = key position (0 for s > t).
    public func attentionMap(layer: Int, head: Int) -> [Float] {
        let T = lastLength
        let probs = blockActivations[layer].probs + head * T * T
        return Array(UnsafeBufferPointer(start: probs, count: T * T))
    }
}

// MARK: - The machine's peak, for MFU

/// Measures this machine's peak float throughput (FLOP/s) on `threads` threads: each runs 16
/// independent chains of 16-wide fused multiply-adds (enough in flight to cover the FMA
/// latency), for about `seconds`. MFU = a model's achieved FLOP/s divided by this.
public func measuredPeakFLOPS(threads: Int = Threads.count, seconds: Double = 0.05) -> Double {
    let repetitions = 20_000
    func chains() -> Float {
        var a = (SIMD16<Float>(repeating: 1), SIMD16<Float>(repeating: 1.1), SIMD16<Float>(repeating: 1.2),
                 SIMD16<Float>(repeating: 1.3), SIMD16<Float>(repeating: 1.4), SIMD16<Float>(repeating: 1.5),
                 SIMD16<Float>(repeating: 1.6), SIMD16<Float>(repeating: 1.7))
        var b = a
        let x = SIMD16<Float>(repeating: 0.999_999), y = SIMD16<Float>(repeating: 1e-7)
        for _ in 0..<repetitions {
            a.0 = a.0 * x + y; a.1 = a.1 * x + y; a.2 = a.2 * x + y; a.3 = a.3 * x + y
            a.4 = a.4 * x + y; a.5 = a.5 * x + y; a.6 = a.6 * x + y; a.7 = a.7 * x + y
            b.0 = b.0 * x + y; b.1 = b.1 * x + y; b.2 = b.2 * x + y; b.3 = b.3 * x + y
            b.4 = b.4 * x + y; b.5 = b.5 * x + y; b.6 = b.6 * x + y; b.7 = b.7 * x + y
        }
        let total = a.0 + a.1 + a.2 + a.3 + a.4 + a.5 + a.6 + a.7 + b.0 + b.1 + b.2 + b.3 + b.4 + b.5 + b.6 + b.7
        return total.sum()
    }
    let flopsPerCall = Double(repetitions) * 16 * 16 * 2
    var best = 0.0
    let deadline = monotonicSeconds() + seconds
    var sink: Float = 0
    repeat {
        let start = monotonicSeconds()
        var results = [Float](repeating: 0, count: threads)
        results.withUnsafeMutableBufferPointer { r in
            let r = r.baseAddress!
            parallelFor(threads, threads: threads) { worker in r[worker] = chains() }
        }
        sink += results.reduce(0, +)
        best = max(best, Double(threads) * flopsPerCall / (monotonicSeconds() - start))
    } while monotonicSeconds() < deadline
    return sink.isNaN ? best * 0.999 : best
}

// MARK: - Gradient check of the whole model

extension GPT {
    /// Checks backward against centred finite differences of the mean loss on one batch
    /// (B·T = inputs.count, T = length), on `perTensor` sampled entries of every parameter
    /// tensor. training: dropout on, with the same masks at every evaluation (seeded afresh).
    /// The step is 1e-2 by default: the loss is a Float32 sum, and a smaller step drowns the
    /// difference in rounding (1e-3 where a ReLU's kink is near).
    public func gradientCheck(inputs: [Int], targets: [Int], length T: Int, training: Bool = false,
                              step h: Float = 1e-2, perTensor: Int = 6, seed: UInt64 = 5) -> GradientCheckResult {
        let B = inputs.count / T
        func loss() -> Double {
            var rng = SplitMix64(seed: seed &+ 1)
            return forward(inputs: inputs, targets: targets, batch: B, length: T, training: training, rng: &rng) ?? .nan
        }
        zeroGradients()
        _ = loss()
        backward()
        let analytic = Array(UnsafeBufferPointer(start: gradients, count: parameterCount))
        var rng = SplitMix64(seed: seed)
        var indices: [Int] = []
        for view in views { indices += sampledIndices(perTensor, of: view.count, rng: &rng).map { $0 + view.offset } }
        let numeric = numericGradient(count: parameterCount, get: { self.parameters[$0] },
                                      set: { self.parameters[$0] = $1 }, loss: loss, step: h, indices: indices)
        return checkGradient("GPT (\(indices.count) sampled parameters)", analytic: analytic, numeric: numeric,
                             indices: indices)
    }
}
