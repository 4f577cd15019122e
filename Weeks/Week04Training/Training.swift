// Week 04's training loop, the PyTorch way: a data loader, a module model, a loss, an
// optimizer and a learning-rate schedule; validation after every epoch for model selection
// and early stopping (with the best weights restored); checkpoints every epoch and at the
// best validation loss, from which `--resume` continues the run bit for bit.
import Shared

// MARK: - Data

struct Week04Data {
    var train: LabeledImages
    var validation: LabeledImages
    var test: LabeledImages
    /// One line saying where the data came from (and how to get MNIST when it was missing).
    var notes: [String]
}

/// MNIST / Fashion-MNIST from disk (or --download), else the embedded 8x8 digits (MNIST
/// missing -> one line, then digits; Fashion-MNIST missing is an error). The digits have no
/// official test set: a seeded 80/20 split makes one. Validation is a seeded fraction of the
/// TRAINING set: the test set is only touched once, at the very end.
func loadWeek04Data(_ config: Week04Config) throws -> Week04Data {
    var rng = SplitMix64(seed: config.seed ^ 0xDA7A)   // its own stream: the data split does not shift the init
    var notes: [String] = []
    var trainAndTest: (train: LabeledImages, test: LabeledImages)?
    if config.dataset == "mnist" || config.dataset == "fashion-mnist" {
        let which: MNISTDataset = config.dataset == "mnist" ? .mnist : .fashionMNIST
        do {
            trainAndTest = try MNIST.load(which, dataDir: config.dataDir, download: config.download)
        } catch {
            if which == .fashionMNIST || config.download || config.dataDir != nil { throw error }
            notes.append("MNIST not found: run with --download to fetch it (or put the IDX files in Datasets/mnist/); training on the embedded 8x8 digits instead.")
        }
    }
    if trainAndTest == nil {
        trainAndTest = try Digits.load().split(trainFraction: 0.8, rng: &rng)
    }
    let (fullTrain, test) = trainAndTest!
    let (train, validation) = fullTrain.trainValidationSplit(validationFraction: config.validationFraction, rng: &rng)
    if train.count == 0 { throw WorkbookError("no training images left after the validation split") }
    notes.append("data: \(train.name), \(train.count) train / \(validation.count) validation / \(test.count) test images of \(train.height)x\(train.width)")
    return Week04Data(train: train, validation: validation, test: test, notes: notes)
}

// MARK: - Optimizer and schedule from the config

/// The optimizer the config names, over `parameters`.
func makeOptimizer(_ config: Week04Config, parameters: [Parameter]) -> Optimizer {
    switch config.optimizer {
    case "sgd": return SGD(parameters, learningRate: config.lr, weightDecay: config.decay)
    case "momentum", "nesterov":
        return SGDMomentum(parameters, learningRate: config.lr, momentum: config.momentum,
                           nesterov: config.optimizer == "nesterov", weightDecay: config.decay)
    case "adam": return Adam(parameters, learningRate: config.lr, weightDecay: config.decay)
    default: return AdamW(parameters, learningRate: config.lr, weightDecay: config.decay)
    }
}

/// The learning-rate schedule over the whole run, in optimizer steps.
func makeSchedule(_ config: Week04Config, stepsPerEpoch: Int) -> LearningRateSchedule {
    let total = config.epochs * stepsPerEpoch, minLR = config.lr * config.minLRRatio
    switch config.schedule {
    case "constant": return .constant(lr: config.lr)
    case "step": return .stepDecay(lr: config.lr, every: config.decayEvery * stepsPerEpoch, factor: config.decayFactor)
    case "cosine": return .cosine(lr: config.lr, minLR: minLR, totalSteps: total)
    default:
        let warmup = Int((config.warmupEpochs * Double(stepsPerEpoch)).rounded())
        return .warmupCosine(lr: config.lr, minLR: minLR, warmupSteps: warmup, totalSteps: total)
    }
}

// MARK: - Evaluation

struct Evaluation {
    var loss: Double
    var accuracy: Double
    var predictions: [Int]   // (count)
}

