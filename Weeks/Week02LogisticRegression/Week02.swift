// Week 2's steps, one function each, in the order main.swift calls them: data, linear
// regression against the normal equations, four optimizers and a learning-rate sweep,
// logistic regression on moons and blobs, softmax regression on the digits; plots, metrics.
// `runWeek02` chains the same steps for the tests. Read this after the model files.
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every knob of the week, with its default. `--quick` shrinks the run to about a second.
struct Week02Config {
    var seed: UInt64 = 1337
    var out = "runs/Week02/"
    /// Regression problem: examples, features, label noise; full-batch GD steps.
    var rows = 512
    var features = 8
    var noise: Float = 0.5
    var gdSteps = 200
    /// Optimizer comparison: steps for each of the four variants, and the mini-batch size.
    var optimizerSteps = 300
    var batchSize = 32
    /// Logistic regression: points per toy set, full-batch GD steps and step size.
    var points = 400
    var logisticSteps = 500
    var logisticLearningRate: Float = 1
    /// Softmax regression on the digits: epochs, mini-batch size, step size.
    var epochs = 30
    var digitsBatchSize = 32
    var learningRate: Float = 0.5

    init(quick: Bool = false) {
        if quick {
            rows = 256
            optimizerSteps = 100
            points = 200
            logisticSteps = 200
            epochs = 5
        }
    }

    /// The configuration as written into metrics.json (snake_case keys).
    var json: [String: JSONValue] {
        ["seed": .number(Double(seed)), "out": .string(out), "rows": .number(Double(rows)),
         "features": .number(Double(features)), "noise": .number(Double(noise)),
         "gd_steps": .number(Double(gdSteps)), "optimizer_steps": .number(Double(optimizerSteps)),
         "batch_size": .number(Double(batchSize)), "points": .number(Double(points)),
         "logistic_steps": .number(Double(logisticSteps)),
         "logistic_learning_rate": .number(Double(logisticLearningRate)), "epochs": .number(Double(epochs)),
         "digits_batch_size": .number(Double(digitsBatchSize)), "learning_rate": .number(Double(learningRate))]
    }
}

/// One entry of the learning-rate sweep.
struct LearningRateTrial {
    var label: String
    var learningRate: Float
    var run: OptimizerRun
}

/// What the week's run produced.
struct Week02Result {
    var gradientChecks: [GradientCheckResult]
    /// Largest |GD − normal equations| over the weights and the bias.
    var normalEquationGap: Double
    var optimizerRuns: [OptimizerRun]
    var stabilityLimit: Double
    var sweep: [LearningRateTrial]
    var moonsAccuracy: Double, blobsAccuracy: Double
    var digitsTestAccuracy: Double, digitsTrainAccuracy: Double
    var digitsHistory: [[String: Double]]
    var files: [String]
    var seconds: Double
}

/// Rejects a configuration the run cannot use, with one line saying which flags and why.
func validateWeek02(_ config: Week02Config) throws {
    guard config.rows >= 2 * (config.features + 1), config.features >= 1 else {
        throw WorkbookError("need --rows ≥ 2·(--features + 1) and --features ≥ 1 (got \(config.rows), \(config.features))")
    }
    guard config.points >= 10, config.epochs >= 1, config.gdSteps >= 1, config.optimizerSteps >= 1,
          config.logisticSteps >= 1, config.batchSize >= 1, config.digitsBatchSize >= 1 else {
        throw WorkbookError("--points must be ≥ 10; steps, epochs and batch sizes ≥ 1")
    }
    guard config.learningRate > 0, config.logisticLearningRate > 0, config.noise >= 0 else {
        throw WorkbookError("learning rates must be positive and --noise non-negative")
    }
}

/// The week's data: a regression problem with a known answer (x: (N, D), y: (N)), moons and
/// blobs (points (n, 2), labels in {0, 1}), and the 8×8 digits split 80/20.
struct Week02Data {
    var regression: (x: [Float], y: [Float], trueWeight: [Float], trueBias: Float)
    var moons: (points: [Float], labels: [Int])
    var blobs: (points: [Float], labels: [Int])
    var digits: LabeledImages
    var digitsTrain: LabeledImages
    var digitsTest: LabeledImages
}

