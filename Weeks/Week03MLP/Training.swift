// Week 03's training loop and what it measures: data loading with the MNIST -> digits
// fallback, mini-batch SGD over preallocated buffers, evaluation (loss, accuracy, confusion,
// dead ReLUs), the experiment diagnostics, and `runWeek03`, the whole run as one function.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

// MARK: - Data

/// Training, validation and test images. `validation` is empty when --validation is 0.
struct Week03Data {
    var train: LabeledImages
    var validation: LabeledImages
    var test: LabeledImages
    /// One line saying where the data came from (and how to get MNIST when it was missing).
    var notes: [String]
}

/// Loads the data set of `config`: MNIST or Fashion-MNIST from disk (or downloaded with
/// --download), else the embedded 8x8 digits (MNIST missing -> one line, then digits).
/// The digits have no official test set: a seeded 80/20 split makes one. The validation set
/// is a seeded fraction of the training set, never of the test set. Both splits use a fixed
/// seed, not --seed: every run is scored on the same images, and --seed changes only the
/// initial weights and the batch order.
func loadWeek03Data(_ config: Week03Config) throws -> Week03Data {
    var rng = SplitMix64(seed: 2026)
    var notes: [String] = []
    var trainAndTest: (train: LabeledImages, test: LabeledImages)?
    if config.dataset == "mnist" || config.dataset == "fashion-mnist" {
        let which: MNISTDataset = config.dataset == "mnist" ? .mnist : .fashionMNIST
        do {
            trainAndTest = try MNIST.load(which, dataDir: config.dataDir, download: config.download)
        } catch {
            // Fashion-MNIST asked for by name, a --data-dir or a --download that failed: stop.
            // Plain MNIST missing (the default): say how to get it, train on the digits.
            if which == .fashionMNIST || config.download || config.dataDir != nil { throw error }
            notes.append("MNIST not found: run with --download to fetch it (or put the IDX files in Datasets/mnist/); training on the embedded 8x8 digits instead.")
        }
    }
    if trainAndTest == nil {
        // The digits stay 8x8 = 64 inputs: upscaling to 28x28 would add no information, only
        // 12x the work, and the 64-input network trains in seconds.
        trainAndTest = try Digits.load().split(trainFraction: 0.8, rng: &rng)
    }
    let (fullTrain, test) = trainAndTest!
    let validationCount = Int(Double(fullTrain.count) * config.validationFraction)
    let order = rng.permutation(fullTrain.count)
    let train = fullTrain.subset(Array(order[validationCount...]))
    let validation = fullTrain.subset(Array(order[..<validationCount]))
    if train.count == 0 { throw WorkbookError("no training images left after the validation split") }
    notes.append("data: \(train.name), \(train.count) train / \(validation.count) validation / \(test.count) test images of \(train.height)x\(train.width)")
    return Week03Data(train: train, validation: validation, test: test, notes: notes)
}

// MARK: - Reusable workspaces

/// Workspaces by batch size, allocated on first use and reused: an epoch needs two (the batch
/// size and the smaller last batch), evaluation one or two more.
final class WorkspacePool {
    let layerSizes: [Int]
    private var byRows: [Int: MLPWorkspace] = [:]
    init(layerSizes: [Int]) { self.layerSizes = layerSizes }

    func workspace(rows: Int) -> MLPWorkspace {
        if let existing = byRows[rows] { return existing }
        let created = MLPWorkspace(rows: rows, layerSizes: layerSizes)
        byRows[rows] = created
        return created
    }
}

// MARK: - Evaluation

/// Loss, accuracy and predictions of `model` on a whole image set, plus, for the hidden
/// layers, which units never fired (dead ReLUs: output 0 on every image).
struct Evaluation {
    var loss: Double
    var accuracy: Double
    var predictions: [Int]                 // (count)
    /// Fraction of hidden units whose activation is 0 on every image (ReLU only; else 0).
    var deadFraction: Double
}

