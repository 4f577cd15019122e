// Week 1's steps, one function each, in the order main.swift calls them: data, the
// perceptron on blobs, the perceptron on XOR, the two-layer net, plots and metrics.json.
// `runWeek01` chains the same steps for the tests. Read this after the two model files.
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every knob of the week, with its default. `--quick` shrinks the run to well under a second.
struct Week01Config {
    var seed: UInt64 = 1337
    var out = "runs/Week01/"
    /// Points in the two blobs (half each).
    var points = 200
    /// Standard deviation of each blob around its centre.
    var spread: Float = 0.5
    /// Perceptron: the most passes over the data before giving up, and its step size.
    var maxEpochs = 100
    var learningRate: Float = 1
    /// Two-layer net: hidden units, full-batch gradient-descent steps and step size.
    var hidden = 8
    var steps = 1000
    var netLearningRate: Float = 1

    /// The defaults, or with `quick` a smaller configuration for tests and smoke runs.
    init(quick: Bool = false) {
        if quick {
            points = 60
            maxEpochs = 50
            steps = 600
        }
    }

    /// The configuration as written into metrics.json (snake_case keys).
    var json: [String: JSONValue] {
        ["seed": .number(Double(seed)), "out": .string(out), "points": .number(Double(points)),
         "spread": .number(Double(spread)), "max_epochs": .number(Double(maxEpochs)),
         "learning_rate": .number(Double(learningRate)), "hidden": .number(Double(hidden)),
         "steps": .number(Double(steps)), "net_learning_rate": .number(Double(netLearningRate))]
    }
}

/// What the week's run produced: the models, their histories, and where the files went.
struct Week01Result {
    var blobPoints: [Float], blobLabels: [Int]
    var blobRun: PerceptronRun
    var xorRun: PerceptronRun
    var netRun: TwoLayerNetRun
    var gradientChecks: [GradientCheckResult]
    var files: [String]
    var seconds: Double
}

/// Rejects a configuration the run cannot use, with one line saying which flag and why.
func validateWeek01(_ config: Week01Config) throws {
    guard config.points >= 4 else { throw WorkbookError("--points must be at least 4, got \(config.points)") }
    guard config.maxEpochs >= 1, config.steps >= 1, config.hidden >= 1 else {
        throw WorkbookError("--max-epochs, --steps and --hidden must be at least 1")
    }
    guard config.spread > 0, config.learningRate > 0, config.netLearningRate > 0 else {
        throw WorkbookError("--spread and the learning rates must be positive")
    }
}

/// The week's two data sets: Gaussian blobs (separable when the spread is small) and XOR.
///   blobs: points (N, 2), labels (N) in {0, 1}    xor: the 4 corners of the unit square
struct Week01Data {
    var blobPoints: [Float], blobLabels: [Int]
    var xorPoints: [Float], xorLabels: [Int]
}

func makeWeek01Data(_ config: Week01Config, rng: inout SplitMix64) -> Week01Data {
    let blobs = ToyData.blobs(count: config.points, centers: 2, spread: config.spread, rng: &rng)
    let (xorPoints, xorLabels) = ToyData.xor()        // (0,0)→0 (0,1)→1 (1,0)→1 (1,1)→0
    say("data: \(config.points) points in 2 blobs (spread \(config.spread)); XOR: 4 points")
    return Week01Data(blobPoints: blobs.points, blobLabels: blobs.labels, xorPoints: xorPoints, xorLabels: xorLabels)
}

/// The perceptron rule on the blobs, printing mistakes per epoch; stops at the first epoch
/// without a mistake.
func perceptronOnBlobs(_ data: Week01Data, _ config: Week01Config, rng: inout SplitMix64) -> PerceptronRun {
    let run = trainPerceptron(points: data.blobPoints, labels: data.blobLabels, features: 2,
                              maxEpochs: config.maxEpochs, learningRate: config.learningRate, rng: &rng)
    for (i, mistakes) in run.mistakesPerEpoch.enumerated() {
        say("perceptron epoch \(i + 1) | mistakes \(mistakes) | train accuracy \(formatPercent(run.accuracyPerEpoch[i]))")
    }
    if let epoch = run.convergedEpoch {
        say("perceptron converged at epoch \(epoch): every point on the right side of the line")
    } else {
        say("perceptron did not converge in \(config.maxEpochs) epochs: the blobs overlap (try a smaller --spread)")
    }
    return run
}

