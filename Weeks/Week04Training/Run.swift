// Week 04's experiments (--experiment optimizers | regularization) and outputs (metrics.json,
// plots, summary). `runWeek04` (Week04.swift) calls them.
import Shared

/// What a finished run reports.
struct Week04Result {
    var config: Week04Config
    var history: [EpochRecord]
    var batchLosses: [Double]
    /// Measured once, at the end, on the test set (the best-validation weights); nil for
    /// the experiments, which compare validation curves only.
    var test: Evaluation?
    var stopReason: String
    var divergence: String?
    var bestEpoch: Int
    var parameters: [Parameter]
    var comparison: [ExperimentRun]
    var gradientCheck: [GradientCheckResult]
    var files: [String]

    var testAccuracy: Double { test?.accuracy ?? 0 }
    var trainLosses: [Double] { history.map(\.trainLoss) }
}

/// One run of an experiment (one curve on its chart).
struct ExperimentRun {
    var name: String
    var history: [EpochRecord]
    var batchLosses: [Double]
    var stepsPerEpoch: Int
    var divergence: String?

    var last: EpochRecord? { history.last }
    /// Validation loss minus training loss at the last epoch: how much the model overfits.
    var gap: Double? { last.flatMap { r in r.valLoss.map { $0 - r.trainLoss } } }
}

/// The configs an experiment compares, by name. Same seed: the same initial weights and the
/// same batches for every run. Early stopping is off so the curves run to the end.
func experimentConfigs(_ config: Week04Config) -> [(name: String, config: Week04Config)] {
    var base = config
    base.patience = 0
    base.experiment = .none
    switch config.experiment {
    case .none:
        return []
    case .optimizers:
        return ["sgd", "momentum", "adam", "adamw"].map { name in
            var c = base
            c.optimizer = name
            c.learningRate = nil    // each optimizer's own default learning rate
            c.weightDecay = nil     // 0.05 for adamw (decoupled), 0 for the others
            return (name, c)
        }
    case .regularization:
        let dropout = config.dropout > 0 ? config.dropout : 0.2
        // 0.5 unless --weight-decay is given: AdamW shrinks weights by lr·λ per step, and the
        // default 0.05 (5e-5 a step at lr 1e-3) barely shows within a short run.
        let decay = config.weightDecay ?? 0.5
        return [("none", 0, 0), ("dropout \(dropout)", dropout, 0), ("weight decay \(decay)", 0, decay),
                ("dropout + weight decay", dropout, decay)].map { name, p, λ in
            var c = base
            c.dropout = p
            c.weightDecay = λ
            return (name, c)
        }
    }
}

/// Trains every config of the experiment (no checkpoints), logging one line per epoch.
func runExperiment(_ config: Week04Config, data: Week04Data, log: (String) -> Void) -> [ExperimentRun] {
    experimentConfigs(config).map { name, runConfig in
        log("— \(config.experiment.rawValue): \(name) (\(runConfig.optimizer), lr \(runConfig.lr), weight decay \(runConfig.decay), dropout \(runConfig.dropout))")
        let trainer = Trainer(config: runConfig, data: data)
        _ = try? train(trainer, checkpoints: false) { log("  " + $0) }
        return ExperimentRun(name: name, history: trainer.history, batchLosses: trainer.batchLosses,
                             stepsPerEpoch: trainer.loader.batchCount, divergence: trainer.divergence)
    }
}

/// A table of the experiment's final figures, one line per run.
func experimentSummary(_ runs: [ExperimentRun]) -> [String] {
    runs.map { run in
        guard let last = run.last else { return "  \(run.name): \(run.divergence ?? "no epochs")" }
        var text = "  \(run.name): train loss \(formatFixed(last.trainLoss, digits: 4))"
        if let valLoss = last.valLoss, let valAccuracy = last.valAccuracy, let gap = run.gap {
            text += ", val loss \(formatFixed(valLoss, digits: 4)) (gap \(formatFixed(gap, digits: 4))), val acc \(formatPercent(valAccuracy))"
        }
        if let divergence = run.divergence { text += " — " + divergence }
        return text
    }
}