/// Index of the largest of row r of a (rows, C) buffer.
func argmaxRow(_ values: [Float], row r: Int, columns C: Int) -> Int {
    var best = 0
    for c in 1..<C where values[r * C + c] > values[r * C + best] { best = c }
    return best
}

/// Runs the forward pass over `images` in chunks of `chunk` rows.
func evaluate(_ model: MLP, on images: LabeledImages, pool: WorkspacePool, chunk: Int = 500) -> Evaluation {
    let D = images.features, C = model.layerSizes.last!
    var predictions = [Int](repeating: 0, count: images.count)
    var lossSum = 0.0, correct = 0
    // alive[l][j]: hidden unit j of layer l fired (h > 0) on some image.
    var alive = (0..<(model.layerCount - 1)).map { [Bool](repeating: false, count: model.layerSizes[$0 + 1]) }
    var start = 0
    while start < images.count {
        let rows = min(chunk, images.count - start)
        let workspace = pool.workspace(rows: rows)
        workspace.gather(Array(start..<(start + rows))[...], pixels: images.pixels, labels: images.labels, features: D)
        mlpForward(model, workspace)
        lossSum += mlpLoss(model, workspace) * Double(rows)
        for r in 0..<rows {
            let predicted = argmaxRow(workspace.logits, row: r, columns: C)
            predictions[start + r] = predicted
            if predicted == workspace.labels[r] { correct += 1 }
        }
        for l in alive.indices {
            let H = model.layerSizes[l + 1], h = workspace.activations[l]
            for r in 0..<rows { for j in 0..<H where h[r * H + j] > 0 { alive[l][j] = true } }
        }
        start += rows
    }
    let hiddenUnits = alive.reduce(0) { $0 + $1.count }
    let dead = alive.reduce(0) { $0 + $1.filter { !$0 }.count }
    let count = Double(max(images.count, 1))
    return Evaluation(loss: lossSum / count, accuracy: Double(correct) / count, predictions: predictions,
                      deadFraction: model.activation == .relu && hiddenUnits > 0 ? Double(dead) / Double(hiddenUnits) : 0)
}

/// counts[t * C + p]: how many images of true class t were predicted as p.   (C, C)
func confusionMatrix(labels: [Int], predictions: [Int], classes C: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: C * C)
    for (t, p) in zip(labels, predictions) { counts[t * C + p] += 1 }
    return counts
}

// MARK: - Experiment diagnostics

/// Symmetry: the largest difference between two hidden units of the same layer, over all
/// hidden layers:  max_l max_j max_i |W_l[i, j] − W_l[i, 0]| (and the same for the biases).
/// 0 means every unit in each layer computes the same function (zero init never breaks this).
func hiddenUnitSpread(_ model: MLP) -> Float {
    var spread: Float = 0
    for l in 0..<(model.layerCount - 1) {
        let inFeatures = model.layerSizes[l], units = model.layerSizes[l + 1]
        let W = model.weights[l], b = model.biases[l]
        for i in 0..<inFeatures {
            let first = W[i * units]
            for j in 1..<max(units, 1) { spread = max(spread, abs(W[i * units + j] - first)) }
        }
        for j in 0..<units { spread = max(spread, abs(b[j] - b[0])) }
    }
    return spread
}

// MARK: - Training

/// What one epoch produced.
struct EpochStats {
    var trainLoss: Double
    var trainAccuracy: Double
    var seconds: Double
    /// Mean of ‖dW_l‖ for each layer l (first layer first), over every 10th batch of the epoch
    /// (a sample is plenty for the plot and costs nothing).
    var gradientNorms: [Double]
    /// nil, or "the loss became inf/NaN at step s".
    var divergence: String?
}

