// Week 5's pieces, in the order main.swift uses them: the gradient check, the outputs (plots, metrics.json, summary), and `runWeek05`, the
// whole lesson as one function so tests can run the --quick configuration in-process.
// The model and its BPTT are in Shared/NN (RNN.swift, RNNLanguageModel.swift), the training
// loop and the sampler too (LanguageModelTraining.swift, Sampling.swift): week 6 trains the
// same RNN next to its LSTM, and the GPT weeks use the same loop and sampler.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// BPTT of a tiny RNN (V 7, H 5, B 3, T 6) against finite differences: every weight, bias and
/// the initial state through 6 steps; then the whole language model (head and loss too).
func checkWeek05Backward(seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let core = RNN(inputSize: 7, hiddenSize: 5, rng: &rng)
    let model = RecurrentLanguageModel(core: RNN(inputSize: 6, hiddenSize: 4, rng: &rng), rng: &rng)
    return checkRecurrentBackward(core: core, batch: 3, steps: 6, seed: seed + 1)
        + checkLanguageModelBackward(model, batch: 2, steps: 5, seed: seed + 2)
}

/// Everything a week 5 run produced.
struct Week05Result {
    let config: Week05Config
    let data: CharacterData
    let gradientCheck: [GradientCheckResult]
    let run: LanguageModelTrainingRun
    /// ‖∂L_T/∂h_{T−k}‖, k = 0 … T−1, before and after training.
    let flowUntrained: [Double]
    let flowTrained: [Double]
    let finalSample: String
    let files: [String]
    var validationLoss: Double { run.finalValidationLoss }
}

/// metrics.json and the two plots. Returns the paths written.
func writeWeek05Outputs(config: Week05Config, configJSON: [String: JSONValue], data: CharacterData,
                        run: LanguageModelTrainingRun, flowUntrained: [Double], flowTrained: [Double],
                        parameterCount: Int) throws -> [String] {
    let metrics = MetricsLog(week: "Week05RNN", config: configJSON)
    run.history.forEach(metrics.record)
    var final: [String: JSONValue] = [
        "steps": .number(Double(run.stepsDone)), "seconds": .number(run.seconds),
        "ms_per_step": .number(run.medianStepMilliseconds), "parameters": .number(Double(parameterCount)),
        "unigram_entropy": .number(data.unigramEntropy),
        "gradient_norm_steps_back_untrained": .array(flowUntrained.map { .number($0) }),
        "gradient_norm_steps_back_trained": .array(flowTrained.map { .number($0) }),
    ]
    if let divergence = run.divergence {
        final["diverged"] = .string(divergence)
    } else {
        final["val_loss"] = .number(run.finalValidationLoss)
        final["val_bits_per_char"] = .number(run.finalValidationLoss / natsPerBit)
    }
    var files = [try metrics.write(final: final, to: config.out)] + run.checkpoints
    guard config.plots else { return files }

    let steps = run.history.map { $0["step"]! }
    let lossPlot = Plot.lines(title: "Week 5: char-RNN (H \(config.hidden), T \(config.block)) loss",
                              xLabel: "training step", yLabel: "cross-entropy (nats/char)", series: [
        Series("train (mean since last eval)", x: steps, y: run.history.map { $0["train_loss"]! }),
        Series("validation", x: steps, y: run.history.map { $0["val_loss"]! }),
        Series("unigram entropy", x: [0, steps.last ?? 1], y: [data.unigramEntropy, data.unigramEntropy], dashed: true),
    ])
    let back = (0..<flowTrained.count).map(Double.init)
    let flowPlot = Plot.lines(title: "‖∂L/∂h‖ k steps back from the loss at step T (log scale)",
                              xLabel: "steps back from the loss (k)", yLabel: "gradient norm", series: [
        Series("untrained", x: back, y: flowUntrained),
        Series("trained (\(run.stepsDone) steps)", x: back, y: flowTrained),
    ], logY: true)
    for (name, svg) in [("loss.svg", lossPlot), ("gradient_flow.svg", flowPlot)] {
        let path = joinPath(config.out, name)
        try writeTextFile(svg, to: path)
        files.append(path)
    }
    return files
}

/// The headline numbers.
func week05Summary(_ result: Week05Result) -> [String] {
    let run = result.run
    var lines = ["", "summary:"]
    if let divergence = run.divergence {
        lines.append("  " + divergence)
    } else {
        let loss = run.finalValidationLoss
        lines.append("  validation loss \(formatFixed(loss, digits: 3)) nats/char = \(formatFixed(loss / natsPerBit, digits: 3)) bits/char "
                     + "(unigram entropy \(formatFixed(result.data.unigramEntropy, digits: 3)), perplexity \(formatFixed(exp(loss), digits: 2)))")
    }
    lines.append("  \(run.stepsDone) steps in \(formatFixed(run.seconds, digits: 1)) s, median \(formatFixed(run.medianStepMilliseconds, digits: 2)) ms/step")
    let k = min(result.flowTrained.count - 1, 20)
    if k > 0 {
        lines.append("  gradient reaching \(k) steps back, relative to the last step: untrained "
                     + formatScientific(result.flowUntrained[k] / result.flowUntrained[0]) + ", trained "
                     + formatScientific(result.flowTrained[k] / result.flowTrained[0]))
    }
    return lines
}

/// The whole lesson (main.swift's sections) as one function, for the tests.
///   arguments: a command line, e.g. ["Week05RNN", "--quick", "--out", dir].
func runWeek05(arguments: [String], log: (String) -> Void = { _ in }) throws -> Week05Result {
    let options = Options(program: "Week05RNN", summary: week05Description, arguments: arguments)
    let config = Week05Config(options)
    options.finish()
    Threads.count = config.threads
    let data = try CharacterData.load(corpus: config.corpus, prompt: config.prompt)
    var rng = SplitMix64(seed: config.seed)
    let model = RecurrentLanguageModel(core: RNN(inputSize: data.vocabulary.size, hiddenSize: config.hidden, rng: &rng), rng: &rng)
    let checks = checkWeek05Backward(seed: config.seed)
    let flowUntrained = try measureGradientFlow(model, validation: data.validation, batch: config.batch, steps: config.block)
    let newline = data.vocabulary.id(of: "\n") ?? 0
    let run = try trainLanguageModel(model, train: data.train, validation: data.validation, tokenizer: data.vocabulary,
                                     config: config.training(configJSON: JSONValue.object(options.config).serialized(pretty: false),
                                                             startToken: newline),
                                     label: "rnn", rng: &rng, resume: config.resume, log: log)
    let flowTrained = try measureGradientFlow(model, validation: data.validation, batch: config.batch, steps: config.block)
    let sample = try sampleText(model, tokenizer: data.vocabulary, prompt: config.prompt, count: config.sampleLength,
                                sampling: config.sampling, startToken: newline, rng: &rng)
    let files = try writeWeek05Outputs(config: config, configJSON: options.config, data: data, run: run,
                                       flowUntrained: flowUntrained, flowTrained: flowTrained,
                                       parameterCount: model.parameters.scalarCount)
    return Week05Result(config: config, data: data, gradientCheck: checks, run: run, flowUntrained: flowUntrained,
                        flowTrained: flowTrained, finalSample: sample, files: files)
}

/// The program's one-line description (--help).
let week05Description = "a character-level tanh RNN on Shakespeare, backpropagation through time by hand"