/// Loss and accuracy of `model` on a whole image set, in evaluation mode (dropout off),
/// in chunks of `chunk` rows. Restores the model's previous mode.
func evaluate(_ model: Module, on images: LabeledImages, chunk: Int = 1000) -> Evaluation {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.isTraining = wasTraining }
    let loader = DataLoader(images, batchSize: chunk, shuffle: false)
    var unused = SplitMix64(seed: 0)   // no shuffling: the generator is not touched
    let criterion = CrossEntropyLoss()
    let classes = images.classNames.count
    var lossSum = 0.0, correct = 0
    var predictions: [Int] = []
    predictions.reserveCapacity(images.count)
    for batch in loader.epoch(rng: &unused) {
        let logits = model.forward(batch.inputs, rows: batch.rows)
        lossSum += criterion.forward(logits, targets: batch.labels, rows: batch.rows, classes: classes) * Double(batch.rows)
        for r in 0..<batch.rows {
            var best = 0
            for c in 1..<classes where logits[r * classes + c] > logits[r * classes + best] { best = c }
            predictions.append(best)
            if best == batch.labels[r] { correct += 1 }
        }
    }
    let count = Double(max(images.count, 1))
    return Evaluation(loss: lossSum / count, accuracy: Double(correct) / count, predictions: predictions)
}

// MARK: - One epoch

/// One row of the history (one per epoch).
struct EpochRecord: Equatable {
    var epoch: Int
    var learningRate: Double       // at the epoch's last step
    var trainLoss: Double          // mean over the epoch's batches (training mode, dropout on)
    var trainAccuracy: Double
    var valLoss: Double?           // nil when there is no validation set
    var valAccuracy: Double?
    var seconds: Double            // the training pass only (not validation)

    var metrics: [String: Double] {
        var row = ["epoch": Double(epoch), "lr": learningRate, "train_loss": trainLoss,
                   "train_accuracy": trainAccuracy, "seconds": seconds]
        if let valLoss { row["val_loss"] = valLoss }
        if let valAccuracy { row["val_accuracy"] = valAccuracy }
        return row
    }

    init(epoch: Int, learningRate: Double, trainLoss: Double, trainAccuracy: Double, valLoss: Double?,
         valAccuracy: Double?, seconds: Double) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.valLoss = valLoss
        self.valAccuracy = valAccuracy
        self.seconds = seconds
    }

    /// Reads a row written by `metrics` (checkpoints keep the history this way).
    init?(_ row: [String: Double]) {
        guard let epoch = row["epoch"], let lr = row["lr"], let loss = row["train_loss"],
              let accuracy = row["train_accuracy"], let seconds = row["seconds"] else { return nil }
        self.init(epoch: Int(epoch), learningRate: lr, trainLoss: loss, trainAccuracy: accuracy,
                  valLoss: row["val_loss"], valAccuracy: row["val_accuracy"], seconds: seconds)
    }

    /// The line a learner reads after every epoch.
    func line(of epochs: Int) -> String {
        var text = "epoch \(epoch)/\(epochs) | lr \(formatScientific(learningRate)) | train loss \(formatFixed(trainLoss, digits: 4)) acc \(formatPercent(trainAccuracy))"
        if let valLoss, let valAccuracy { text += " | val loss \(formatFixed(valLoss, digits: 4)) acc \(formatPercent(valAccuracy))" }
        return text + " | \(formatFixed(seconds, digits: 2)) s"
    }
}

/// Everything a training run holds, and what a checkpoint saves: model, optimizer, the
/// loader's generator, the dropout generators, the history and the early-stopping state.
final class Trainer {
    let config: Week04Config
    let model: Sequential
    let optimizer: Optimizer
    let schedule: LearningRateSchedule
    let loader: DataLoader
    let validation: LabeledImages
    let classes: Int
    let criterion = CrossEntropyLoss()
    /// Shuffles the batches; saved in checkpoints so a resumed run sees the same batches.
    var rng: SplitMix64
    var history: [EpochRecord] = []
    /// Every batch's loss, in order (the curves of the optimizer comparison).
    var batchLosses: [Double] = []
    // Early stopping: the best validation loss so far, its epoch and its weights.
    var bestValLoss = Double.infinity
    var bestEpoch = 0
    var bestWeights: [[Float]]? = nil
    var epochsWithoutImprovement = 0
    /// Set when the loss became inf/NaN: "the loss became NaN at step 1234".
    var divergence: String?

    var epochsDone: Int { history.count }

    /// A fresh run: the model is built from `config.seed` (same draws as week 3), the
    /// batches from their own stream.
    init(config: Week04Config, data: Week04Data) {
        var config = config
        config.dataset = data.train.name   // what actually ran (mnist may have fallen back to digits)
        self.config = config
        let sizes = [data.train.features] + config.hidden + [data.train.classNames.count]
        var initRNG = SplitMix64(seed: config.seed)
        model = makeMLP(sizes: sizes, activation: config.activation, dropout: config.dropout, rng: &initRNG,
                        dropoutSeed: config.seed ^ 0xD209)
        optimizer = makeOptimizer(config, parameters: model.parameters)
        loader = DataLoader(data.train, batchSize: config.batchSize, shuffle: true)
        schedule = makeSchedule(config, stepsPerEpoch: loader.batchCount)
        validation = data.validation
        classes = data.train.classNames.count
        rng = SplitMix64(seed: config.seed ^ 0xBA7C)
    }