func loadWeek02Data(_ config: Week02Config, rng: inout SplitMix64) throws -> Week02Data {
    let N = config.rows, D = config.features
    let regression = makeRegressionData(rows: N, features: D, noise: config.noise, rng: &rng)
    let moons = ToyData.moons(count: config.points, noise: 0.2, rng: &rng)
    let blobs = ToyData.blobs(count: config.points, centers: 2, spread: 1.0, rng: &rng)
    let digits = try Digits.load()
    let (digitsTrain, digitsTest) = digits.split(trainFraction: 0.8, rng: &rng)
    say("data: regression \(N)×\(D) (noise \(config.noise)); moons and blobs, \(config.points) points each; "
        + "digits \(digitsTrain.count) train / \(digitsTest.count) test, \(digits.features) pixels")
    return Week02Data(regression: regression, moons: moons, blobs: blobs, digits: digits,
                      digitsTrain: digitsTrain, digitsTest: digitsTest)
}

/// Gradient descent on the regression problem against the closed-form normal equations.
/// Also λmax, the largest eigenvalue of the loss's Hessian: GD is stable for lr < 2/λmax.
struct NormalEquationComparison {
    var exact: (weight: [Double], bias: Double)
    var lambdaMax: Double
    var stabilityLimit: Double { 2 / lambdaMax }
    /// Largest |GD − normal equations| over the weights and the bias.
    var gap: Double
}

func linearRegressionAgainstNormalEquations(_ data: Week02Data, _ config: Week02Config,
                                            rng: inout SplitMix64) throws -> NormalEquationComparison {
    let N = config.rows, D = config.features, regression = data.regression
    let exact = try normalEquationSolution(regression.x, targets: regression.y, rows: N, features: D)
    let lambdaMax = largestHessianEigenvalue(regression.x, rows: N, features: D)
    let gd = trainLinearRegression(x: regression.x, y: regression.y, rows: N, features: D,
                                   setting: OptimizerSetting(name: "full-batch GD", batchSize: N,
                                                             learningRate: Float(1 / lambdaMax)),
                                   steps: config.gdSteps, recordEvery: max(1, config.gdSteps / 10), rng: &rng)
    var gap = abs(Double(gd.model.bias[0]) - exact.bias)
    for d in 0..<D { gap = max(gap, abs(Double(gd.model.weight[d]) - exact.weight[d])) }
    say("linear regression: GD (\(config.gdSteps) steps, lr 1/λmax = \(formatFixed(1 / lambdaMax, digits: 3))) vs normal equations: "
        + "largest difference \(formatScientific(gap)) " + (gap < 1e-4 ? "(< 1e-4: the same solution)" : "(not yet within 1e-4)"))
    return NormalEquationComparison(exact: exact, lambdaMax: lambdaMax, gap: gap)
}

/// Full-batch GD, SGD, mini-batch and momentum on the same regression problem, each for the
/// same number of steps; learning rates as fractions of 1/λmax.
func compareOptimizers(_ data: Week02Data, _ config: Week02Config, lambdaMax: Double,
                       rng: inout SplitMix64) -> [OptimizerRun] {
    let N = config.rows, D = config.features, B = min(config.batchSize, N)
    let settings = [
        OptimizerSetting(name: "full-batch GD", batchSize: N, learningRate: Float(1 / lambdaMax)),
        OptimizerSetting(name: "SGD (batch 1)", batchSize: 1, learningRate: Float(0.05 / lambdaMax)),
        OptimizerSetting(name: "mini-batch \(B)", batchSize: B, learningRate: Float(0.5 / lambdaMax)),
        OptimizerSetting(name: "momentum 0.9, batch \(B)", batchSize: B, learningRate: Float(0.05 / lambdaMax), momentum: 0.9),
    ]
    let recordEvery = max(1, config.optimizerSteps / 100)
    var optimizerRuns: [OptimizerRun] = []
    for setting in settings {
        let run = trainLinearRegression(x: data.regression.x, y: data.regression.y, rows: N, features: D, setting: setting,
                                        steps: config.optimizerSteps, recordEvery: recordEvery, rng: &rng)
        optimizerRuns.append(run)
        say("optimizer \(setting.name) (lr \(formatFixed(Double(setting.learningRate), digits: 4))): loss \(formatFixed(run.losses[0], digits: 3)) → "
            + "\(formatFixed(run.finalLoss, digits: 4)) after \(config.optimizerSteps) steps, \(run.examplesSeen.last ?? 0) examples seen")
    }
    return optimizerRuns
}

