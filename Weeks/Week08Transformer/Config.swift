// Every week 8 flag, its default, the presets and what --quick changes.
import Shared

/// The experiments `--experiment` runs, each one chart.
let week08Experiments = ["none", "prenorm-vs-postnorm", "layernorm-vs-rmsnorm", "gelu-vs-relu", "positions",
                         "tying", "heads"]

struct Week08Config {
    var common: CommonFlags
    var preset: String
    var corpus: String?
    var model: GPTConfig
    /// The shared trainer's settings (Shared/Training/LanguageModelTraining.swift); its checkpoint
    /// path and config JSON are filled in by `makeWeek08Trainer`.
    var training: LanguageModelTrainingConfig
    /// The knobs behind `training` (the experiments build their own schedules from them).
    var trainingFlags: GPTTrainingFlags
    var sampleLength: Int
    var temperature: Float
    var topK: Int
    var prompt: String
    var attentionPrompt: String
    var experiment: String
    var experimentSteps: Int
    var experimentLearningRate: Float
    var resume: String?
    var plots: Bool
    /// The gradient check's finite-difference step h (nil: each variant's own, 1e-2 or 1e-3).
    var checkStep: Float?

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    /// A preset sets every default at once; any flag given on the command line overrides it.
    init(_ options: Options) {
        common = commonFlags(options, week: "Week08Transformer")
        preset = options.choice("preset", default: "default", choices: ["default", "nanogpt-cpu"],
                                help: "default: nanoGPT's CPU model trained 5000 steps; nanogpt-cpu: nanoGPT's README CPU "
                                    + "run exactly (2000 steps, decay to 2000, eval every 250)")
        let nano = preset == "nanogpt-cpu", quick = common.quick
        corpus = options.optionalString("corpus", help: "UTF-8 text file to train on instead of the embedded Shakespeare")
        // the model and the training loop (flags shared with the other GPT weeks: Shared/Training/GPTFlags.swift)
        model = gptModelFlags(options, quick: quick)
        let flags = gptTrainingFlags(options, quick: quick, steps: (nano ? 2000 : 5000, 200),
                                     evalEvery: (nano ? 250 : 500, 50), evalWindows: (0, 16),
                                     stepsHelp: "optimizer steps (nanogpt-cpu: 2000)")
        trainingFlags = flags
        training = flags.trainingConfig(context: model.context)
        // sampling, experiments, checkpoints
        sampleLength = options.int("sample-length", default: quick ? 100 : 600, range: 0...1_000_000,
                                   help: "characters in the final sample (--quick: 100)")
        temperature = options.float("temperature", default: 0.8, range: 0.01...100, help: "sampling temperature")
        topK = options.int("top-k", default: 0, range: 0...1_000_000, help: "sample among the k likeliest characters; 0: all")
        prompt = options.string("prompt", default: "", help: "text the sample continues (empty: it starts after a newline)")
        attentionPrompt = options.string("attention-prompt", default: "ROMEO:\nBut soft, what light",
                                         help: "text whose attention maps are drawn")
        experiment = options.choice("experiment", default: "none", choices: week08Experiments,
                                    help: "instead of the main model, train the variants of one comparison and chart them")
        experimentSteps = options.int("experiment-steps", default: quick ? 40 : 1500, range: 1...10_000_000,
                                      help: "steps of each experiment run; its cosine ends there and it is evaluated every tenth of them, "
                                          + "whatever --decay-steps and --eval-every say (--quick: 40)")
        experimentLearningRate = options.float("experiment-lr", default: 3e-3, range: 1e-7...10,
                                               help: "peak learning rate of the prenorm-vs-postnorm runs (no warm-up there)")
        resume = options.optionalString("resume", help: "checkpoint to continue training from (bit for bit)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
        let step = options.float("check-step", default: 0, range: 0...100, shownDefault: "1e-2 (ReLU: 1e-3)",
                                 help: "finite-difference step h of the gradient check; too large and the check fails")
        checkStep = step > 0 ? step : nil
        if resume != nil && experiment != "none" { options.reportError("--resume continues the main run; it cannot be used with --experiment") }
    }
}

let week08Description = "a character-level GPT (nanoGPT's architecture) with every backward pass written by hand"
