// Week 1's run, as one function the program and the tests share: data, perceptron on blobs,
// perceptron on XOR, gradient check and training of the two-layer net, plots, metrics.json.
// main.swift reads the flags and calls `runWeek01`; read this after the two model files.
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

/// Runs the whole week: prints progress and a summary, writes plots and metrics.json to
/// `config.out`. Throws on bad configuration or when a file cannot be written.
func runWeek01(_ config: Week01Config, configJSON: [String: JSONValue]? = nil) throws -> Week01Result {
    guard config.points >= 4 else { throw WorkbookError("--points must be at least 4, got \(config.points)") }
    guard config.maxEpochs >= 1, config.steps >= 1, config.hidden >= 1 else {
        throw WorkbookError("--max-epochs, --steps and --hidden must be at least 1")
    }
    guard config.spread > 0, config.learningRate > 0, config.netLearningRate > 0 else {
        throw WorkbookError("--spread and the learning rates must be positive")
    }
    let clock = Stopwatch()
    var rng = SplitMix64(seed: config.seed)

    // MARK: 1. Data: two Gaussian blobs (separable when the spread is small), and XOR
    let blobs = ToyData.blobs(count: config.points, centers: 2, spread: config.spread, rng: &rng)
    let (xorPoints, xorLabels) = ToyData.xor()        // (0,0)→0 (0,1)→1 (1,0)→1 (1,1)→0
    say("data: \(config.points) points in 2 blobs (spread \(config.spread)); XOR: 4 points")

    // MARK: 2. The perceptron on separable data: stops at the first epoch without a mistake
    let blobRun = trainPerceptron(points: blobs.points, labels: blobs.labels, features: 2,
                                  maxEpochs: config.maxEpochs, learningRate: config.learningRate, rng: &rng)
    for (i, mistakes) in blobRun.mistakesPerEpoch.enumerated() {
        say("perceptron epoch \(i + 1) | mistakes \(mistakes) | train accuracy \(percent(blobRun.accuracyPerEpoch[i]))")
    }
    if let epoch = blobRun.convergedEpoch {
        say("perceptron converged at epoch \(epoch): every point on the right side of the line")
    } else {
        say("perceptron did not converge in \(config.maxEpochs) epochs: the blobs overlap (try a smaller --spread)")
    }

    // MARK: 3. The same perceptron on XOR: no line separates it, so it never stops making mistakes
    let xorRun = trainPerceptron(points: xorPoints, labels: xorLabels, features: 2,
                                 maxEpochs: config.maxEpochs, learningRate: config.learningRate, rng: &rng)
    let xorBest = xorRun.bestAccuracy
    say("perceptron on XOR: best accuracy \(percent(xorBest)) over \(xorRun.mistakesPerEpoch.count) epochs, "
        + "at least \(xorRun.mistakesPerEpoch.min() ?? 0) mistake(s) in every epoch")
    say("  why: a line w·x + b = 0 with (0,1) and (1,0) on the positive side needs w1 + b > 0 and w0 + b > 0,")
    say("  so w0 + w1 + 2b > 0; with (0,0) and (1,1) on the other side it needs b ≤ 0 and w0 + w1 + b ≤ 0,")
    say("  so w0 + w1 + 2b ≤ 0. Both cannot hold: every line misclassifies at least 1 of the 4 points (≤ 75%).")

    // MARK: 4. A two-layer net: check its backward pass, then train it on XOR
    var net = TwoLayerNet(inputs: 2, hidden: config.hidden, rng: &rng)
    let gradientChecks = checkTwoLayerNetGradients(net, rng: &rng)
    for check in gradientChecks { say("gradient check \(check)") }
    let netRun = trainTwoLayerNet(net, x: xorPoints, y: xorLabels, steps: config.steps,
                                  learningRate: config.netLearningRate, recordEvery: max(1, config.steps / 100))
    net = netRun.net
    let every = max(1, (netRun.steps.count - 1) / 5)
    for i in netRun.steps.indices where i % every == 0 || i == netRun.steps.count - 1 {
        say("two-layer net step \(netRun.steps[i]) | loss \(formatFixed(netRun.losses[i], digits: 4)) | accuracy \(percent(netRun.accuracies[i]))")
    }
    let netPredictions = net.predict(xorPoints, rows: 4)
    let netAccuracy = Double(zip(netPredictions, xorLabels).filter { $0 == $1 }.count) / 4

    // MARK: 5. Plots: blobs with the learned line, accuracy per epoch, XOR line vs curved region
    var files: [String] = []
    let blobPoints = (0..<blobs.labels.count).map {
        (x: Double(blobs.points[2 * $0]), y: Double(blobs.points[2 * $0 + 1]), label: blobs.labels[$0])
    }
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
        title: "Perceptron on XOR, best epoch: \(percent(xorRun.bestAccuracy))",
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
        title: "Two-layer net (\(config.hidden) tanh units) on XOR: \(percent(netAccuracy))",
        xLabel: "x₀", yLabel: "x₁", points: xorScatterPoints, classNames: ["0 (same)", "1 (different)"],
        region: { net.predict([Float($0), Float($1)], rows: 1)[0] })
    files.append(joinPath(config.out, "xor.svg"))
    try writeTextFile(Plot.sideBySide([xorLineSVG, xorCurveSVG, xorNetSVG]), to: files.last!)
    let lossSVG = Plot.lines(title: "Two-layer net on XOR: loss", xLabel: "step", yLabel: "binary cross-entropy",
                             series: [Series("train loss", x: netRun.steps.map(Double.init), y: netRun.losses)], logY: true)
    files.append(joinPath(config.out, "xor_net_loss.svg"))
    try writeTextFile(lossSVG, to: files.last!)

    // MARK: 6. metrics.json and the summary
    let seconds = clock.seconds
    let metrics = MetricsLog(week: "Week01Perceptron", config: configJSON ?? config.json)
    for i in blobRun.mistakesPerEpoch.indices {
        metrics.record(["epoch": Double(i + 1), "mistakes": Double(blobRun.mistakesPerEpoch[i]),
                        "train_accuracy": blobRun.accuracyPerEpoch[i],
                        "xor_train_accuracy": i < xorRun.accuracyPerEpoch.count ? xorRun.accuracyPerEpoch[i] : .nan])
    }
    let final: [String: JSONValue] = [
        "blobs_converged_epoch": blobRun.convergedEpoch.map { .number(Double($0)) } ?? .null,
        "blobs_train_accuracy": .number(blobRun.accuracyPerEpoch.last ?? 0),
        "xor_perceptron_best_accuracy": .number(xorBest),
        "xor_net_accuracy": .number(netAccuracy),
        "xor_net_loss": .number(netRun.losses.last ?? .nan),
        "xor_net_solved_step": netRun.solvedAtStep.map { .number(Double($0)) } ?? .null,
        "gradient_check_max_error": .number(gradientChecks.map(\.error).max() ?? 0),
        "seconds": .number(seconds),
    ]
    files.append(try metrics.write(final: final, to: config.out))
    say("")
    say("summary: perceptron on blobs \(percent(blobRun.accuracyPerEpoch.last ?? 0))"
        + (blobRun.convergedEpoch.map { " (converged at epoch \($0))" } ?? " (not converged)")
        + " | perceptron on XOR at most \(percent(xorBest)) | two-layer net on XOR \(percent(netAccuracy))"
        + " | \(formatFixed(seconds, digits: 2)) s")
    say("wrote \(files.joined(separator: ", "))")
    return Week01Result(blobPoints: blobs.points, blobLabels: blobs.labels, blobRun: blobRun, xorRun: xorRun,
                        netRun: netRun, gradientChecks: gradientChecks, files: files, seconds: seconds)
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

/// 0.975 → "97.5%".
func percent(_ fraction: Double) -> String { formatFixed(100 * fraction, digits: 1) + "%" }

