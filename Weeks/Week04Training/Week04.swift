// Week 04's lesson, top to bottom: `runWeek04`, the one path the program (main.swift, which
// reads the config and calls it) and the tests both run.
import Shared

/// The whole week 4 run: data (or a checkpoint to resume), model, checks, training, the test
/// set once, outputs. Everything runs on `config.threads` threads (bound here, for this run
/// only). `log` gets every line the program prints; the tests pass nothing and run quietly.
func runWeek04(_ config: Week04Config, log: (String) -> Void = { _ in }) throws -> Week04Result {
    try Threads.$count.withValue(config.threads) {
        try runWeek04Steps(config, log: log)
    }
}

private func runWeek04Steps(_ requested: Week04Config, log: (String) -> Void) throws -> Week04Result {
    // MARK: 2. Data: train / validation (model selection) / test (touched once, at the end)
    let trainer: Trainer, data: Week04Data
    if let path = requested.resume {
        // A checkpoint holds the config, weights, optimizer state, generators and history;
        // what was typed now decides only how far to go, where to write and on how many threads.
        (trainer, data) = try Trainer.resume(from: path, data: loadWeek04Data) { saved in
            if requested.epochsGiven { saved.epochs = requested.epochs }
            saved.stopAfter = requested.stopAfter
            saved.out = requested.out
            saved.plots = requested.plots
            saved.threads = requested.threads
            saved.gradientCheck = requested.gradientCheck
        }
        log("resumed from \(path) at epoch \(trainer.epochsDone) (step \(trainer.optimizer.stepCount))")
    } else {
        data = try loadWeek04Data(requested)
        // MARK: 3. Model: Linear → act → Dropout → ... → Linear, weights drawn from --seed
        trainer = Trainer(config: requested, data: data)
    }
    let config = trainer.config   // the checkpoint's, or the data set that actually loaded
    data.notes.forEach(log)
    log("config: " + JSONValue.object(config.json).serialized())
    log("model: " + trainer.model.layers.map { layer in
        if let linear = layer as? Linear { return "Linear(\(linear.inFeatures), \(linear.outFeatures))" }
        if let dropout = layer as? Dropout { return "Dropout(\(dropout.probability))" }
        return "\(type(of: layer))"
    }.joined(separator: " → ") + ", \(trainer.model.parameterCount) parameters; \(trainer.optimizer.name), "
        + "\(trainer.loader.batchCount) steps per epoch")

    // MARK: 4. Check: every module's backward against finite differences; L2 vs decoupled decay
    var checks: [GradientCheckResult] = []
    if config.gradientCheck {
        checks = checkWeek04Modules(seed: config.seed)
        let worst = checks.map(\.error).max() ?? 0
        log("gradient check (Linear, ReLU, GELU, Tanh, Dropout with a fixed mask, a Sequential through the loss): "
            + "worst relative error \(formatScientific(worst)) \(checks.allSatisfy(\.passed) ? "ok" : "FAILED")")
        for failed in checks where !failed.passed { log("  \(failed)") }
        log(compareWeightDecay().line)
    }

    // MARK: 5. Train: for batch in loader → zero grads, forward, loss, backward, step; validate each epoch
    let comparison = runExperiment(config, data: data, log: log)    // --experiment: several runs, one chart
    var stopReason = "experiment only"
    if config.experiment == .none {
        stopReason = try train(trainer, log: log)                    // checkpoints every epoch and at the best
    }

    // MARK: 6. Evaluate: the test set, once, with the best-validation weights
    let test = config.experiment == .none && trainer.divergence == nil ? evaluate(trainer.model, on: data.test) : nil

    // MARK: 7. Plots, metrics.json and the summary
    var result = Week04Result(config: config, history: trainer.history, batchLosses: trainer.batchLosses, test: test,
                              stopReason: stopReason, divergence: trainer.divergence, bestEpoch: trainer.bestEpoch,
                              parameters: trainer.model.parameters, comparison: comparison, gradientCheck: checks,
                              files: [])
    result.files = try writeWeek04Outputs(result, data: data, schedule: trainer.schedule,
                                          totalSteps: config.epochs * trainer.loader.batchCount)
    week04Summary(result, data: data).forEach(log)
    log("wrote " + result.files.joined(separator: ", "))
    return result
}