/// Learning rate at `epoch` (0-based) of `epochs`: constant, or cosine from lr down to 0
/// over the run (lr·½(1 + cos(π·epoch/epochs))), evaluated once per epoch.
func learningRate(_ config: Week03Config, epoch: Int) -> Float {
    let base = config.learningRate!
    guard config.schedule == "cosine" else { return base }
    return base * Float(0.5 * (1 + cos(Double.pi * Double(epoch) / Double(config.epochs!))))
}

/// One pass over the training set in a shuffled order: gather a batch into a preallocated
/// buffer, forward, loss, backward, update. Nothing here allocates per batch: the workspaces
/// are reused, the batch is a slice of `order`, and `batchLosses` has capacity reserved.
/// order: the permutation buffer, reshuffled in place.
func trainEpoch(_ model: MLP, data: LabeledImages, order: inout [Int], learningRate lr: Float,
                momentum: Float, batchSize: Int, pool: WorkspacePool, rng: inout SplitMix64,
                batchLosses: inout [Double], progress: Progress?) -> EpochStats {
    let N = data.count, D = data.features, C = model.layerSizes.last!
    let started = monotonicSeconds()
    rng.shuffle(&order)
    var lossSum = 0.0, correct = 0, steps = 0, normSamples = 0
    var normSums = [Double](repeating: 0, count: model.layerCount)
    var start = 0
    while start < N {
        let rows = min(batchSize, N - start)
        let workspace = pool.workspace(rows: rows)
        workspace.gather(order[start..<(start + rows)], pixels: data.pixels, labels: data.labels, features: D)
        mlpForward(model, workspace)
        let loss = mlpLoss(model, workspace)
        // Divergence: a loss that is not finite, or absurdly large (it starts near ln 10 = 2.3).
        guard loss.isFinite && loss < 1e6 else {
            let what = loss.isNaN ? "NaN" : loss.isInfinite ? "infinite" : "larger than 1e6"
            return EpochStats(trainLoss: .infinity, trainAccuracy: 0, seconds: monotonicSeconds() - started,
                              gradientNorms: normSums, divergence: "the loss became \(what) at batch \(steps + 1)")
        }
        mlpLossBackward(model, workspace)
        mlpBackward(model, workspace)
        mlpUpdate(model, learningRate: lr, momentum: momentum)
        // Bookkeeping: loss, running accuracy (of the model as it was for this batch), norms.
        batchLosses.append(loss)
        lossSum += loss * Double(rows)
        for r in 0..<rows where argmaxRow(workspace.probabilities, row: r, columns: C) == workspace.labels[r] { correct += 1 }
        if steps % 10 == 0 {
            for l in 0..<model.layerCount { normSums[l] += sumOfSquares(model.dWeights[l]).squareRoot() }
            normSamples += 1
        }
        steps += 1
        start += rows
        progress?.update(step: start, loss: loss, items: rows)
    }
    return EpochStats(trainLoss: lossSum / Double(N), trainAccuracy: Double(correct) / Double(N),
                      seconds: monotonicSeconds() - started,
                      gradientNorms: normSums.map { $0 / Double(max(normSamples, 1)) }, divergence: nil)
}

/// One row of the run's history (one per epoch).
struct EpochRecord {
    var epoch: Int
    var learningRate: Float
    var train: EpochStats
    var validation: Evaluation?
    var testAccuracy: Double?
    var spread: Float
    var deadFraction: Double

    /// The metrics.json history row (snake_case keys, fractions).
    var metrics: [String: Double] {
        var row: [String: Double] = ["epoch": Double(epoch), "train_loss": train.trainLoss,
                                     "train_accuracy": train.trainAccuracy, "seconds": train.seconds,
                                     "lr": Double(learningRate), "hidden_unit_spread": Double(spread),
                                     "dead_relu_fraction": deadFraction]
        if let validation { row["val_loss"] = validation.loss; row["val_accuracy"] = validation.accuracy }
        if let testAccuracy { row["test_accuracy"] = testAccuracy }
        for (l, norm) in train.gradientNorms.enumerated() { row["grad_norm_layer\(l + 1)"] = norm }
        return row
    }