/// The same rule on XOR, and why it can never get past 3 of the 4 points.
func perceptronOnXOR(_ data: Week01Data, _ config: Week01Config, rng: inout SplitMix64) -> PerceptronRun {
    let run = trainPerceptron(points: data.xorPoints, labels: data.xorLabels, features: 2,
                              maxEpochs: config.maxEpochs, learningRate: config.learningRate, rng: &rng)
    say("perceptron on XOR: best accuracy \(formatPercent(run.bestAccuracy)) over \(run.mistakesPerEpoch.count) epochs, "
        + "at least \(run.mistakesPerEpoch.min() ?? 0) mistake(s) in every epoch")
    say("  why: a line w·x + b = 0 with (0,1) and (1,0) on the positive side needs w1 + b > 0 and w0 + b > 0,")
    say("  so w0 + w1 + 2b > 0; with (0,0) and (1,1) on the other side it needs b ≤ 0 and w0 + w1 + b ≤ 0,")
    say("  so w0 + w1 + 2b ≤ 0. Both cannot hold: every line misclassifies at least 1 of the 4 points (≤ 75%).")
    return run
}

/// The two-layer net on XOR: its backward pass checked against finite differences, then
/// full-batch gradient descent; prints the checks and a few points of the loss curve.
func twoLayerNetOnXOR(_ data: Week01Data, _ config: Week01Config, rng: inout SplitMix64)
    -> (net: TwoLayerNet, run: TwoLayerNetRun, checks: [GradientCheckResult], accuracy: Double)
{
    let untrained = TwoLayerNet(inputs: 2, hidden: config.hidden, rng: &rng)
    let checks = checkTwoLayerNetGradients(untrained, rng: &rng)
    for check in checks { say("gradient check \(check)") }
    let run = trainTwoLayerNet(untrained, x: data.xorPoints, y: data.xorLabels, steps: config.steps,
                               learningRate: config.netLearningRate, recordEvery: max(1, config.steps / 100))
    let every = max(1, (run.steps.count - 1) / 5)
    for i in run.steps.indices where i % every == 0 || i == run.steps.count - 1 {
        say("two-layer net step \(run.steps[i]) | loss \(formatFixed(run.losses[i], digits: 4)) | accuracy \(formatPercent(run.accuracies[i]))")
    }
    let predictions = run.net.predict(data.xorPoints, rows: 4)
    let accuracy = Double(zip(predictions, data.xorLabels).filter { $0 == $1 }.count) / 4
    return (run.net, run, checks, accuracy)
}