/// Full-batch GD at 0.005, 0.5 and 1.5 times the stability limit 2/λmax: too small, good,
/// and too large, which must be reported as diverged (not printed as NaN).
func learningRateSweep(_ data: Week02Data, _ config: Week02Config, lambdaMax: Double,
                       rng: inout SplitMix64) -> [LearningRateTrial] {
    let N = config.rows, D = config.features, stabilityLimit = 2 / lambdaMax
    say("learning-rate sweep: λmax of the loss's Hessian = \(formatFixed(lambdaMax, digits: 3)), so GD is stable for lr < 2/λmax = \(formatFixed(stabilityLimit, digits: 3))")
    var sweep: [LearningRateTrial] = []
    for (label, factor) in [("too small", 0.005), ("good", 0.5), ("too large", 1.5)] {
        let lr = Float(factor * stabilityLimit)
        let run = trainLinearRegression(x: data.regression.x, y: data.regression.y, rows: N, features: D,
                                        setting: OptimizerSetting(name: label, batchSize: N, learningRate: lr),
                                        steps: config.gdSteps, recordEvery: 1, rng: &rng)
        sweep.append(LearningRateTrial(label: label, learningRate: lr, run: run))
        if let step = run.divergedAtStep {
            say("  lr \(formatFixed(Double(lr), digits: 4)) (\(label)): DIVERGED at step \(step): the loss grew past \(formatScientific(divergenceFactor))× its start; stopped")
        } else {
            say("  lr \(formatFixed(Double(lr), digits: 4)) (\(label)): loss \(formatFixed(run.losses[0], digits: 3)) → \(formatFixed(run.finalLoss, digits: 4)) in \(config.gdSteps) steps")
        }
    }
    return sweep
}

/// Logistic regression (full-batch GD) on moons and on blobs: a straight boundary each.
struct LogisticFits {
    var moonsModel: LogisticRegression, moonsAccuracy: Double
    var blobsModel: LogisticRegression, blobsAccuracy: Double
}

func logisticRegressionOnToySets(_ data: Week02Data, _ config: Week02Config) -> LogisticFits {
    func fit(_ set: (points: [Float], labels: [Int])) -> (model: LogisticRegression, accuracy: Double) {
        var model = LogisticRegression(features: 2)
        var state = MomentumState(weightCount: 2, biasCount: 1)
        let count = set.labels.count, y = set.labels.map { Float($0) }
        for _ in 0..<config.logisticSteps {
            let g = model.lossAndGradients(set.points, labels: y, rows: count)
            state.step(weight: &model.weight, bias: &model.bias, gradients: g,
                       learningRate: config.logisticLearningRate, momentum: 0)
        }
        return (model, accuracy(model.predict(set.points, rows: count), set.labels))
    }
    let moons = fit(data.moons), blobs = fit(data.blobs)
    say("logistic regression: moons \(formatPercent(moons.accuracy)) (a line cannot follow the curves), blobs \(formatPercent(blobs.accuracy))")
    return LogisticFits(moonsModel: moons.model, moonsAccuracy: moons.accuracy,
                        blobsModel: blobs.model, blobsAccuracy: blobs.accuracy)
}

