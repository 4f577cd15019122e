// Week 03's outputs (plots, metrics.json, summary) and `runWeek03`, the whole run as one
// function: main.swift walks the same steps one by one; tests call this.
import Shared

/// What a finished run reports.
struct Week03Result {
    var config: Week03Config
    var history: [EpochRecord]
    /// The mean loss of every training batch, in order (the determinism test compares these).
    var batchLosses: [Double]
    var test: Evaluation
    var divergence: String?
    var gradientCheck: [GradientCheckResult]
    var files: [String]

    var trainLosses: [Double] { history.map(\.train.trainLoss) }
    var testAccuracy: Double { test.accuracy }
}

/// The median of the epochs' training seconds (0 when there are none).
func medianEpochSeconds(_ history: [EpochRecord]) -> Double {
    let seconds = history.map(\.train.seconds).sorted()
    return seconds.isEmpty ? 0 : seconds[seconds.count / 2]
}

/// Writes metrics.json and the plots into config.out; returns the paths written.
///   loss.svg, accuracy.svg          train/validation curves per epoch
///   confusion.svg                   test confusion matrix (rows = true class)
///   misclassified.svg               up to 24 test images the model got wrong
///   gradient_norms.svg              ‖dW‖ per layer per epoch (log scale: vanishing gradients)
func writeWeek03Outputs(model: MLP, data: Week03Data, config: Week03Config, run: TrainingRun,
                        test: Evaluation) throws -> [String] {
    var files: [String] = []
    let metrics = MetricsLog(week: "Week03MLP", config: config.json)
    for record in run.history { metrics.record(record.metrics) }
    let last = run.history.last
    var final: [String: JSONValue] = [
        "test_accuracy": .number(test.accuracy), "test_loss": test.loss.isFinite ? .number(test.loss) : .null,
        "epochs": .number(Double(run.history.count)), "steps": .number(Double(run.batchLosses.count)),
        "parameters": .number(Double(model.parameterCount)),
        "median_epoch_seconds": .number(medianEpochSeconds(run.history)),
        "hidden_unit_spread": .number(Double(hiddenUnitSpread(model))),
        "dead_relu_fraction": .number(test.deadFraction),
        "diverged": .bool(run.divergence != nil),
    ]
    if let last {
        final["train_loss"] = .number(last.train.trainLoss)
        final["train_accuracy"] = .number(last.train.trainAccuracy)
        if let validation = last.validation {
            final["val_loss"] = .number(validation.loss)
            final["val_accuracy"] = .number(validation.accuracy)
        }
    }
    files.append(try metrics.write(final: final, to: config.out))
    guard config.plots else { return files }

    func save(_ svg: String, _ name: String) throws {
        let path = joinPath(config.out, name)
        try writeTextFile(svg, to: path)
        files.append(path)
    }
    let epochs = run.history.map { Double($0.epoch) }
    let name = data.train.name
    var lossSeries = [Series("train", x: epochs, y: run.history.map(\.train.trainLoss))]
    var accuracySeries = [Series("train", x: epochs, y: run.history.map(\.train.trainAccuracy))]
    if data.validation.count > 0 {
        lossSeries.append(Series("validation", x: epochs, y: run.history.map { $0.validation?.loss ?? .nan }, dashed: true))
        accuracySeries.append(Series("validation", x: epochs, y: run.history.map { $0.validation?.accuracy ?? .nan }, dashed: true))
    }
    if config.evaluateTest {
        accuracySeries.append(Series("test", x: epochs, y: run.history.map { $0.testAccuracy ?? .nan }, dashed: true))
    }
    try save(Plot.lines(title: "Week 3 MLP on \(name): cross-entropy loss", xLabel: "epoch",
                        yLabel: "mean loss", series: lossSeries), "loss.svg")
    try save(Plot.lines(title: "Week 3 MLP on \(name): accuracy", xLabel: "epoch",
                        yLabel: "accuracy (fraction)", series: accuracySeries), "accuracy.svg")

    let classes = data.test.classNames
    let counts = confusionMatrix(labels: data.test.labels, predictions: test.predictions, classes: classes.count)
    try save(Plot.heatmap(title: "Test confusion matrix (\(name), accuracy \(formatPercent(test.accuracy)))",
                          values: counts.map(Double.init), rows: classes.count, columns: classes.count,
                          rowLabels: classes, columnLabels: classes,
                          xLabel: "predicted class", yLabel: "true class"), "confusion.svg")

    let wrong = (0..<data.test.count).filter { test.predictions[$0] != data.test.labels[$0] }.prefix(24)
    try save(Plot.imageGrid(title: "Misclassified test images, predicted / true (\(wrong.count) of \(data.test.count - Int((test.accuracy * Double(data.test.count)).rounded())) errors)",
                            images: wrong.map { data.test.image($0) },
                            width: data.test.width, height: data.test.height,
                            captions: wrong.map { "\(classes[test.predictions[$0]]) / \(classes[data.test.labels[$0]])" },
                            columns: 6), "misclassified.svg")

    let normSeries = (0..<model.layerCount).map { l in
        Series("layer \(l + 1) (\(model.layerSizes[l])→\(model.layerSizes[l + 1]))", x: epochs,
               y: run.history.map { $0.train.gradientNorms[l] })
    }
    try save(Plot.lines(title: "Mean gradient norm ‖dW‖ per layer (\(config.activation.rawValue), \(model.layerCount) layers)",
                        xLabel: "epoch", yLabel: "‖dW‖ (log scale)", series: normSeries, logY: true),
             "gradient_norms.svg")
    return files
}

