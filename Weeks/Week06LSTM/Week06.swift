// Week 6's pieces, in the order main.swift uses them: the gradient check, one training run
// per cell, the clipping experiment, the outputs (plots, metrics.json, side-by-side samples,
// summary), and `runWeek06`, the whole lesson as one function for the tests.
// The LSTM and its BPTT are in Shared/NN/LSTM.swift; the RNN, the language model and the
// training loop are week 5's, from Shared/NN, so both cells get exactly the same treatment.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// BPTT of a tiny LSTM (V 7, H 5, B 3, T 6) against finite differences: every weight, bias and
/// the initial h and c through 6 steps; then the whole language model.
func checkWeek06Backward(seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let core = LSTM(inputSize: 7, hiddenSize: 5, rng: &rng)
    let model = RecurrentLanguageModel(core: LSTM(inputSize: 6, hiddenSize: 4, rng: &rng), rng: &rng)
    return checkRecurrentBackward(core: core, batch: 3, steps: 6, seed: seed + 1)
        + checkLanguageModelBackward(model, batch: 2, steps: 5, seed: seed + 2)
}

/// A fresh model with the given cell ("rnn" or "lstm"), seeded.
func makeModel(cell: String, data: CharacterData, config: Week06Config, seed: UInt64) -> RecurrentLanguageModel {
    var rng = SplitMix64(seed: seed)
    let V = data.vocabulary.size
    let core: any RecurrentCore = cell == "lstm"
        ? LSTM(inputSize: V, hiddenSize: config.hidden, forgetBias: config.forgetBias, rng: &rng)
        : RNN(inputSize: V, hiddenSize: config.hidden, rng: &rng)
    return RecurrentLanguageModel(core: core, rng: &rng)
}

/// One cell trained on the data: its run, final sample and gradient flow.
struct CellRun {
    let cell: String
    let parameters: Int
    let run: LanguageModelTrainingRun
    let sample: String
    /// ‖∂L_T/∂h_{T−k}‖ after training, k = 0 … T−1.
    let flow: [Double]
}

/// Trains a fresh model of one cell with `training` (the same batches for every cell: the
/// data RNG is seeded with the run's seed, not shared with the model's initialisation).
/// Returns the trained model and that RNG, which sampling goes on drawing from.
func trainFreshModel(_ cell: String, data: CharacterData, config: Week06Config, training: LanguageModelTrainingConfig,
                     label: String, log: (String) -> Void)
    throws -> (model: RecurrentLanguageModel, run: LanguageModelTrainingRun, rng: SplitMix64)
{
    let model = makeModel(cell: cell, data: data, config: config, seed: config.seed)
    var rng = SplitMix64(seed: config.seed &+ 1)
    let run = try trainLanguageModel(model, train: data.train, validation: data.validation, tokenizer: data.vocabulary,
                                     config: training, label: label, rng: &rng, log: log)
    return (model, run, rng)
}

/// One cell of the RNN-vs-LSTM comparison: trained, then its final sample and gradient flow.
func trainCell(_ cell: String, data: CharacterData, config: Week06Config, training: LanguageModelTrainingConfig,
               label: String, log: (String) -> Void) throws -> CellRun {
    let trained = try trainFreshModel(cell, data: data, config: config, training: training, label: label, log: log)
    let model = trained.model
    var rng = trained.rng
    let sample = try sampleText(model, tokenizer: data.vocabulary, prompt: config.prompt, count: training.sampleLength,
                                sampling: training.sampling, startToken: training.sampleStartToken, rng: &rng)
    let flow = try measureGradientFlow(model, validation: data.validation, batch: config.batch, steps: config.block)
    return CellRun(cell: cell, parameters: model.parameters.scalarCount, run: trained.run, sample: sample, flow: flow)
}

/// One run of the clipping experiment: only the training curves are used (no sample, no flow).
func trainClippingRun(clipped: Bool, data: CharacterData, config: Week06Config,
                      log: (String) -> Void) throws -> LanguageModelTrainingRun {
    try trainFreshModel(config.clipCell, data: data, config: config, training: config.clippingTraining(clipped: clipped),
                        label: clipped ? "clip on " : "clip off", log: log).run
}