    /// The progress line a learner reads after every epoch.
    func line(of epochs: Int, config: Week03Config) -> String {
        var text = "epoch \(epoch)/\(epochs) | train loss \(formatFixed(train.trainLoss, digits: 4)) acc \(formatPercent(train.trainAccuracy))"
        if let validation { text += " | val loss \(formatFixed(validation.loss, digits: 4)) acc \(formatPercent(validation.accuracy))" }
        if let testAccuracy { text += " | test acc \(formatPercent(testAccuracy))" }
        text += " | \(formatFixed(train.seconds, digits: 2)) s"
        if config.initialization == .zero || config.experiment == .symmetry {
            text += " | hidden-unit spread \(formatScientific(Double(spread)))"
        }
        if config.activation == .relu {
            text += " | dead ReLUs \(formatPercent(deadFraction))"
        }
        if config.experiment == .vanishing || config.activation == .sigmoid {
            text += " | |dW| " + train.gradientNorms.map { formatScientific($0, digits: 1) }.joined(separator: " ")
        }
        return text
    }
}

/// The whole training run: `epochs` epochs, each followed by validation (and test accuracy).
/// Stops early, with `divergence` set, when the loss becomes inf/NaN.
struct TrainingRun {
    var history: [EpochRecord] = []
    var batchLosses: [Double] = []
    var divergence: String?
}

func trainMLP(_ model: MLP, data: Week03Data, config: Week03Config, rng: inout SplitMix64,
              log: (String) -> Void) -> TrainingRun {
    let epochs = config.epochs!, N = data.train.count
    let pool = WorkspacePool(layerSizes: model.layerSizes)
    var order = Array(0..<N)
    var run = TrainingRun()
    run.batchLosses.reserveCapacity(epochs * ((N + config.batchSize! - 1) / config.batchSize!))
    for epoch in 0..<epochs {
        let lr = learningRate(config, epoch: epoch)
        // A progress line within the epoch only in a terminal and when an epoch takes a while
        // (MNIST-sized data); in a log file the epoch lines below are the progress.
        let showProgress = !config.quick && N >= 10_000 && isatty(STDOUT_FILENO) != 0
        let progress = showProgress ? Progress(total: N, label: "epoch \(epoch + 1)/\(epochs)") : nil
        let stats = trainEpoch(model, data: data.train, order: &order, learningRate: lr,
                               momentum: config.momentum!, batchSize: config.batchSize!, pool: pool,
                               rng: &rng, batchLosses: &run.batchLosses, progress: progress)
        progress?.finish()
        if let divergence = stats.divergence {
            run.divergence = "diverged in epoch \(epoch + 1): \(divergence) (try a smaller --lr)"
            log(run.divergence!)
            break
        }
        let validation = data.validation.count > 0 ? evaluate(model, on: data.validation, pool: pool) : nil
        if let validation, !(validation.loss.isFinite && validation.loss < 1e6) {
            // The last update of the epoch blew the weights up: same verdict as a training loss.
            run.divergence = "diverged in epoch \(epoch + 1): the validation loss is not finite or above 1e6 (try a smaller --lr)"
            log(run.divergence!)
            break
        }
        let test = config.evaluateTest ? evaluate(model, on: data.test, pool: pool) : nil
        // Dead ReLUs on the validation set, else on the test set (evaluated once either way).
        let dead = (validation ?? test ?? evaluate(model, on: data.test, pool: pool)).deadFraction
        let record = EpochRecord(epoch: epoch + 1, learningRate: lr, train: stats, validation: validation,
                                 testAccuracy: test?.accuracy, spread: hiddenUnitSpread(model), deadFraction: dead)
        run.history.append(record)
        log(record.line(of: epochs, config: config))
    }
    return run
}

// MARK: - Formatting

