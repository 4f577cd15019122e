// Week 2: gradients and optimization, on linear models.
//
// What it teaches: derive a loss's gradient by hand (MSE, binary cross-entropy, softmax
// cross-entropy) and trust it only after finite differences agree; gradient descent finds the
// same answer as the closed-form normal equations; full batch vs SGD vs mini-batch vs momentum;
// why a learning rate above 2/λmax diverges (and how to detect it); logistic regression draws
// a straight boundary (fine on blobs, wrong on moons); softmax regression on the 8×8 digits is
// the linear baseline the MLP of week 3 must beat.
//
// Read, in order: LinearRegression.swift, LogisticRegression.swift (logistic and softmax),
// Optimization.swift, then this file (the run, step by step), with Week02.swift (what each
// step does) beside it.
// Run:    swift run -c release Week02LogisticRegression        (--help for every flag)
// Test:   swift test --filter Week02
// Expect: gradient checks around 1e-5 (tolerance 1e-3); GD within 1e-4 of the normal
//         equations; the too-large learning rate reported as DIVERGED; moons ≈ 85-90%,
//         blobs ≈ 97-99%; digits test accuracy ≈ 95-96%. Plots and metrics.json in runs/Week02/.
import Shared

// MARK: 1. Config: every knob, with its default (--quick shrinks the run for tests)
let options = Options(program: "Week02LogisticRegression",
                      summary: "Linear, logistic and softmax regression by hand-derived gradients; optimizers compared.")
let common = commonFlags(options, week: "Week02LogisticRegression")
var config = Week02Config(quick: common.quick)
config.seed = common.seed
config.out = common.out
config.rows = options.int("rows", default: config.rows, help: "regression: training examples")
config.features = options.int("features", default: config.features, help: "regression: input features")
config.noise = options.float("noise", default: config.noise, help: "regression: standard deviation of the label noise")
config.gdSteps = options.int("gd-steps", default: config.gdSteps, help: "regression: full-batch steps (normal-equation check, sweep)")
config.optimizerSteps = options.int("optimizer-steps", default: config.optimizerSteps, help: "steps of each optimizer in the comparison")
config.batchSize = options.int("batch-size", default: config.batchSize, help: "mini-batch size in the comparison")
config.points = options.int("points", default: config.points, help: "logistic regression: points in moons and in blobs")
config.logisticSteps = options.int("logistic-steps", default: config.logisticSteps, help: "logistic regression: full-batch steps")
config.logisticLearningRate = options.float("logistic-learning-rate", default: config.logisticLearningRate,
                                            help: "logistic regression: step size")
config.epochs = options.int("epochs", default: config.epochs, help: "softmax regression: passes over the digits")
config.digitsBatchSize = options.int("digits-batch-size", default: config.digitsBatchSize, help: "softmax regression: mini-batch size")
config.learningRate = options.float("learning-rate", default: config.learningRate, help: "softmax regression: step size")
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(common.threads) {

    check { try validateWeek02(config) }
    let clock = Stopwatch()
    var rng = SplitMix64(seed: config.seed)

    // MARK: 2. Data: a regression problem with a known answer, moons and blobs, the 8×8 digits
    let data = check { try loadWeek02Data(config, rng: &rng) }

    // MARK: 3. Gradient checks: every hand-derived gradient against finite differences
    let gradientChecks = checkWeek02Gradients(rng: &rng)
    for result in gradientChecks { say("gradient check \(result)") }

    // MARK: 4. Linear regression: gradient descent lands on the normal-equation solution
    let normal = check { try linearRegressionAgainstNormalEquations(data, config, rng: &rng) }

    // MARK: 5. Optimizers on the same problem, then a learning-rate sweep that finds divergence
    let optimizerRuns = compareOptimizers(data, config, lambdaMax: normal.lambdaMax, rng: &rng)
    let sweep = learningRateSweep(data, config, lambdaMax: normal.lambdaMax, rng: &rng)

    // MARK: 6. Logistic regression on moons and blobs (full-batch GD): a straight boundary each
    let logistic = logisticRegressionOnToySets(data, config)

    // MARK: 7. Softmax regression on the digits: the linear baseline week 3 must beat
    let softmaxRun = check { try softmaxRegressionOnDigits(data, config, clock: clock, rng: &rng) }

    // MARK: 8. Plots, metrics.json and the summary
    _ = check {
        try writeWeek02Outputs(data, config, gradientChecks: gradientChecks, normal: normal,
                               optimizerRuns: optimizerRuns, sweep: sweep, logistic: logistic,
                               softmaxRun: softmaxRun, seconds: clock.seconds, configJSON: options.config)
    }

    // MARK: 9. What to look at next
    say("open \(joinPath(config.out, "optimizers.svg")) and learning_rates.svg: the same problem, four ways down and three step sizes")
}