    /// Trains one epoch and validates. Returns the new history row, or nil when the loss
    /// diverged (then `divergence` says where).
    @discardableResult
    func trainEpoch(progress: Progress? = nil) -> EpochRecord? {
        let stopwatch = Stopwatch()
        model.train()
        var lossSum = 0.0, correct = 0, seen = 0
        for batch in loader.epoch(rng: &rng) {
            optimizer.learningRate = schedule.learningRate(step: optimizer.stepCount)
            optimizer.zeroGrad()
            let logits = model.forward(batch.inputs, rows: batch.rows)
            let loss = criterion.forward(logits, targets: batch.labels, rows: batch.rows, classes: classes)
            guard loss.isFinite else {
                divergence = "the loss became \(loss.isNaN ? "NaN" : "infinite") at step \(optimizer.stepCount + 1) (epoch \(epochsDone + 1))"
                return nil
            }
            model.backward(criterion.backward(), needsInputGradient: false)
            optimizer.step()
            batchLosses.append(loss)
            lossSum += loss * Double(batch.rows)
            correct += criterion.correctCount()
            seen += batch.rows
            progress?.update(step: seen, loss: loss, items: batch.rows)
        }
        let seconds = stopwatch.seconds
        let validated = validation.count > 0 ? evaluate(model, on: validation) : nil
        let record = EpochRecord(epoch: epochsDone + 1, learningRate: Double(optimizer.learningRate),
                                 trainLoss: lossSum / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                 valLoss: validated?.loss, valAccuracy: validated?.accuracy, seconds: seconds)
        history.append(record)
        if let valLoss = validated?.loss {
            if valLoss < bestValLoss {
                bestValLoss = valLoss
                bestEpoch = record.epoch
                bestWeights = model.parameters.snapshot()
                epochsWithoutImprovement = 0
            } else {
                epochsWithoutImprovement += 1
            }
        }
        return record
    }

    /// Early stopping: `patience` epochs in a row without a better validation loss.
    var shouldStopEarly: Bool {
        config.patience > 0 && validation.count > 0 && epochsWithoutImprovement >= config.patience
    }

    /// Puts the best validation-loss weights back (what early stopping promises).
    func restoreBestWeights() {
        if let bestWeights { model.parameters.restore(bestWeights) }
    }

    // MARK: Checkpoints

    static let checkpointKind = "week04-mlp"

    /// Saves everything needed to continue: weights, optimizer state (moments or velocities
    /// and the step count), the loader's and the dropouts' generator states, the history and
    /// the early-stopping state (with the best weights). Atomic (Checkpoint.save).
    func save(to path: String) throws {
        var tensors = model.parameters.namedTensors() + optimizer.stateTensors(prefix: "optimizer.")
        if let bestWeights {
            tensors += zip(model.parameters, bestWeights).map { NamedTensor(name: "best." + $0.name, shape: $0.shape, data: $1) }
        }
        let history = JSONValue.array(self.history.map { .object($0.metrics.mapValues { .number($0) }) })
        let metadata: [String: String] = [
            "epoch": String(epochsDone),
            "optimizer": optimizer.name,
            "dropout_rng": dropoutLayers(model).map { String($0.rng.state) }.joined(separator: ","),
            "best_val_loss": "\(bestValLoss)",
            "best_epoch": String(bestEpoch),
            "epochs_without_improvement": String(epochsWithoutImprovement),
            "history": history.serialized(),
            "batch_losses": JSONValue.array(batchLosses.map { .number($0) }).serialized(),
        ]
        try Checkpoint.save(tensors, kind: Self.checkpointKind, config: JSONValue.object(config.json).serialized(),
                            step: optimizer.stepCount, rngState: rng.state, extraMetadata: metadata, to: path)
    }

