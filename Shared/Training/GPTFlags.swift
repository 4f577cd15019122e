// The command-line flags of the GPT weeks (8-10): the model's architecture and the training
// loop's knobs, declared once so every GPT program spells, ranges and documents them alike and
// trains with the same schedule (nanoGPT's). Each week passes only the defaults that differ.
import SharedKernels
import SharedTools
import SharedData
import SharedNN

/// Declares the model flags (--context, --layers, --heads, --width, --bias, --untied,
/// --norm-position, --norm, --activation, --positions, --dropout) on `options` and returns the
/// GPT they describe, with vocabularySize 1 (the program sets it from its data). Defaults:
/// nanoGPT's CPU model; --quick: a 2-block, 64-wide one (it learns past letter frequencies in
/// 200 steps, a second or two).
public func gptModelFlags(_ options: Options, quick: Bool) -> GPTConfig {
    let context = options.int("context", default: quick ? 32 : 64, range: 1...4096, help: "context length T (--quick: 32)")
    let layers = options.int("layers", default: quick ? 2 : 4, range: 1...64, help: "transformer blocks L (--quick: 2)")
    let heads = options.int("heads", default: 4, range: 1...64, help: "attention heads H")
    let width = options.int("width", default: quick ? 64 : 128, range: 1...4096,
                            help: "residual width C, a multiple of heads (--quick: 64)")
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
    if width % heads != 0 { options.reportError("--width \(width) must be a multiple of --heads \(heads)") }
    return GPTConfig(vocabularySize: 1, context: context, layers: layers, heads: heads, width: width, bias: bias,
                     tiedHead: !untied, preNorm: normPosition == "pre", norm: GPTConfig.Norm(rawValue: norm)!,
                     activation: GPTConfig.Activation(rawValue: activation)!,
                     positions: GPTConfig.Positions(rawValue: positions)!, dropout: dropout)
}

/// The training knobs of a GPT run, as the flags gave them.
public struct GPTTrainingFlags {
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Float
    public var minLearningRate: Float
    public var warmupSteps: Int
    /// The step at which the cosine reaches minLearningRate (nanoGPT's lr_decay_iters).
    public var decaySteps: Int
    public var beta2: Float
    public var weightDecay: Float
    /// 0: no clipping.
    public var clip: Float
    public var evalEvery: Int
    /// 0: the whole validation split at every evaluation.
    public var evalWindows: Int

    /// nanoGPT's README CPU run (train_shakespeare_char.py with its CPU overrides): batch 12,
    /// lr 1e-3 with 100 warm-up steps, then a cosine to 1e-4 at the last step; AdamW β₂ 0.99,
    /// weight decay 0.1; clipping at 1. The flags' defaults, and what Bench times.
    public static func nanoGPTCPU(steps: Int = 2000, evalEvery: Int = 250, evalWindows: Int = 0) -> GPTTrainingFlags {
        GPTTrainingFlags(steps: steps, batchSize: 12, learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 100,
                         decaySteps: steps, beta2: 0.99, weightDecay: 0.1, clip: 1, evalEvery: evalEvery,
                         evalWindows: evalWindows)
    }

    /// nanoGPT's get_lr with these knobs.
    public var schedule: LearningRateSchedule {
        .nanoGPT(lr: learningRate, minLR: minLearningRate, warmupSteps: warmupSteps, decaySteps: decaySteps)
    }

    /// The shared trainer's settings for a GPT of context T: AdamW (β₁ 0.9, ε 1e-8, decay on the
    /// matrices only), nanoGPT's schedule, clipping, evaluation on the same windows each time.
    public func trainingConfig(context T: Int) -> LanguageModelTrainingConfig {
        LanguageModelTrainingConfig(
            steps: steps, batchSize: batchSize, context: T, learningRate: learningRate, clip: clip > 0 ? clip : nil,
            optimizer: .adamw, schedule: schedule, beta1: 0.9, beta2: beta2, eps: 1e-8, weightDecay: weightDecay,
            evalEvery: evalEvery, evalWindows: evalWindows > 0 ? evalWindows : nil, evalBatch: batchSize)
    }
}

/// Declares the training flags (--steps, --batch, --lr, --min-lr, --warmup, --decay-steps,
/// --beta2, --weight-decay, --clip, --eval-every, --eval-windows) on `options` and reads them.
/// Defaults: nanoGPT's CPU run; `steps`, `evalEvery` and `evalWindows` are the program's own
/// (each with its --quick value), and `stepsHelp` says what --steps means there.
public func gptTrainingFlags(_ options: Options, quick: Bool, steps: (normal: Int, quick: Int),
                             evalEvery: (normal: Int, quick: Int), evalWindows: (normal: Int, quick: Int),
                             stepsHelp: String = "optimizer steps") -> GPTTrainingFlags {
    func pick(_ value: (normal: Int, quick: Int)) -> Int { quick ? value.quick : value.normal }
    let stepCount = options.int("steps", default: pick(steps), range: 1...10_000_000,
                                help: "\(stepsHelp) (--quick: \(steps.quick))")
    let nano = GPTTrainingFlags.nanoGPTCPU()
    let batch = options.int("batch", default: quick ? 16 : nano.batchSize, range: 1...4096, help: "sequences per step B (--quick: 16)")
    let learningRate = options.float("lr", default: quick ? 3e-3 : nano.learningRate, range: 1e-7...10,
                                     help: "peak learning rate (--quick: 3e-3)")
    let minLearningRate = options.float("min-lr", default: quick ? 3e-4 : nano.minLearningRate, range: 0...10,
                                        help: "learning rate at the end of the cosine (--quick: 3e-4)")
    let warmup = options.int("warmup", default: quick ? 10 : nano.warmupSteps, range: 0...10_000_000,
                             help: "linear warm-up steps (--quick: 10)")
    let decay = options.int("decay-steps", default: 0, range: 0...10_000_000, shownDefault: "--steps",
                            help: "step at which the cosine reaches --min-lr; 0: --steps")
    let beta2 = options.float("beta2", default: nano.beta2, range: 0...0.999_999, help: "AdamW's β₂ (β₁ is 0.9)")
    let weightDecay = options.float("weight-decay", default: nano.weightDecay, range: 0...10,
                                    help: "AdamW weight decay on the matrices (not on gains and biases)")
    let clip = options.float("clip", default: nano.clip, range: 0...1e6, help: "clip the gradient to this global norm; 0: off")
    let every = options.int("eval-every", default: pick(evalEvery), range: 1...10_000_000,
                            help: "evaluate the validation loss every this many steps (--quick: \(evalEvery.quick))")
    let windows = options.int("eval-windows", default: pick(evalWindows), range: 0...10_000_000,
                              help: "validation windows of T tokens per evaluation, the same ones each time; "
                                  + "0: the whole split (--quick: \(evalWindows.quick))")
    return GPTTrainingFlags(steps: stepCount, batchSize: batch, learningRate: learningRate,
                            minLearningRate: minLearningRate, warmupSteps: warmup,
                            decaySteps: decay > 0 ? decay : stepCount, beta2: beta2, weightDecay: weightDecay,
                            clip: clip, evalEvery: every, evalWindows: windows)
}
