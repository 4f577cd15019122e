// Week 05: a character-level recurrent network. A tanh RNN reads Shakespeare one character at
// a time and learns to predict the next one; backpropagation through time (BPTT) is written
// out by hand, gradients are clipped by their global norm, Adam (week 4) does the updates.
//
// Read, in order:
//   Shared/NN/RNN.swift              the cell: h_t = tanh(x_t·Wxh + h_{t−1}·Whh + b), and BPTT
//   Shared/NN/RNNLanguageModel.swift the head (logits = h·W + b), the loss, one-token decoding
//   main.swift                       this file: the lesson, top to bottom
//   Shared/Training/LanguageModelTraining.swift  the training loop: chunks, clipping, Adam, validation,
//                                    checkpoints (--resume); Sampling.swift: temperature, top-k/p
//   Shared/Data/TextData.swift       the split, the chunk schedule, unigram entropy
//   Week05.swift                     data, gradient check, the gradient-flow picture, outputs
//   Shared/NN/RNNGradientFlow.swift  how ‖∂L/∂h‖ shrinks step by step back in time
//
// Run:   swift run -c release Week05RNN                 (embedded Shakespeare, 3000 steps)
//        swift run -c release Week05RNN --carry         (truncated BPTT over a stream)
//        swift run -c release Week05RNN --prompt "ROMEO:" --temperature 0.5 --top-k 10
//        swift run -c release Week05RNN --steps 6000 --resume runs/Week05/checkpoint.safetensors
// Test:  swift test --filter Week05
// Expect: loss ≈ ln 75 ≈ 4.3 at step 1, below the unigram entropy (3.31) within ~100 steps,
//         validation ≈ 1.89 nats/char (2.73 bits) after 3000 steps (1-2 min); samples with
//         speaker names and line breaks; loss.svg, gradient_flow.svg and metrics.json in
//         runs/Week05/.
import Shared

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week05RNN", summary: week05Description)
let config = Week05Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.threads) {

    // MARK: 2. Data: characters -> ids, first 90% to train on, last 10% to validate on
    let data = check { try CharacterData.load(corpus: config.corpus, prompt: config.prompt) }
    say(data.description)

    // MARK: 3. Model: one-hot characters -> tanh RNN (H) -> linear head -> V logits
    var rng = SplitMix64(seed: config.seed)
    let rnn = RNN(inputSize: data.vocabulary.size, hiddenSize: config.hidden, rng: &rng)
    let model = RecurrentLanguageModel(core: rnn, rng: &rng)
    say("model: one-hot \(data.vocabulary.size) -> RNN \(config.hidden) (tanh) -> \(data.vocabulary.size) logits, "
        + "\(model.parameters.scalarCount) parameters; \(config.optimizer == .adam ? "Adam" : "AdamW") lr \(config.learningRate), "
        + (config.clip > 0 ? "clip \(config.clip)" : "no clipping") + ", batch \(config.batch) x \(config.block) characters"
        + (config.carry ? ", hidden state carried across chunks" : ", zero state per chunk"))

    // MARK: 4. Check: BPTT against finite differences, through 6 steps, on a tiny RNN
    let checks = checkWeek05Backward(seed: config.seed)
    say("gradient check (every weight, bias and the initial state, 6 steps back): worst relative error "
        + formatScientific(checks.map(\.error).max() ?? 0) + (checks.allSatisfy(\.passed) ? " ok" : " FAILED"))
    for failed in checks where !failed.passed { say("  \(failed)") }

    // The gradient-flow picture of the untrained net, measured before training
    let flowUntrained = check {
        try measureGradientFlow(model, validation: data.validation, batch: config.batch, steps: config.block)
    }

    // MARK: 5. Train: batch of chunks, forward over T steps, loss, BPTT, clip, Adam; validate
    let newline = data.vocabulary.id(of: "\n") ?? 0
    let run = check {
        try trainLanguageModel(model, train: data.train, validation: data.validation, tokenizer: data.vocabulary,
                               config: config.training(configJSON: JSONValue.object(options.config).serialized(pretty: false),
                                                       startToken: newline),
                               label: "rnn", rng: &rng, resume: config.resume, log: say)
    }

    // MARK: 6. Evaluate and sample: the final validation loss, and text continuing --prompt
    let flowTrained = check {
        try measureGradientFlow(model, validation: data.validation, batch: config.batch, steps: config.block)
    }
    let sample = check {
        try sampleText(model, tokenizer: data.vocabulary, prompt: config.prompt, count: config.sampleLength,
                       sampling: config.sampling, startToken: newline, rng: &rng)
    }
    say("--- final sample (temperature \(config.temperature)) ---\n\(sample)\n---")

    // MARK: 7. Plots, metrics.json and the summary
    let files = check {
        try writeWeek05Outputs(config: config, configJSON: options.config, data: data, run: run,
                               flowUntrained: flowUntrained, flowTrained: flowTrained,
                               parameterCount: model.parameters.scalarCount)
    }
    let result = Week05Result(config: config, data: data, gradientCheck: checks, run: run, flowUntrained: flowUntrained,
                              flowTrained: flowTrained, finalSample: sample, files: files)
    week05Summary(result).forEach(say)
    say("wrote " + files.joined(separator: ", "))
    if run.divergence != nil { fail("training diverged") }
}
