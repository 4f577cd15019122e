// Week 1: the perceptron, the XOR problem, and the two-layer net that solves it.
//
// What it teaches: a perceptron is a line (w·x + b = 0) found by nudging it towards every
// point it gets wrong; on separable data it provably stops making mistakes, on XOR no line
// exists and it never gets past 3 of 4 points (75%). One hidden layer with a nonlinearity
// (tanh) bends the boundary and solves XOR: the idea every later week builds on.
//
// Read, in order: Perceptron.swift (the rule), TwoLayerNet.swift (forward, backward, training),
// then this file (the run, step by step), with Week01.swift (what each step does) beside it.
// Run:    swift run -c release Week01Perceptron            (--help for every flag)
// Test:   swift test --filter Week01
// Expect: the perceptron converges on the blobs within a few epochs; on XOR it stays at 75%
//         or below and says why; the two-layer net reaches 100% on XOR. Plots and
//         metrics.json in runs/Week01/: perceptron_blobs.svg, xor.svg, xor_net_loss.svg.
import Shared

// MARK: 1. Config: every knob, with its default (--quick shrinks the run for tests)
let options = Options(program: "Week01Perceptron",
                      summary: "The perceptron on separable blobs and on XOR; a two-layer net that solves XOR.")
let common = commonFlags(options, week: "Week01Perceptron")
var config = Week01Config(quick: common.quick)
config.seed = common.seed
config.out = common.out
config.points = options.int("points", default: config.points, help: "points in the two blobs")
config.spread = options.float("spread", default: config.spread, help: "standard deviation of each blob (centres 4 apart)")
config.maxEpochs = options.int("max-epochs", default: config.maxEpochs, help: "perceptron: most passes over the data")
config.learningRate = options.float("learning-rate", default: config.learningRate, help: "perceptron: step size of the rule")
config.hidden = options.int("hidden", default: config.hidden, help: "two-layer net: hidden tanh units")
config.steps = options.int("steps", default: config.steps, help: "two-layer net: full-batch gradient-descent steps")
config.netLearningRate = options.float("net-learning-rate", default: config.netLearningRate,
                                       help: "two-layer net: gradient-descent step size")
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(common.threads) {

    check { try validateWeek01(config) }
    let clock = Stopwatch()
    var rng = SplitMix64(seed: config.seed)

    // MARK: 2. Data: two Gaussian blobs (separable when the spread is small), and the 4 XOR points
    let data = makeWeek01Data(config, rng: &rng)

    // MARK: 3. The perceptron on separable data: stops at the first epoch without a mistake
    let blobRun = perceptronOnBlobs(data, config, rng: &rng)

    // MARK: 4. The same perceptron on XOR: no line separates it, so it never stops making mistakes
    let xorRun = perceptronOnXOR(data, config, rng: &rng)

    // MARK: 5. A two-layer net: check its backward pass, then train it on XOR
    let net = twoLayerNetOnXOR(data, config, rng: &rng)

    // MARK: 6. Plots, metrics.json and the summary
    _ = check {
        try writeWeek01Outputs(data, config, blobRun: blobRun, xorRun: xorRun, net: net.net, netRun: net.run,
                               netAccuracy: net.accuracy, gradientChecks: net.checks, seconds: clock.seconds,
                               configJSON: options.config)
    }

    // MARK: 7. What to look at next
    say("open \(joinPath(config.out, "xor.svg")) in a browser: the perceptron's straight line beside the net's curved region")
}
