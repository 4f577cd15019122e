// Week 1: the perceptron, the XOR problem, and the two-layer net that solves it.
//
// What it teaches: a perceptron is a line (w·x + b = 0) found by nudging it towards every
// point it gets wrong; on separable data it provably stops making mistakes, on XOR no line
// exists and it never gets past 3 of 4 points (75%). One hidden layer with a nonlinearity
// (tanh) bends the boundary and solves XOR: the idea every later week builds on.
//
// Read, in order: Perceptron.swift (the rule), TwoLayerNet.swift (forward, backward, training),
// Week01.swift (`runWeek01`: the run step by step), then this file.
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

// MARK: 2-6. Data, perceptron on blobs, perceptron on XOR, the two-layer net, plots and metrics
// (Week01.swift: runWeek01 walks through them in this order, printing as it goes.)
let result = check { try runWeek01(config, configJSON: options.config) }

// MARK: 7. What to look at next
say("open \(joinPath(config.out, "xor.svg")) in a browser: the perceptron's straight line beside the net's curved region")