/// Softmax regression on the digits with mini-batch SGD: the linear baseline week 3 must beat.
/// history: one row per epoch (epoch, train_loss, test_loss, test_accuracy, seconds).
struct SoftmaxRun {
    var model: SoftmaxRegression
    var history: [[String: Double]]
    var trainAccuracy: Double, testAccuracy: Double
}

func softmaxRegressionOnDigits(_ data: Week02Data, _ config: Week02Config, clock: Stopwatch,
                               rng: inout SplitMix64) throws -> SoftmaxRun {
    let digitsTrain = data.digitsTrain, digitsTest = data.digitsTest
    var softmax = SoftmaxRegression(features: data.digits.features, classes: data.digits.classNames.count)
    var velocity = MomentumState(weightCount: softmax.weight.count, biasCount: softmax.bias.count)
    var history: [[String: Double]] = []
    let progress = Progress(total: config.epochs, label: "softmax regression")
    for epoch in 1...config.epochs {
        var lossSum = 0.0, seen = 0
        for batch in MiniBatches(count: digitsTrain.count, batchSize: config.digitsBatchSize, shuffle: true,
                                 dropLast: false, rng: &rng) {
            let (x, y) = digitsTrain.batch(batch)
            let g = softmax.lossAndGradients(x, labels: y, rows: batch.count)
            guard !hasDiverged(g.loss, initialLoss: 2.303) else {
                throw WorkbookError("softmax regression diverged in epoch \(epoch) (loss \(g.loss)); try a smaller --learning-rate")
            }
            lossSum += g.loss * Double(batch.count)
            seen += batch.count
            velocity.step(weight: &softmax.weight, bias: &softmax.bias, gradients: g,
                          learningRate: config.learningRate, momentum: 0)
        }
        let testLoss = softmax.loss(digitsTest.pixels, labels: digitsTest.labels, rows: digitsTest.count)
        let testAccuracy = accuracy(softmax.predict(digitsTest.pixels, rows: digitsTest.count), digitsTest.labels)
        history.append(["epoch": Double(epoch), "train_loss": lossSum / Double(seen), "test_loss": testLoss,
                        "test_accuracy": testAccuracy, "seconds": clock.seconds])
        progress.update(step: epoch, loss: lossSum / Double(seen), items: seen,
                        extra: "test loss \(formatFixed(testLoss, digits: 4)) | test accuracy \(formatPercent(testAccuracy))")
    }
    progress.finish()
    let testAccuracy = history.last?["test_accuracy"] ?? 0
    let trainAccuracy = accuracy(softmax.predict(digitsTrain.pixels, rows: digitsTrain.count), digitsTrain.labels)
    say("softmax regression on digits: train \(formatPercent(trainAccuracy)), test \(formatPercent(testAccuracy))")
    return SoftmaxRun(model: softmax, history: history, trainAccuracy: trainAccuracy, testAccuracy: testAccuracy)
}