/// Mean of each window of `width` values, at the window's centre (x in epochs).
func smoothed(_ losses: [Double], stepsPerEpoch: Int, width: Int) -> (x: [Double], y: [Double]) {
    var xs: [Double] = [], ys: [Double] = []
    var start = 0
    while start < losses.count {
        let end = min(start + width, losses.count)
        let window = losses[start..<end].filter(\.isFinite)
        if !window.isEmpty {
            xs.append((Double(start + end) / 2) / Double(max(stepsPerEpoch, 1)))
            ys.append(window.reduce(0, +) / Double(window.count))
        }
        start = end
    }
    return (xs, ys)
}

// MARK: - Outputs

/// Writes metrics.json and the plots into config.out; returns the paths written.
///   loss.svg            train and validation loss per epoch (with the best epoch marked in the title)
///   lr.svg              the learning-rate schedule over the steps
///   optimizers.svg      --experiment optimizers: training loss of each optimizer (smoothed per step)
///   regularization.svg  --experiment regularization: the gap val − train loss per run, and the curves
func writeWeek04Outputs(_ result: Week04Result, data: Week04Data, schedule: LearningRateSchedule,
                        totalSteps: Int) throws -> [String] {
    let config = result.config
    var files: [String] = []
    let metrics = MetricsLog(week: "Week04Training", config: config.json)
    for record in result.history {
        metrics.record(record.metrics)   // no test accuracy here: it is measured once, at the end (final)
    }
    for run in result.comparison {
        for record in run.history {
            let key = run.name.replacingSpaces()
            metrics.record(["epoch": Double(record.epoch), "train_loss_\(key)": record.trainLoss,
                            "val_loss_\(key)": record.valLoss ?? .nan, "val_accuracy_\(key)": record.valAccuracy ?? .nan,
                            "seconds_\(key)": record.seconds])
        }
    }
    var final: [String: JSONValue] = [
        "epochs": .number(Double(result.history.count)), "steps": .number(Double(result.batchLosses.count)),
        "best_epoch": .number(Double(result.bestEpoch)), "parameters": .number(Double(result.parameters.scalarCount)),
        "stopped": .string(result.stopReason), "diverged": .bool(result.divergence != nil),
    ]
    if let test = result.test {
        final["test_accuracy"] = .number(test.accuracy)
        final["test_loss"] = .number(test.loss)
    }
    let seconds = result.history.map(\.seconds).sorted()
    if !seconds.isEmpty { final["median_epoch_seconds"] = .number(seconds[seconds.count / 2]) }
    if let last = result.history.last {
        final["train_loss"] = .number(last.trainLoss)
        if let v = last.valLoss { final["val_loss"] = .number(v) }
        if let v = last.valAccuracy { final["val_accuracy"] = .number(v) }
    }
    for run in result.comparison {
        let key = run.name.replacingSpaces()
        if let last = run.last {
            final["train_loss_\(key)"] = .number(last.trainLoss)
            if let v = last.valLoss { final["val_loss_\(key)"] = .number(v) }
            if let v = last.valAccuracy { final["val_accuracy_\(key)"] = .number(v) }
        }
    }
    files.append(try metrics.write(final: final, to: config.out))
    guard config.plots else { return files }

    func save(_ svg: String, _ name: String) throws {
        let path = joinPath(config.out, name)
        try writeTextFile(svg, to: path)
        files.append(path)
    }
    let name = data.train.name
    if !result.history.isEmpty {
        let epochs = result.history.map { Double($0.epoch) }
        var series = [Series("train (dropout on)", x: epochs, y: result.history.map(\.trainLoss))]
        if data.validation.count > 0 {
            series.append(Series("validation", x: epochs, y: result.history.map { $0.valLoss ?? .nan }, dashed: true))
        }
        try save(Plot.lines(title: "Week 4 MLP on \(name), \(config.optimizer): loss (best validation at epoch \(result.bestEpoch))",
                            xLabel: "epoch", yLabel: "cross-entropy", series: series), "loss.svg")
        let steps = Array(stride(from: 0, to: max(totalSteps, 1), by: max(totalSteps / 200, 1)))
        try save(Plot.lines(title: "Learning-rate schedule: \(config.schedule), peak \(formatScientific(Double(config.lr)))",
                            xLabel: "optimizer step", yLabel: "learning rate",
                            series: [Series(config.schedule, x: steps.map(Double.init),
                                            y: steps.map { Double(schedule.learningRate(step: $0)) })]), "lr.svg")
    }
    switch config.experiment {
    case .none: break
    case .optimizers:
        let series = result.comparison.map { run -> Series in
            let curve = smoothed(run.batchLosses, stepsPerEpoch: run.stepsPerEpoch, width: max(run.stepsPerEpoch / 5, 1))
            return Series("\(run.name) (lr \(formatScientific(Double(Week04Config.defaultLearningRate(run.name)))))", x: curve.x, y: curve.y)
        }
        try save(Plot.lines(title: "Four optimizers, same MLP, same batches (\(name)): training loss",
                            xLabel: "epoch", yLabel: "cross-entropy (mean over 1/5 epoch, log scale)",
                            series: series, logY: true), "optimizers.svg")
    case .regularization:
        var series: [Series] = []
        for run in result.comparison {
            let epochs = run.history.map { Double($0.epoch) }
            series.append(Series("\(run.name): train", x: epochs, y: run.history.map(\.trainLoss)))
            series.append(Series("\(run.name): validation", x: epochs, y: run.history.map { $0.valLoss ?? .nan }, dashed: true))
        }
        // Left: the generalization gap alone (one line per run), right: the curves it comes from.
        let gaps = result.comparison.map { run in
            Series(run.name, x: run.history.map { Double($0.epoch) },
                   y: run.history.map { r in r.valLoss.map { $0 - r.trainLoss } ?? .nan })
        }
        let gapChart = Plot.lines(title: "Generalization gap (validation − train loss), \(name)",
                                  xLabel: "epoch", yLabel: "val loss − train loss", series: gaps)
        let curves = Plot.lines(title: "Train (solid) vs validation (dashed) loss",
                                xLabel: "epoch", yLabel: "cross-entropy", series: series)
        try save(Plot.sideBySide([gapChart, curves]), "regularization.svg")
    }
    return files
}

