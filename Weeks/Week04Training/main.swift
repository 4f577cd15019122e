// Week 04: the modern training workflow, the way PyTorch users work, still without autograd.
// The week 3 MLP becomes reusable modules with hand-written backward passes; around it: a
// data loader, four optimizers, learning-rate schedules, dropout, weight decay, early
// stopping on the validation loss, checkpoints with --resume, and one config type.
//
// Read, in order:
//   Shared/NN/Module.swift      the Module protocol (forward keeps a cache, backward adds into
//                               parameter gradients) and Sequential
//   Shared/NN/Layers.swift      Linear, ReLU/GELU/Tanh, inverted Dropout;  Losses.swift
//   Shared/NN/Optimizers.swift  SGD, momentum/Nesterov, Adam, AdamW;  Schedules.swift
//   Shared/Data/DataLoader.swift  seeded shuffling, batches, the epoch iterator
//   Model.swift                 the MLP from modules, gradient checks of every module
//   Regularization.swift        weight decay: L2 in the loss vs decoupled (why AdamW exists)
//   main.swift                  this file: the lesson, top to bottom
//   Training.swift              the epoch loop, validation, early stopping, checkpoints
//   Config.swift, Run.swift     flags / --config, experiments, plots and metrics
//
// Run:   swift run -c release Week04Training --dataset fashion-mnist       (the default run)
//        swift run -c release Week04Training --experiment optimizers | regularization
//        swift run -c release Week04Training --stop-after 5, then --resume runs/Week04/last.safetensors
// Test:  swift test --filter Week04
// Expect: Fashion-MNIST 89.8% test accuracy (early stop after 26 of 30 epochs, median 3.3 s per
//         epoch on 2 cores); the 8x8 digits 98.6% in ~15 s; metrics.json, loss.svg, lr.svg and
//         checkpoints (last.safetensors, best.safetensors) in runs/Week04/.
import Shared

// MARK: 1. Config: defaults < --config FILE < flags; printed, and stored in metrics.json and checkpoints
let options = Options(program: "Week04Training",
                      summary: "an MLP built from modules, trained with AdamW, dropout, a warmup-cosine schedule and early stopping")
var config = Week04Config(options)
options.finish()

// MARK: 2. Data: train / validation (model selection) / test (touched once, at the end)
var trainer: Trainer
let data: Week04Data
if let path = config.resume {
    // A checkpoint holds the config, weights, optimizer state, generators and history.
    (trainer, data) = check {
        try Trainer.resume(from: path, data: loadWeek04Data) { saved in
            if config.epochsGiven { saved.epochs = config.epochs }
            saved.stopAfter = config.stopAfter; saved.out = config.out
            saved.plots = config.plots; saved.threads = config.threads
        }
    }
    config = trainer.config
    say("resumed from \(path) at epoch \(trainer.epochsDone) (step \(trainer.optimizer.stepCount))")
} else {
    data = check { try loadWeek04Data(config) }
    // MARK: 3. Model: Linear → act → Dropout → ... → Linear, weights drawn from --seed
    trainer = Trainer(config: config, data: data)
    config = trainer.config   // the data set that actually loaded
}
data.notes.forEach(say)
say("config: " + JSONValue.object(config.json).serialized())
say("model: " + trainer.model.layers.map { layer in
    if let linear = layer as? Linear { return "Linear(\(linear.inFeatures), \(linear.outFeatures))" }
    if let dropout = layer as? Dropout { return "Dropout(\(dropout.probability))" }
    return "\(type(of: layer))"
}.joined(separator: " → ") + ", \(trainer.model.parameterCount) parameters; \(trainer.optimizer.name), "
    + "\(trainer.loader.batchCount) steps per epoch")

// MARK: 4. Check: every module's backward against finite differences; L2 vs decoupled decay
let checks = checkWeek04Modules(seed: config.seed)
let worst = checks.map(\.error).max() ?? 0
say("gradient check (Linear, ReLU, GELU, Tanh, Dropout with a fixed mask, a Sequential through the loss): "
    + "worst relative error \(formatScientific(worst)) \(checks.allSatisfy(\.passed) ? "ok" : "FAILED")")
for failed in checks where !failed.passed { say("  \(failed)") }
say(compareWeightDecay().line)

// MARK: 5. Train: for batch in loader → zero grads, forward, loss, backward, step; validate each epoch
let comparison = runExperiment(config, data: data, log: say)    // --experiment: several runs, one chart
var stopReason = "experiment only"
if config.experiment == .none {
    stopReason = check { try train(trainer, log: say) }        // checkpoints every epoch and at the best
}

// MARK: 6. Evaluate: the test set, once, with the best-validation weights
let test = config.experiment == .none && trainer.divergence == nil ? evaluate(trainer.model, on: data.test) : nil

// MARK: 7. Plots, metrics.json and the summary
var result = Week04Result(config: config, history: trainer.history, batchLosses: trainer.batchLosses, test: test,
                          stopReason: stopReason, divergence: trainer.divergence, bestEpoch: trainer.bestEpoch,
                          parameters: trainer.model.parameters, comparison: comparison, gradientCheck: checks, files: [])
result.files = check {
    try writeWeek04Outputs(result, data: data, schedule: trainer.schedule,
                           totalSteps: config.epochs * trainer.loader.batchCount)
}
week04Summary(result, data: data).forEach(say)
say("wrote " + result.files.joined(separator: ", "))
if trainer.divergence != nil { fail("training diverged (see above): rerun with a smaller --lr") }
