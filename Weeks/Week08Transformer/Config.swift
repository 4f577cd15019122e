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
    /// The shared trainer's settings (Shared/NN/LanguageModelTraining.swift); its checkpoint
    /// path and config JSON are filled in by main.swift.
    var training: LanguageModelTrainingConfig
    /// The schedule's knobs (the experiments build their own schedules from them).
    var learningRate: Float
    var minLearningRate: Float
    var warmupSteps: Int
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

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    /// A preset sets every default at once; any flag given on the command line overrides it.
    init(_ options: Options) {
        common = commonFlags(options, week: "Week08Transformer")
        preset = options.choice("preset", default: "default", choices: ["default", "nanogpt-cpu"],
                                help: "default: nanoGPT's CPU model trained 5000 steps; nanogpt-cpu: nanoGPT's README CPU "
                                    + "run exactly (2000 steps, decay to 2000, eval every 250)")
        let nano = preset == "nanogpt-cpu", quick = common.quick
        corpus = options.optionalString("corpus", help: "UTF-8 text file to train on instead of the embedded Shakespeare")
        // the model
        let context = options.int("context", default: quick ? 32 : 64, range: 1...4096, help: "context length T (--quick: 32)")
        let layers = options.int("layers", default: quick ? 2 : 4, range: 1...64, help: "transformer blocks L (--quick: 2)")
        let heads = options.int("heads", default: quick ? 2 : 4, range: 1...64, help: "attention heads H (--quick: 2)")
        let width = options.int("width", default: quick ? 32 : 128, range: 1...4096,
                                help: "residual width C, a multiple of heads (--quick: 32)")
        let bias = options.flag("bias", help: "biases in every Linear and LayerNorm (nanoGPT's bias=True)")
        let untied = options.flag("untied", help: "give the LM head its own matrix instead of reusing wte")
        let normPosition = options.choice("norm-position", default: "pre", choices: ["pre", "post"],
                                          help: "Pre-LN (x + f(LN(x)), GPT-2) or Post-LN (LN(x + f(x)), 2017)")
        let norm = options.choice("norm", default: "layernorm", choices: GPTConfig.Norm.allCases.map(\.rawValue),
                                  help: "normalisation layer")
        let activation = options.choice("activation", default: "gelu", choices: GPTConfig.Activation.allCases.map(\.rawValue),
                                        help: "MLP nonlinearity (gelu: exact erf form, nn.GELU())")
        let positions = options.choice("positions", default: "learned", choices: GPTConfig.Positions.allCases.map(\.rawValue),
                                       help: "position information added to the token embedding")
        let dropout = options.float("dropout", default: 0, range: 0...0.9, help: "dropout probability (nanoGPT's CPU run: 0)")
        model = GPTConfig(vocabularySize: 1, context: context, layers: layers, heads: heads, width: width, bias: bias,
                          tiedHead: !untied, preNorm: normPosition == "pre", norm: GPTConfig.Norm(rawValue: norm)!,
                          activation: GPTConfig.Activation(rawValue: activation)!,
                          positions: GPTConfig.Positions(rawValue: positions)!, dropout: dropout)
        if width % heads != 0 { options.reportError("--width \(width) must be a multiple of --heads \(heads)") }
        // the training loop (the shared LanguageModelTrainer: AdamW, nanoGPT's schedule, clipping)
        let steps = options.int("steps", default: quick ? 60 : nano ? 2000 : 5000, range: 1...10_000_000,
                                help: "optimizer steps (nanogpt-cpu: 2000; --quick: 60)")
        let batch = options.int("batch", default: quick ? 8 : 12, range: 1...4096, help: "sequences per step B (--quick: 8)")
        let learningRate = options.float("lr", default: quick ? 3e-3 : 1e-3, range: 1e-7...10,
                                         help: "peak learning rate (--quick: 3e-3)")
        let minLearningRate = options.float("min-lr", default: quick ? 3e-4 : 1e-4, range: 0...10,
                                            help: "learning rate at the end of the cosine (--quick: 3e-4)")
        let warmup = options.int("warmup", default: quick ? 10 : 100, range: 0...10_000_000,
                                 help: "linear warm-up steps (--quick: 10)")
        let decay = options.int("decay-steps", default: 0, range: 0...10_000_000, shownDefault: "--steps",
                                help: "step at which the cosine reaches --min-lr; 0: --steps")
        let beta2 = options.float("beta2", default: 0.99, range: 0...0.999_999, help: "AdamW's β₂ (β₁ is 0.9)")
        let weightDecay = options.float("weight-decay", default: 0.1, range: 0...10,
                                        help: "AdamW weight decay on the matrices (not on gains and biases)")
        let clip = options.float("clip", default: 1, range: 0...1e6, help: "clip the gradient to this global norm; 0: off")
        let evalEvery = options.int("eval-every", default: quick ? 30 : nano ? 250 : 500, range: 1...10_000_000,
                                    help: "evaluate the validation loss every this many steps (nanogpt-cpu: 250; --quick: 30)")
        let evalWindows = options.int("eval-windows", default: quick ? 16 : 0, range: 0...10_000_000,
                                      help: "validation windows of T characters per evaluation; 0: the whole split (--quick: 16)")
        self.learningRate = learningRate
        self.minLearningRate = minLearningRate
        warmupSteps = warmup
        let schedule = LearningRateSchedule.nanoGPT(lr: learningRate, minLR: minLearningRate, warmupSteps: warmup,
                                                    decaySteps: decay > 0 ? decay : steps)
        training = LanguageModelTrainingConfig(
            steps: steps, batchSize: batch, blockSize: context, learningRate: learningRate, clip: clip > 0 ? clip : nil,
            optimizer: .adamw, schedule: schedule, beta1: 0.9, beta2: beta2, eps: 1e-8, weightDecay: weightDecay,
            evalEvery: evalEvery, evalWindows: evalWindows > 0 ? evalWindows : nil, evalBatch: batch)
        // sampling, experiments, checkpoints
        sampleLength = options.int("sample-length", default: quick ? 100 : 600, range: 0...1_000_000,
                                   help: "characters in the final sample (--quick: 100)")
        temperature = options.float("temperature", default: 0.8, range: 0.01...100, help: "sampling temperature")
        topK = options.int("top-k", default: 0, range: 0...1_000_000, help: "sample among the k likeliest characters; 0: all")
        prompt = options.string("prompt", default: "", help: "text the sample continues (empty: it starts after a newline)")
        attentionPrompt = options.string("attention-prompt", default: "ROMEO:\nBut soft, what light",
                                         help: "text whose attention maps are drawn")
        experiment = options.choice("experiment", default: "none", choices: week08Experiments,
                                    help: "instead of the main run, train the variants of one comparison and chart them")
        experimentSteps = options.int("experiment-steps", default: quick ? 40 : 1500, range: 1...10_000_000,
                                      help: "steps of each experiment run (--quick: 40)")
        experimentLearningRate = options.float("experiment-lr", default: 3e-3, range: 1e-7...10,
                                               help: "peak learning rate of the prenorm-vs-postnorm runs (no warm-up there)")
        resume = options.optionalString("resume", help: "checkpoint to continue training from (bit for bit)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
    }
}

let week08Description = "a character-level GPT (nanoGPT's architecture) with every backward pass written by hand"