/// Two texts in two columns of `width` characters, line by line (long lines wrap).
func sideBySide(_ left: String, _ right: String, titles: (String, String), width: Int = 44) -> [String] {
    // Each text line becomes one or more rows of at most `width` characters; a row that
    // continues the line above starts with two spaces, so no character is cut off.
    func rows(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
            var pieces = [String(line.prefix(width))]
            var rest = line.dropFirst(width)
            while !rest.isEmpty {
                pieces.append("  " + rest.prefix(width - 2))
                rest = rest.dropFirst(width - 2)
            }
            return pieces
        }
    }
    func pad(_ text: String) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    let a = rows(left), b = rows(right)
    var lines = [pad(String(titles.0.prefix(width))) + " | " + titles.1,
                 String(repeating: "-", count: width) + "-+-" + String(repeating: "-", count: width)]
    for i in 0..<max(a.count, b.count) {
        lines.append(pad(i < a.count ? a[i] : "") + " | " + (i < b.count ? b[i] : ""))
    }
    return lines
}

/// Everything a week 6 run produced (nil for an experiment not run).
struct Week06Result {
    let config: Week06Config
    let data: CharacterData
    let gradientCheck: [GradientCheckResult]
    let rnn: CellRun?
    let lstm: CellRun?
    let clipped: LanguageModelTrainingRun?
    let unclipped: LanguageModelTrainingRun?
    let files: [String]
}

/// metrics.json and the plots. Returns the paths written.
func writeWeek06Outputs(_ result: Week06Result, configJSON: [String: JSONValue]) throws -> [String] {
    let config = result.config
    let metrics = MetricsLog(week: "Week06LSTM", config: configJSON)
    var final: [String: JSONValue] = ["unigram_entropy": .number(result.data.unigramEntropy)]
    if let rnn = result.rnn, let lstm = result.lstm {
        // one history row per evaluation, both cells side by side
        for (r, l) in zip(rnn.run.history, lstm.run.history) {
            metrics.record(["step": r["step"]!, "rnn_train_loss": r["train_loss"]!, "rnn_val_loss": r["val_loss"]!,
                            "lstm_train_loss": l["train_loss"]!, "lstm_val_loss": l["val_loss"]!,
                            "rnn_seconds": r["seconds"]!, "lstm_seconds": l["seconds"]!])
        }
        for cell in [rnn, lstm] {
            final[cell.cell + "_val_loss"] = .number(cell.run.finalValidationLoss)
            final[cell.cell + "_val_bits_per_char"] = .number(cell.run.finalValidationLoss / natsPerBit)
            final[cell.cell + "_steps"] = .number(Double(cell.run.stepsDone))
            final[cell.cell + "_seconds"] = .number(cell.run.seconds)
            final[cell.cell + "_ms_per_step"] = .number(cell.run.medianStepMilliseconds)
            final[cell.cell + "_parameters"] = .number(Double(cell.parameters))
            if let divergence = cell.run.divergence { final[cell.cell + "_diverged"] = .string(divergence) }
        }
        final["lstm_advantage_nats"] = .number(rnn.run.finalValidationLoss - lstm.run.finalValidationLoss)
    }
    if let on = result.clipped, let off = result.unclipped {
        for (name, run) in [("clip_on", on), ("clip_off", off)] {
            final[name + "_val_loss"] = .number(run.finalValidationLoss)
            final[name + "_max_grad_norm"] = .number(run.gradientNorms.max() ?? 0)
            if let divergence = run.divergence { final[name + "_diverged"] = .string(divergence) }
        }
    }
    var files = [try metrics.write(final: final, to: config.out)]
    guard config.plots else { return files }

    var plots: [(String, String)] = []
    if let rnn = result.rnn, let lstm = result.lstm {
        func curve(_ cell: CellRun, _ key: String) -> [Double] { cell.run.history.map { $0[key]! } }
        func steps(_ cell: CellRun) -> [Double] { curve(cell, "step") }
        plots.append(("rnn_vs_lstm.svg", Plot.lines(
            title: "RNN vs LSTM, H \(config.hidden), same data, steps and optimizer",
            xLabel: "training step", yLabel: "cross-entropy (nats/char)", series: [
                Series("RNN train", x: steps(rnn), y: curve(rnn, "train_loss"), dashed: true),
                Series("RNN validation", x: steps(rnn), y: curve(rnn, "val_loss")),
                Series("LSTM train", x: steps(lstm), y: curve(lstm, "train_loss"), dashed: true),
                Series("LSTM validation", x: steps(lstm), y: curve(lstm, "val_loss")),
            ])))
        let back = (0..<rnn.flow.count).map(Double.init)
        plots.append(("gradient_flow.svg", Plot.lines(
            title: "‖∂L/∂h‖ k steps back from the loss, trained nets (log scale)",
            xLabel: "steps back from the loss (k)", yLabel: "gradient norm",
            series: [Series("RNN", x: back, y: rnn.flow), Series("LSTM", x: back, y: lstm.flow)], logY: true)))
    }
    if let on = result.clipped, let off = result.unclipped {
        func stepAxis(_ run: LanguageModelTrainingRun) -> [Double] { (1...max(1, run.stepsDone)).map(Double.init) }
        let norms = Plot.lines(title: "gradient norm before clipping (\(config.clipCell.uppercased()), lr \(config.clipLearningRate))",
                               xLabel: "training step", yLabel: "global gradient norm", series: [
            Series("clip at \(config.clip > 0 ? config.clip : 1)", x: stepAxis(on), y: on.gradientNorms),
            Series("no clipping", x: stepAxis(off), y: off.gradientNorms),
        ], logY: true)
        let losses = Plot.lines(title: "training loss, clip on vs off", xLabel: "training step",
                                yLabel: "cross-entropy (nats/char)", series: [
            Series("clip on", x: stepAxis(on), y: runningMean(on.stepLosses, window: 20)),
            Series("no clipping", x: stepAxis(off), y: runningMean(off.stepLosses, window: 20)),
        ])
        plots.append(("clipping.svg", Plot.sideBySide([norms, losses])))
    }
    for (name, svg) in plots {
        let path = joinPath(config.out, name)
        try writeTextFile(svg, to: path)
        files.append(path)
    }
    return files
}