/// Plots (optimizers per step and per example, the learning-rate sweep, the logistic
/// boundaries, the digits curves and weight templates), metrics.json and the summary.
/// Returns the files written.
func writeWeek02Outputs(_ data: Week02Data, _ config: Week02Config, gradientChecks: [GradientCheckResult],
                        normal: NormalEquationComparison, optimizerRuns: [OptimizerRun], sweep: [LearningRateTrial],
                        logistic: LogisticFits, softmaxRun: SoftmaxRun, seconds: Double,
                        configJSON: [String: JSONValue]? = nil) throws -> [String] {
    let N = config.rows, D = config.features, B = min(config.batchSize, N)
    let regression = data.regression, exact = normal.exact, stabilityLimit = normal.stabilityLimit
    let moons = data.moons, blobs = data.blobs, digits = data.digits
    let (moonsModel, moonsAccuracy) = (logistic.moonsModel, logistic.moonsAccuracy)
    let (blobsModel, blobsAccuracy) = (logistic.blobsModel, logistic.blobsAccuracy)
    let softmax = softmaxRun.model, history = softmaxRun.history
    let digitsTrainAccuracy = softmaxRun.trainAccuracy, digitsTestAccuracy = softmaxRun.testAccuracy
    let gap = normal.gap, lambdaMax = normal.lambdaMax
    var files: [String] = []

    // Loss above the exact minimum (the normal-equation solution's loss), on a log scale: the
    // minimum itself is the noise floor σ², so plain losses would all look flat near it.
    var exactModel = LinearRegression(features: D)
    exactModel.weight = exact.weight.map { Float($0) }
    exactModel.bias = [Float(exact.bias)]
    let minimumLoss = min(exactModel.loss(regression.x, targets: regression.y, rows: N),
                          optimizerRuns.flatMap(\.losses).min() ?? .infinity)
    // The examples panel stops at the mini-batch runs' budget, so full-batch GD (N examples a
    // step) does not squash the others into the left edge.
    let exampleBudget = Double(config.optimizerSteps * B)
    func curve(_ run: OptimizerRun, byExamples: Bool) -> Series {
        let keep = run.steps.indices.filter { !byExamples || Double(run.examplesSeen[$0]) <= exampleBudget }
        return Series(run.setting.name, x: keep.map { Double(byExamples ? run.examplesSeen[$0] : run.steps[$0]) },
                      y: keep.map { max(run.losses[$0] - minimumLoss, 1e-7) })
    }
    files.append(joinPath(config.out, "optimizers.svg"))
    try writeTextFile(Plot.sideBySide([
        Plot.lines(title: "Linear regression: loss above the minimum, per step", xLabel: "step",
                   yLabel: "training MSE − minimum MSE", series: optimizerRuns.map { curve($0, byExamples: false) }, logY: true),
        Plot.lines(title: "… and per example seen", xLabel: "examples seen", yLabel: "training MSE − minimum MSE",
                   series: optimizerRuns.map { curve($0, byExamples: true) }, logY: true),
    ]), to: files.last!)
    files.append(joinPath(config.out, "learning_rates.svg"))
    try writeTextFile(Plot.lines(
        title: "Learning-rate sweep (stable below 2/λmax = \(formatFixed(stabilityLimit, digits: 3)))", xLabel: "step", yLabel: "training MSE",
        series: sweep.map { trial in
            Series("lr \(formatFixed(Double(trial.learningRate), digits: 4)): \(trial.label)"
                   + (trial.run.divergedAtStep.map { ", diverged at step \($0)" } ?? ""),
                   x: trial.run.steps.map(Double.init), y: trial.run.losses, dashed: trial.run.divergedAtStep != nil)
        }, logY: true), to: files.last!)
    func scatter(_ title: String, _ data: (points: [Float], labels: [Int]), _ model: LogisticRegression) -> String {
        let points = data.labels.indices.map { (x: Double(data.points[2 * $0]), y: Double(data.points[2 * $0 + 1]), label: data.labels[$0]) }
        return Plot.scatter(title: title, xLabel: "x₀", yLabel: "x₁", points: points, classNames: ["class 0", "class 1"],
                            region: { model.predict([Float($0), Float($1)], rows: 1)[0] })
    }
    files.append(joinPath(config.out, "logistic_regression.svg"))
    try writeTextFile(Plot.sideBySide([
        scatter("Logistic regression on moons: \(formatPercent(moonsAccuracy))", moons, moonsModel),
        scatter("Logistic regression on blobs: \(formatPercent(blobsAccuracy))", blobs, blobsModel),
    ]), to: files.last!)
    let epochs = history.map { $0["epoch"]! }
    // Each class's weight column W[:, c] as an 8×8 image: the "template" the class is matched against.
    let templates = (0..<softmax.classes).map { c -> [Float] in
        let column = (0..<softmax.features).map { softmax.weight[$0 * softmax.classes + c] }
        let scale = max(column.map(abs).max() ?? 1, 1e-6)
        return column.map { 0.5 + 0.5 * $0 / scale }                  // 0.5 = zero weight
    }
    files.append(joinPath(config.out, "digits.svg"))
    try writeTextFile(Plot.sideBySide([
        Plot.lines(title: "Softmax regression on digits", xLabel: "epoch", yLabel: "cross-entropy / accuracy",
                   series: [Series("train loss", x: epochs, y: history.map { $0["train_loss"]! }),
                            Series("test loss", x: epochs, y: history.map { $0["test_loss"]! }, dashed: true),
                            Series("test accuracy", x: epochs, y: history.map { $0["test_accuracy"]! })]),
        Plot.imageGrid(title: "Weights per class (light = positive, dark = negative)", images: templates,
                       width: digits.width, height: digits.height, captions: digits.classNames, columns: 5),
    ]), to: files.last!)

    // metrics.json: one row per softmax epoch, the final figures, and the summary line
    let metrics = MetricsLog(week: "Week02LogisticRegression", config: configJSON ?? config.json)
    for row in history { metrics.record(row) }
    var final: [String: JSONValue] = [
        "gradient_check_max_error": .number(gradientChecks.map(\.error).max() ?? 0),
        "normal_equation_gap": .number(gap),
        "hessian_lambda_max": .number(lambdaMax),
        "moons_train_accuracy": .number(moonsAccuracy),
        "blobs_train_accuracy": .number(blobsAccuracy),
        "train_accuracy": .number(digitsTrainAccuracy),
        "test_accuracy": .number(digitsTestAccuracy),
        "test_loss": .number(history.last?["test_loss"] ?? .nan),
        "epochs": .number(Double(config.epochs)),
        "seconds": .number(seconds),
    ]
    for run in optimizerRuns { final["final_loss_" + snakeCase(run.setting.name)] = .number(run.finalLoss) }
    for trial in sweep {
        final["sweep_" + snakeCase(trial.label) + "_diverged_at_step"] = trial.run.divergedAtStep.map { .number(Double($0)) } ?? .null
    }
    files.append(try metrics.write(final: final, to: config.out))
    say("")
    say("summary: GD = normal equations to \(formatScientific(gap)) | lr \(formatFixed(Double(sweep[2].learningRate), digits: 3)) "
        + (sweep[2].run.divergedAtStep != nil ? "diverged (detected)" : "did not diverge")
        + " | logistic: moons \(formatPercent(moonsAccuracy)), blobs \(formatPercent(blobsAccuracy))"
        + " | digits test accuracy \(formatPercent(digitsTestAccuracy)) (the baseline for week 3) | \(formatFixed(seconds, digits: 2)) s")
    say("wrote \(files.joined(separator: ", "))")
    return files
}