    /// Continues the run saved in `path`, with the config stored there (`adjust` may change
    /// run-control fields such as epochs or out). Throws one clear line on a bad file.
    static func resume(from path: String, data: (Week04Config) throws -> Week04Data,
                       adjust: (inout Week04Config) -> Void = { _ in }) throws -> (Trainer, Week04Data) {
        let saved = try Checkpoint.load(from: path, expectingKind: checkpointKind)
        guard let configObject = try? JSONValue.parse(saved.config).objectValue else {
            throw WorkbookError("checkpoint \(path): its config is not a JSON object")
        }
        var config = try Week04Config(json: configObject)
        adjust(&config)
        let data = try data(config)
        let trainer = Trainer(config: config, data: data)
        func problem(_ message: String) -> WorkbookError { WorkbookError("checkpoint \(path): \(message)") }
        try trainer.model.parameters.load(saved.tensors)
        guard saved.metadata["optimizer"] == trainer.optimizer.name else {
            throw problem("saved by optimizer '\(saved.metadata["optimizer"] ?? "?")', the config asks for '\(trainer.optimizer.name)'")
        }
        try trainer.optimizer.loadState(saved.tensors, prefix: "optimizer.")
        trainer.optimizer.stepCount = saved.step
        trainer.rng = SplitMix64(seed: saved.rngState)
        let dropoutStates = (saved.metadata["dropout_rng"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        let dropouts = dropoutLayers(trainer.model)
        guard dropoutStates.count == dropouts.count else { throw problem("has \(dropoutStates.count) dropout generator states, the model has \(dropouts.count) dropout layers") }
        for (layer, state) in zip(dropouts, dropoutStates) { layer.rng = SplitMix64(seed: state) }
        guard let historyText = saved.metadata["history"], let rows = try? JSONValue.parse(historyText).arrayValue,
              let lossesText = saved.metadata["batch_losses"], let losses = try? JSONValue.parse(lossesText).arrayValue else {
            throw problem("has no readable training history")
        }
        trainer.history = try rows.map { row in
            guard let object = row.objectValue, let record = EpochRecord(object.compactMapValues(\.doubleValue)) else {
                throw problem("has a malformed history row")
            }
            return record
        }
        trainer.batchLosses = losses.compactMap(\.doubleValue)
        guard let epoch = saved.metadata["epoch"].flatMap({ Int($0) }), epoch == trainer.history.count else {
            throw problem("its epoch count does not match its history")
        }
        trainer.bestValLoss = saved.metadata["best_val_loss"].flatMap { Double($0) } ?? .infinity
        trainer.bestEpoch = saved.metadata["best_epoch"].flatMap { Int($0) } ?? 0
        trainer.epochsWithoutImprovement = saved.metadata["epochs_without_improvement"].flatMap { Int($0) } ?? 0
        if saved.tensors["best." + trainer.model.parameters[0].name] != nil {
            trainer.bestWeights = try trainer.model.parameters.map { try saved.tensor("best." + $0.name, shape: $0.shape) }
        }
        return (trainer, data)
    }
}

// MARK: - The whole training loop

/// Trains until `config.epochs` (or `stopAfter`, or early stopping, or divergence), saving
/// `last.safetensors` every epoch and `best.safetensors` at every new best validation loss
/// into config.out. At the end the best weights are restored (when there is a validation set).
/// Returns why it stopped ("completed", "early stopping", "stopped after N epochs", or the divergence).
@discardableResult
func train(_ trainer: Trainer, checkpoints: Bool = true, log: (String) -> Void) throws -> String {
    let config = trainer.config
    var reason = "completed \(config.epochs) epochs"
    while trainer.epochsDone < config.epochs {
        if let stop = config.stopAfter, trainer.epochsDone >= stop {
            reason = "stopped after \(stop) epochs (continue with --resume \(joinPath(config.out, "last.safetensors")))"
            break
        }
        if trainer.shouldStopEarly {
            reason = "early stopping: no better validation loss for \(config.patience) epochs"
            break
        }
        // A progress line within the epoch only when epochs are long (the digits have 11 steps).
        let progress = config.quick || trainer.loader.batchCount < 100 ? nil : Progress(total: trainer.loader.count, label: "epoch \(trainer.epochsDone + 1)/\(config.epochs)")
        let record = trainer.trainEpoch(progress: progress)
        progress?.finish()
        guard let record else {
            reason = "diverged: " + trainer.divergence!
            log(reason)
            break
        }
        var line = record.line(of: config.epochs)
        if trainer.bestEpoch == record.epoch { line += " | best" }
        log(line)
        if checkpoints {
            try trainer.save(to: joinPath(config.out, "last.safetensors"))
            if trainer.bestEpoch == record.epoch { try trainer.save(to: joinPath(config.out, "best.safetensors")) }
        }
    }
    if trainer.divergence == nil, trainer.bestWeights != nil, trainer.stopAfterReached == false {
        trainer.restoreBestWeights()
    }
    return reason
}

extension Trainer {
    /// True when the run stopped at `--stop-after` (an interruption: keep the last weights).
    var stopAfterReached: Bool {
        if let stop = config.stopAfter { return epochsDone >= stop && epochsDone < config.epochs && !shouldStopEarly }
        return false
    }
}

// MARK: - Formatting