/// The headline numbers.
func week06Summary(_ result: Week06Result) -> [String] {
    var lines = ["", "summary:"]
    func describe(_ run: LanguageModelTrainingRun) -> String {
        if let divergence = run.divergence { return divergence }
        return "validation \(formatFixed(run.finalValidationLoss, digits: 3)) nats/char "
            + "(\(formatFixed(run.finalValidationLoss / natsPerBit, digits: 3)) bits) after \(run.stepsDone) steps, "
            + "\(formatFixed(run.seconds, digits: 1)) s, \(formatFixed(run.medianStepMilliseconds, digits: 2)) ms/step"
    }
    if let rnn = result.rnn, let lstm = result.lstm {
        lines.append("  RNN  (H \(result.config.hidden), \(rnn.parameters) parameters): " + describe(rnn.run))
        lines.append("  LSTM (H \(result.config.hidden), \(lstm.parameters) parameters): " + describe(lstm.run))
        lines.append("  LSTM better by \(formatFixed(rnn.run.finalValidationLoss - lstm.run.finalValidationLoss, digits: 3)) nats/char")
    }
    if let on = result.clipped, let off = result.unclipped {
        lines.append("  clipping (\(result.config.clipCell.uppercased()), lr \(result.config.clipLearningRate)): on: " + describe(on)
                     + "; largest norm \(formatScientific(on.gradientNorms.max() ?? 0))")
        lines.append("  clipping off: " + describe(off) + "; largest norm \(formatScientific(off.gradientNorms.max() ?? 0))")
    }
    return lines
}

/// The whole lesson (main.swift's sections) as one function, for the tests.
func runWeek06(arguments: [String], log: (String) -> Void = { _ in }) throws -> Week06Result {
    let options = Options(program: "Week06LSTM", summary: week06Description, arguments: arguments)
    let config = Week06Config(options)
    options.finish()
    if Threads.count != config.threads { return try Threads.$count.withValue(config.threads) { try runWeek06(arguments: arguments, log: log) } }
    let data = try CharacterData.load(corpus: config.corpus, prompt: config.prompt)
    let checks = checkWeek06Backward(seed: config.seed)
    let newline = data.vocabulary.id(of: "\n") ?? 0
    var rnn: CellRun?, lstm: CellRun?, clipped: LanguageModelTrainingRun?, unclipped: LanguageModelTrainingRun?
    if config.runsComparison {
        rnn = try trainCell("rnn", data: data, config: config, training: config.training(startToken: newline), label: "rnn ", log: log)
        lstm = try trainCell("lstm", data: data, config: config, training: config.training(startToken: newline), label: "lstm", log: log)
    }
    if config.runsClipping {
        clipped = try trainClippingRun(clipped: true, data: data, config: config, log: log)
        unclipped = try trainClippingRun(clipped: false, data: data, config: config, log: log)
    }
    let partial = Week06Result(config: config, data: data, gradientCheck: checks, rnn: rnn, lstm: lstm,
                               clipped: clipped, unclipped: unclipped, files: [])
    let files = try writeWeek06Outputs(partial, configJSON: options.config)
    return Week06Result(config: config, data: data, gradientCheck: checks, rnn: rnn, lstm: lstm,
                        clipped: clipped, unclipped: unclipped, files: files)
}

/// The program's one-line description (--help).
let week06Description = "an LSTM next to week 5's RNN on Shakespeare, BPTT by hand; clipping on vs off"