/// The whole week in one call, step for step what main.swift does (the tests run this).
func runWeek02(_ config: Week02Config, configJSON: [String: JSONValue]? = nil) throws -> Week02Result {
    try validateWeek02(config)
    let clock = Stopwatch()
    var rng = SplitMix64(seed: config.seed)
    let data = try loadWeek02Data(config, rng: &rng)
    let gradientChecks = checkWeek02Gradients(rng: &rng)
    for check in gradientChecks { say("gradient check \(check)") }
    let normal = try linearRegressionAgainstNormalEquations(data, config, rng: &rng)
    let optimizerRuns = compareOptimizers(data, config, lambdaMax: normal.lambdaMax, rng: &rng)
    let sweep = learningRateSweep(data, config, lambdaMax: normal.lambdaMax, rng: &rng)
    let logistic = logisticRegressionOnToySets(data, config)
    let softmaxRun = try softmaxRegressionOnDigits(data, config, clock: clock, rng: &rng)
    let seconds = clock.seconds
    let files = try writeWeek02Outputs(data, config, gradientChecks: gradientChecks, normal: normal,
                                       optimizerRuns: optimizerRuns, sweep: sweep, logistic: logistic,
                                       softmaxRun: softmaxRun, seconds: seconds, configJSON: configJSON)
    return Week02Result(gradientChecks: gradientChecks, normalEquationGap: normal.gap, optimizerRuns: optimizerRuns,
                        stabilityLimit: normal.stabilityLimit, sweep: sweep, moonsAccuracy: logistic.moonsAccuracy,
                        blobsAccuracy: logistic.blobsAccuracy, digitsTestAccuracy: softmaxRun.testAccuracy,
                        digitsTrainAccuracy: softmaxRun.trainAccuracy, digitsHistory: softmaxRun.history,
                        files: files, seconds: seconds)
}