/// Plots (blobs with the learned line, accuracy per epoch, XOR line vs curved region, the
/// net's loss), metrics.json and the summary. Returns the files written.
func writeWeek01Outputs(_ data: Week01Data, _ config: Week01Config, blobRun: PerceptronRun, xorRun: PerceptronRun,
                        net: TwoLayerNet, netRun: TwoLayerNetRun, netAccuracy: Double,
                        gradientChecks: [GradientCheckResult], seconds: Double,
                        configJSON: [String: JSONValue]? = nil) throws -> [String] {
    var files: [String] = []
    let blobPoints = (0..<data.blobLabels.count).map {
        (x: Double(data.blobPoints[2 * $0]), y: Double(data.blobPoints[2 * $0 + 1]), label: data.blobLabels[$0])
    }
    let xorPoints = data.xorPoints, xorLabels = data.xorLabels
    let xorScatterPoints = (0..<4).map { (x: Double(xorPoints[2 * $0]), y: Double(xorPoints[2 * $0 + 1]), label: xorLabels[$0]) }
    let perceptron = blobRun.perceptron, xorPerceptron = xorRun.bestPerceptron
    let blobRange = (x: extent(blobPoints.map(\.x)), y: extent(blobPoints.map(\.y)))
    let blobsSVG = Plot.scatter(
        title: "Perceptron on 2 blobs: " + (blobRun.convergedEpoch.map { "converged at epoch \($0)" } ?? "not converged"),
        xLabel: "x₀", yLabel: "x₁", points: blobPoints, classNames: ["class 0", "class 1"],
        region: { perceptron.predict([Float($0), Float($1)][...]) },
        lines: boundarySeries(perceptron, name: "w·x + b = 0", range: blobRange))
    let epochAxis = { (values: [Double]) in values.indices.map { Double($0 + 1) } }
    let blobCurvesSVG = Plot.lines(
        title: "Perceptron on blobs, per epoch", xLabel: "epoch", yLabel: "fraction of points",
        series: [Series("train accuracy", x: epochAxis(blobRun.accuracyPerEpoch), y: blobRun.accuracyPerEpoch),
                 Series("mistakes / N", x: epochAxis(blobRun.accuracyPerEpoch),
                        y: blobRun.mistakesPerEpoch.map { Double($0) / Double(config.points) }, dashed: true)])
    files.append(joinPath(config.out, "perceptron_blobs.svg"))
    try writeTextFile(Plot.sideBySide([blobsSVG, blobCurvesSVG]), to: files.last!)

    let xorRange = (x: -0.5...1.5, y: -0.5...1.5)
    let xorLineSVG = Plot.scatter(
        title: "Perceptron on XOR, best epoch: \(formatPercent(xorRun.bestAccuracy))",
        xLabel: "x₀", yLabel: "x₁", points: xorScatterPoints, classNames: ["0 (same)", "1 (different)"],
        region: { xorPerceptron.predict([Float($0), Float($1)][...]) },
        lines: boundarySeries(xorPerceptron, name: "perceptron line", range: xorRange))
    let xorCurveSVG = Plot.lines(
        title: "Perceptron on XOR: accuracy per epoch", xLabel: "epoch", yLabel: "train accuracy",
        series: [Series("perceptron", x: epochAxis(xorRun.accuracyPerEpoch), y: xorRun.accuracyPerEpoch),
                 Series("75%: 3 of 4, the best a line can do", x: [1, Double(max(xorRun.accuracyPerEpoch.count, 2))],
                        y: [0.75, 0.75], dashed: true),
                 Series("two-layer net (final)", x: [1, Double(max(xorRun.accuracyPerEpoch.count, 2))],
                        y: [netAccuracy, netAccuracy], dashed: true)])
    let xorNetSVG = Plot.scatter(
        title: "Two-layer net (\(config.hidden) tanh units) on XOR: \(formatPercent(netAccuracy))",
        xLabel: "x₀", yLabel: "x₁", points: xorScatterPoints, classNames: ["0 (same)", "1 (different)"],
        region: { net.predict([Float($0), Float($1)], rows: 1)[0] })
    files.append(joinPath(config.out, "xor.svg"))
    try writeTextFile(Plot.sideBySide([xorLineSVG, xorCurveSVG, xorNetSVG]), to: files.last!)
    let lossSVG = Plot.lines(title: "Two-layer net on XOR: loss", xLabel: "step", yLabel: "binary cross-entropy",
                             series: [Series("train loss", x: netRun.steps.map(Double.init), y: netRun.losses)], logY: true)
    files.append(joinPath(config.out, "xor_net_loss.svg"))
    try writeTextFile(lossSVG, to: files.last!)

    // metrics.json: one row per perceptron epoch, the final figures, and the summary line
    let metrics = MetricsLog(week: "Week01Perceptron", config: configJSON ?? config.json)
    for i in blobRun.mistakesPerEpoch.indices {
        metrics.record(["epoch": Double(i + 1), "mistakes": Double(blobRun.mistakesPerEpoch[i]),
                        "train_accuracy": blobRun.accuracyPerEpoch[i],
                        "xor_train_accuracy": i < xorRun.accuracyPerEpoch.count ? xorRun.accuracyPerEpoch[i] : .nan])
    }
    let final: [String: JSONValue] = [
        "blobs_converged_epoch": blobRun.convergedEpoch.map { .number(Double($0)) } ?? .null,
        "blobs_train_accuracy": .number(blobRun.accuracyPerEpoch.last ?? 0),
        "xor_perceptron_best_accuracy": .number(xorRun.bestAccuracy),
        "xor_net_accuracy": .number(netAccuracy),
        "xor_net_loss": .number(netRun.losses.last ?? .nan),
        "xor_net_solved_step": netRun.solvedAtStep.map { .number(Double($0)) } ?? .null,
        "gradient_check_max_error": .number(gradientChecks.map(\.error).max() ?? 0),
        "seconds": .number(seconds),
    ]
    files.append(try metrics.write(final: final, to: config.out))
    say("")
    say("summary: perceptron on blobs \(formatPercent(blobRun.accuracyPerEpoch.last ?? 0))"
        + (blobRun.convergedEpoch.map { " (converged at epoch \($0))" } ?? " (not converged)")
        + " | perceptron on XOR at most \(formatPercent(xorRun.bestAccuracy)) | two-layer net on XOR \(formatPercent(netAccuracy))"
        + " | \(formatFixed(seconds, digits: 2)) s")
    say("wrote \(files.joined(separator: ", "))")
    return files
}

