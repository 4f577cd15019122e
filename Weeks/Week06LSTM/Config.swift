// Every week 6 flag, its default, and what --quick changes.
import Shared

struct Week06Config {
    var seed: UInt64 = 1337
    var quick = false
    var out = "runs/Week06/"
    var threads = 2
    var corpus: String?
    var hidden = 256
    var block = 64
    var batch = 32
    var steps = 3000
    /// 5e-3 rather than week 5's 2e-3: at 2e-3 the LSTM, with 3.5x the weights, is still
    /// catching up after 3000 steps (measured: LSTM 1.875 vs RNN 1.892); at 5e-3 it pulls ahead
    /// (1.773 vs 1.899) while the RNN does no better than at 2e-3.
    var learningRate: Float = 5e-3
    var clip: Float = 1
    var forgetBias: Float = 1
    var evalEvery = 250
    var evalWindows = 0
    var sampleLength = 300
    var temperature: Float = 0.8
    var prompt = ""
    /// Which comparisons to run: "all", "rnn-vs-lstm" or "clipping".
    var experiment = "all"
    /// The clipping experiment: its cell, learning rate and steps.
    var clipCell = "rnn"
    var clipLearningRate: Float = 2e-2
    var clipSteps = 1000
    var plots = true

    init() {}

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    init(_ options: Options) {
        let common = commonFlags(options, week: "Week06")
        seed = common.seed
        quick = common.quick
        out = common.out
        threads = common.threads
        corpus = options.optionalString("corpus", help: "UTF-8 text file to train on instead of the embedded Shakespeare (~1 MB)")
        experiment = options.choice("experiment", default: "all", choices: ["all", "rnn-vs-lstm", "clipping"],
                                    help: "rnn-vs-lstm: both cells, same everything; clipping: clip on vs off at a high learning rate; all: both")
        hidden = options.int("hidden", default: 256, range: 1...4096, help: "hidden state size H of both cells (--quick: 64)")
        block = options.int("block", default: 64, range: 1...4096, help: "characters per chunk T (--quick: 32)")
        batch = options.int("batch", default: 32, range: 1...4096, help: "chunks per mini-batch B (--quick: 16)")
        steps = options.int("steps", default: 3000, range: 1...10_000_000, help: "training steps of each cell (--quick: 300)")
        learningRate = options.float("lr", default: 5e-3, range: 1e-7...10, help: "Adam learning rate of both cells (--quick: 1e-2)")
        clip = options.float("clip", default: 1, range: 0...1e6, help: "clip gradients to this global norm; 0 = no clipping")
        forgetBias = options.float("forget-bias", default: 1, range: -10...10, help: "initial forget-gate bias of the LSTM")
        evalEvery = options.int("eval-every", default: 250, range: 1...10_000_000, help: "validate every this many steps (--quick: 100)")
        evalWindows = options.int("eval-windows", default: 0, range: 0...10_000_000,
                                  help: "validation windows of T characters per evaluation during training; 0 = the whole split (--quick: 100)")
        sampleLength = options.int("sample-length", default: 300, range: 0...1_000_000, help: "characters per final sample (--quick: 100)")
        temperature = options.float("temperature", default: 0.8, range: 0...100, help: "sampling temperature; 0 = greedy")
        prompt = options.string("prompt", default: "", help: "text the final samples continue (every character must be in the corpus)")
        clipCell = options.choice("clip-cell", default: "rnn", choices: ["rnn", "lstm"], help: "cell of the clipping experiment")
        clipLearningRate = options.float("clip-lr", default: 2e-2, range: 1e-7...10,
                                         help: "learning rate of the clipping experiment, high enough for clipping to matter (--quick: 3e-2)")
        clipSteps = options.int("clip-steps", default: 1000, range: 1...10_000_000, help: "steps of each clipping run (--quick: 150)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
        if quick {
            if !options.wasGiven("hidden") { hidden = 64 }
            if !options.wasGiven("block") { block = 32 }
            if !options.wasGiven("batch") { batch = 16 }
            if !options.wasGiven("steps") { steps = 300 }
            if !options.wasGiven("lr") { learningRate = 1e-2 }
            if !options.wasGiven("eval-every") { evalEvery = 100 }
            if !options.wasGiven("eval-windows") { evalWindows = 100 }
            if !options.wasGiven("sample-length") { sampleLength = 100 }
            if !options.wasGiven("clip-lr") { clipLearningRate = 3e-2 }
            if !options.wasGiven("clip-steps") { clipSteps = 150 }
            for (name, value) in [("hidden", hidden), ("block", block), ("batch", batch), ("steps", steps),
                                  ("eval_every", evalEvery), ("eval_windows", evalWindows),
                                  ("sample_length", sampleLength), ("clip_steps", clipSteps)] {
                options.record(name, .number(Double(value)))
            }
            options.record("lr", .number(Double(learningRate)))
            options.record("clip_lr", .number(Double(clipLearningRate)))
        }
    }

    var runsComparison: Bool { experiment != "clipping" }
    var runsClipping: Bool { experiment != "rnn-vs-lstm" }

    /// The training loop's settings for the RNN-vs-LSTM comparison (identical for both cells).
    func training(startToken: Int) -> LanguageModelTrainingConfig {
        LanguageModelTrainingConfig(steps: steps, batchSize: batch, context: block, learningRate: learningRate,
                                    clip: clip > 0 ? clip : nil, evalEvery: evalEvery,
                                    evalWindows: evalWindows > 0 ? evalWindows : nil, sampleEvery: 0,
                                    sampleLength: sampleLength, sampling: SamplingSettings(temperature: temperature),
                                    sampleStartToken: startToken)
    }

    /// The clipping experiment's settings: `clipped` on or off, everything else equal.
    func clippingTraining(clipped: Bool) -> LanguageModelTrainingConfig {
        LanguageModelTrainingConfig(steps: clipSteps, batchSize: batch, context: block, learningRate: clipLearningRate,
                                    clip: clipped ? (clip > 0 ? clip : 1) : nil, evalEvery: max(1, clipSteps / 10),
                                    evalWindows: evalWindows > 0 ? evalWindows : 200, sampleEvery: 0)
    }
}
