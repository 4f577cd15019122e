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
// Optimization.swift, Week02.swift (`runWeek02`: the run step by step), then this file.
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

// MARK: 2-8. Data, gradient checks, regression vs normal equations, optimizers and the
// learning-rate sweep, logistic regression, softmax regression on digits, plots and metrics
// (Week02.swift: runWeek02 walks through them in this order, printing as it goes.)
let result = check { try runWeek02(config, configJSON: options.config) }

// MARK: 9. What to look at next
say("open \(joinPath(config.out, "optimizers.svg")) and learning_rates.svg: the same problem, four ways down and three step sizes")