/// The final lines a learner reads.
func week03Summary(_ result: Week03Result, data: Week03Data) -> [String] {
    var lines = ["summary: \(data.train.name), layers \(result.config.layers!.map(String.init).joined(separator: "-")), \(result.config.activation.rawValue), \(result.config.initialization.rawValue) init"]
    if let divergence = result.divergence { lines.append("  " + divergence) }
    let testLoss = result.test.loss.isFinite ? formatFixed(result.test.loss, digits: 4) : "not finite"
    lines.append("  test accuracy \(formatPercent(result.test.accuracy)), test loss \(testLoss) after \(result.history.count) epochs, median epoch \(formatFixed(medianEpochSeconds(result.history), digits: 3)) s")
    if let spread = result.history.last?.spread {
        lines.append("  largest difference between two hidden units' weights: \(formatScientific(Double(spread)))\(spread == 0 ? " (all units identical: symmetry never broken)" : "")")
    }
    if result.config.activation == .relu {
        lines.append("  dead ReLUs (never fire on the test set): \(formatPercent(result.test.deadFraction))")
    }
    if let norms = result.history.last?.train.gradientNorms {
        lines.append("  last epoch's mean ‖dW‖ per layer: " + norms.map { formatScientific($0) }.joined(separator: ", "))
    }
    return lines
}

/// The whole week-3 run, the same steps as main.swift, quietly by default: load data, build
/// the model, check its backward, train, evaluate, write outputs.
func runWeek03(_ config: Week03Config, log: (String) -> Void = { _ in }) throws -> Week03Result {
    let data = try loadWeek03Data(config)
    data.notes.forEach(log)
    let config = config.resolved(for: data)
    var rng = SplitMix64(seed: config.seed)
    let model = MLP(layerSizes: config.layers!, activation: config.activation,
                    initialization: config.initialization, rng: &rng)
    let checks = config.gradientCheck ? checkMLPBackward(activation: config.activation, seed: config.seed) : []
    let run = trainMLP(model, data: data, config: config, rng: &rng, log: log)
    let test = evaluate(model, on: data.test, pool: WorkspacePool(layerSizes: model.layerSizes))
    let files = try writeWeek03Outputs(model: model, data: data, config: config, run: run, test: test)
    return Week03Result(config: config, history: run.history, batchLosses: run.batchLosses, test: test,
                        divergence: run.divergence, gradientCheck: checks, files: files)
}