extension String {
    /// "weight decay 0.05" -> "weight_decay_0.05" (metrics keys).
    func replacingSpaces() -> String {
        String(map { $0 == " " || $0 == "+" ? "_" : $0 }).replacingDoubleUnderscores()
    }
    private func replacingDoubleUnderscores() -> String {
        var out = ""
        for c in self where !(c == "_" && out.last == "_") { out.append(c) }
        return out
    }
}

/// The final lines a learner reads.
func week04Summary(_ result: Week04Result, data: Week04Data) -> [String] {
    let c = result.config
    var lines = ["summary: \(data.train.name), MLP \(([data.train.features] + c.hidden + [data.train.classNames.count]).map(String.init).joined(separator: "-")) \(c.activation), dropout \(c.dropout), \(c.optimizer) lr \(formatScientific(Double(c.lr))) weight decay \(c.decay), \(c.schedule)"]
    if let divergence = result.divergence {
        lines.append("  diverged: " + divergence + "; no test evaluation")
    } else if let test = result.test {
        lines.append("  \(result.stopReason); best validation loss at epoch \(result.bestEpoch)")
        lines.append("  test accuracy \(formatPercent(test.accuracy)), test loss \(formatFixed(test.loss, digits: 4)) (measured once, with the best-validation weights)")
    }
    if !result.comparison.isEmpty {
        lines.append("  \(c.experiment.rawValue):")
        lines += experimentSummary(result.comparison)
    }
    return lines
}
