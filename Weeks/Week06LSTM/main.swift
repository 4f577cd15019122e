// Week 06: the LSTM. Its cell state c_t is changed only by gating (c_t = f ⊙ c_{t−1} + i ⊙ g),
// so gradient flows back through many steps without being squashed by tanh' and Whh at every
// step as in week 5's RNN. We train both cells on the same data, with the same hidden size,
// steps, batches and optimizer, and compare; then we turn gradient clipping off at a high
// learning rate and watch what it was doing.
//
// Read, in order:
//   Shared/NN/LSTM.swift        the cell (gates i, f, g, o; forget bias 1) and its BPTT
//   main.swift                  this file: the lesson, top to bottom
//   Week06.swift                one training run per cell, the clipping experiment, outputs
//   Shared/NN/RNN.swift, RNNLanguageModel.swift, LanguageModelTraining.swift, Sampling.swift
//                               week 5's pieces, reused
//
// Run:   swift run -c release Week06LSTM                          (both experiments, 3-8 min)
//        swift run -c release Week06LSTM --experiment rnn-vs-lstm --steps 1500
//        swift run -c release Week06LSTM --experiment clipping --clip-lr 5e-2
// Test:  swift test --filter Week06
// Expect: after 3000 steps at Adam lr 5e-3 the LSTM's validation loss is ~0.13 nats/char
//         below the RNN's (1.77 vs 1.90); without clipping the gradient norm spikes and the
//         loss jumps; plots and metrics.json in runs/Week06/.
import Shared

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week06LSTM", summary: week06Description)
let config = Week06Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.threads) {

    // MARK: 2. Data: the same characters, split and batches as week 5
    let data = check { try CharacterData.load(corpus: config.corpus, prompt: config.prompt) }
    say(data.description)

    // MARK: 3. Model: one-hot -> LSTM (H) -> linear head, next to week 5's RNN of the same H
    let lstmParameters = makeModel(cell: "lstm", data: data, config: config, seed: config.seed).parameters.scalarCount
    let rnnParameters = makeModel(cell: "rnn", data: data, config: config, seed: config.seed).parameters.scalarCount
    say("models: one-hot \(data.vocabulary.size) -> LSTM \(config.hidden) (forget bias \(config.forgetBias)) -> "
        + "\(data.vocabulary.size) logits, \(lstmParameters) parameters; the RNN of week 5 with H \(config.hidden) has "
        + "\(rnnParameters) (the LSTM has four gates' worth of weights)")

    // MARK: 4. Check: the LSTM's BPTT against finite differences, through 6 steps
    let checks = checkWeek06Backward(seed: config.seed)
    say("gradient check (every weight, bias and the initial h and c, 6 steps back): worst relative error "
        + formatScientific(checks.map(\.error).max() ?? 0) + (checks.allSatisfy(\.passed) ? " ok" : " FAILED"))
    for failed in checks where !failed.passed { say("  \(failed)") }

    // MARK: 5. Train: RNN and LSTM, same everything (Adam lr, clip, batches, steps)
    var rnn: CellRun?, lstm: CellRun?
    let newline = data.vocabulary.id(of: "\n") ?? 0
    if config.runsComparison {
        say("training the RNN, then the LSTM: \(config.steps) steps each, Adam lr \(config.learningRate), "
            + (config.clip > 0 ? "clip \(config.clip)" : "no clipping") + ", batch \(config.batch) x \(config.block)")
        rnn = check { try trainCell("rnn", data: data, config: config, training: config.training(startToken: newline), label: "rnn ", log: say) }
        lstm = check { try trainCell("lstm", data: data, config: config, training: config.training(startToken: newline), label: "lstm", log: say) }
    }

    // MARK: 6. Clipping on vs off, at a learning rate where it matters
    var clipped: LanguageModelTrainingRun?, unclipped: LanguageModelTrainingRun?
    if config.runsClipping {
        say("clipping experiment: \(config.clipCell.uppercased()) at lr \(config.clipLearningRate), \(config.clipSteps) steps, clip on vs off")
        clipped = check { try trainClippingRun(clipped: true, data: data, config: config, log: say) }
        unclipped = check { try trainClippingRun(clipped: false, data: data, config: config, log: say) }
    }

    // MARK: 7. Samples side by side, plots, metrics.json and the summary
    if let rnn, let lstm {
        say("\nfinal samples (temperature \(config.temperature)):")
        sideBySide(rnn.sample, lstm.sample, titles: ("RNN", "LSTM")).forEach(say)
    }
    let partial = Week06Result(config: config, data: data, gradientCheck: checks, rnn: rnn, lstm: lstm,
                               clipped: clipped, unclipped: unclipped, files: [])
    let files = check { try writeWeek06Outputs(partial, configJSON: options.config) }
    week06Summary(partial).forEach(say)
    say("wrote " + files.joined(separator: ", "))
}