/// The whole week in one call, step for step what main.swift does (the tests run this).
func runWeek01(_ config: Week01Config, configJSON: [String: JSONValue]? = nil) throws -> Week01Result {
    try validateWeek01(config)
    let clock = Stopwatch()
    var rng = SplitMix64(seed: config.seed)
    let data = makeWeek01Data(config, rng: &rng)
    let blobRun = perceptronOnBlobs(data, config, rng: &rng)
    let xorRun = perceptronOnXOR(data, config, rng: &rng)
    let net = twoLayerNetOnXOR(data, config, rng: &rng)
    let files = try writeWeek01Outputs(data, config, blobRun: blobRun, xorRun: xorRun, net: net.net, netRun: net.run,
                                       netAccuracy: net.accuracy, gradientChecks: net.checks,
                                       seconds: clock.seconds, configJSON: configJSON)
    return Week01Result(blobPoints: data.blobPoints, blobLabels: data.blobLabels, blobRun: blobRun, xorRun: xorRun,
                        netRun: net.run, gradientChecks: net.checks, files: files, seconds: clock.seconds)
}

/// Checks every parameter gradient of `net` against finite differences on 3 random points
/// (L = Σ z ⊙ dZ for a random dZ), perturbing the net's own weights.
func checkTwoLayerNetGradients(_ net: TwoLayerNet, rng: inout SplitMix64) -> [GradientCheckResult] {
    var net = net
    let N = 3, x = rng.gaussians(N * net.inputs), dZ = rng.gaussians(N)
    let g = net.backward(dZ, cache: net.forward(x, rows: N).cache)
    func loss() -> Double { projected(net.forward(x, rows: N).logits, onto: dZ) }
    let dW1 = numericGradient(count: net.w1.count, get: { net.w1[$0] }, set: { net.w1[$0] = $1 }, loss: loss)
    let dB1 = numericGradient(count: net.b1.count, get: { net.b1[$0] }, set: { net.b1[$0] = $1 }, loss: loss)
    let dW2 = numericGradient(count: net.w2.count, get: { net.w2[$0] }, set: { net.w2[$0] = $1 }, loss: loss)
    let dB2 = numericGradient(count: 1, get: { _ in net.b2 }, set: { net.b2 = $1 }, loss: loss)
    return [checkGradient("dW1", analytic: g.dW1, numeric: dW1), checkGradient("dB1", analytic: g.dB1, numeric: dB1),
            checkGradient("dW2", analytic: g.dW2, numeric: dW2), checkGradient("dB2", analytic: [g.dB2], numeric: dB2)]
}

/// The perceptron's line as a plot series over the given ranges (none while w = 0).
func boundarySeries(_ p: Perceptron, name: String,
                    range: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> [Series] {
    guard let segment = p.boundarySegment(xRange: range.x, yRange: range.y) else { return [] }
    return [Series(name, x: segment.x, y: segment.y)]
}

/// min...max of the values, widened by 10% on each side.
func extent(_ values: [Double]) -> ClosedRange<Double> {
    let low = values.min() ?? 0, high = values.max() ?? 1, pad = max(high - low, 1e-9) * 0.1
    return (low - pad)...(high + pad)
}