/// Finite-difference checks of the three models' gradients, at random weights on a small
/// random batch (N = 7, D = 3, C = 4: non-square, so a transposed index would show).
func checkWeek02Gradients(rng: inout SplitMix64) -> [GradientCheckResult] {
    let N = 7, D = 3, C = 4
    let x = rng.gaussians(N * D)
    var results: [GradientCheckResult] = []

    var linear = LinearRegression(features: D)
    linear.weight = rng.gaussians(D)
    linear.bias = [0.3]
    let targets = rng.gaussians(N)
    let linearGradients = linear.lossAndGradients(x, targets: targets, rows: N)
    func linearLoss() -> Double { linear.loss(x, targets: targets, rows: N) }
    results.append(checkGradient("linear dWeight", analytic: linearGradients.dWeight, numeric: numericGradient(
        count: D, get: { linear.weight[$0] }, set: { linear.weight[$0] = $1 }, loss: linearLoss)))
    results.append(checkGradient("linear dBias", analytic: linearGradients.dBias, numeric: numericGradient(
        count: 1, get: { linear.bias[$0] }, set: { linear.bias[$0] = $1 }, loss: linearLoss)))

    var logistic = LogisticRegression(features: D)
    logistic.weight = rng.gaussians(D)
    logistic.bias = [-0.2]
    let binaryLabels: [Float] = (0..<N).map { Float($0 % 2) }
    let logisticGradients = logistic.lossAndGradients(x, labels: binaryLabels, rows: N)
    func logisticLoss() -> Double { logistic.loss(x, labels: binaryLabels, rows: N) }
    results.append(checkGradient("logistic dWeight", analytic: logisticGradients.dWeight, numeric: numericGradient(
        count: D, get: { logistic.weight[$0] }, set: { logistic.weight[$0] = $1 }, loss: logisticLoss)))
    results.append(checkGradient("logistic dBias", analytic: logisticGradients.dBias, numeric: numericGradient(
        count: 1, get: { logistic.bias[$0] }, set: { logistic.bias[$0] = $1 }, loss: logisticLoss)))

    var softmax = SoftmaxRegression(features: D, classes: C)
    softmax.weight = rng.gaussians(D * C)
    softmax.bias = rng.gaussians(C, std: 0.5)
    let classLabels = (0..<N).map { $0 % C }
    let softmaxGradients = softmax.lossAndGradients(x, labels: classLabels, rows: N)
    func softmaxLoss() -> Double { softmax.loss(x, labels: classLabels, rows: N) }
    results.append(checkGradient("softmax dWeight", analytic: softmaxGradients.dWeight, numeric: numericGradient(
        count: D * C, get: { softmax.weight[$0] }, set: { softmax.weight[$0] = $1 }, loss: softmaxLoss)))
    results.append(checkGradient("softmax dBias", analytic: softmaxGradients.dBias, numeric: numericGradient(
        count: C, get: { softmax.bias[$0] }, set: { softmax.bias[$0] = $1 }, loss: softmaxLoss)))
    return results
}

/// "mini-batch 32" → "mini_batch_32" (metrics keys).
func snakeCase(_ name: String) -> String {
    var out = "", lastWasUnderscore = true
    for ch in name.lowercased() {
        if ch.isLetter || ch.isNumber { out.append(ch); lastWasUnderscore = false }
        else if !lastWasUnderscore { out.append("_"); lastWasUnderscore = true }
    }
    while out.hasSuffix("_") { out.removeLast() }
    return out
}


