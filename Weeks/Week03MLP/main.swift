// Week 03: a multi-layer perceptron from scratch, NumPy style: flat Float buffers, matrix
// multiplies, and a backward pass written out layer by layer (no autograd).
//
// Read, in order:
//   MLP.swift       the model: z = h·W + b, activations, softmax cross-entropy; the backward
//                   of each layer by hand; SGD with momentum; the gradient check
//   main.swift      this file: the lesson, top to bottom
//   Training.swift  data (MNIST / Fashion-MNIST / embedded digits), the epoch loop over
//                   preallocated buffers, evaluation, dead ReLUs, hidden-unit symmetry
//   Config.swift    every flag and the per-dataset defaults;  Run.swift  plots and metrics
//
// Run:   swift run -c release Week03MLP                       (MNIST, else the 8x8 digits)
//        swift run -c release Week03MLP --dataset fashion-mnist
//        swift run -c release Week03MLP --experiment symmetry | vanishing | dead-relu
// Test:  swift test --filter Week03
// Expect: digits about 97-98% test accuracy in ~20 s; Fashion-MNIST about 89% after 20
//         epochs; plots and metrics.json in runs/Week03/.
import Shared

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week03MLP",
                      summary: "a 784-128-64-10 MLP trained with mini-batch SGD, backward written by hand")
var config = Week03Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.threads) {

    // MARK: 2. Data: MNIST if present (or --download), Fashion-MNIST, else the embedded digits
    let data = check { try loadWeek03Data(config) }
    data.notes.forEach(say)
    config = config.resolved(for: data)   // lr, momentum, epochs and layer sizes now known

    // MARK: 3. Model: weights (in, out) per layer, biases zero
    var rng = SplitMix64(seed: config.seed)
    let model = MLP(layerSizes: config.layers!, activation: config.activation,
                    initialization: config.initialization, rng: &rng)
    say("model: \(config.layers!.map(String.init).joined(separator: "-")), \(config.activation.rawValue), "
        + "\(config.initialization.rawValue) init, \(model.parameterCount) parameters; "
        + "SGD lr \(config.learningRate!) (\(config.schedule)), momentum \(config.momentum!), batch \(config.batchSize!)")

    // MARK: 4. Check: the hand-written backward against finite differences, on a tiny copy
    let checks = checkMLPBackward(activation: config.activation, seed: config.seed)
    let worst = checks.map(\.error).max() ?? 0
    say("gradient check (7-6-5-4 \(config.activation.rawValue) net, every weight and bias): "
        + "worst relative error \(formatScientific(worst)) \(checks.allSatisfy(\.passed) ? "ok" : "FAILED")")
    for failed in checks where !failed.passed { say("  \(failed)") }

    // MARK: 5. Train: shuffle, gather a batch, forward, loss, backward, update; validate per epoch
    let run = trainMLP(model, data: data, config: config, rng: &rng, log: say)

    // MARK: 6. Evaluate on the held-out test set
    let test = evaluate(model, on: data.test, pool: WorkspacePool(layerSizes: model.layerSizes))

    // MARK: 7. Plots, metrics.json and the summary
    let files = check {
        try writeWeek03Outputs(model: model, data: data, config: config, run: run, test: test)
    }
    let result = Week03Result(config: config, history: run.history, batchLosses: run.batchLosses, test: test,
                              divergence: run.divergence, gradientCheck: checks, files: files)
    week03Summary(result, data: data).forEach(say)
    say("wrote " + files.joined(separator: ", "))
}
