// Every week 9 flag, its default and what --quick changes: the model and its training (as week 8,
// through the shared trainer, with early stopping), the sampling knobs, the inference tool and
// the export.
import Shared

/// What the program does after it has a model.
enum Week09Mode: Equatable {
    /// Train (or reuse --out's best checkpoint), compare the samplers, show inference.
    case lesson
    /// --checkpoint with no --interactive: continue one prompt, streaming.
    case prompt
    /// --interactive: one prompt per line of standard input until end of input.
    case interactive
}

struct Week09Config {
    var common: CommonFlags
    var corpus: String?
    var model: GPTConfig
    // training
    var steps: Int
    var batchSize: Int
    var learningRate: Float
    var minLearningRate: Float
    var warmupSteps: Int
    var weightDecay: Float
    var beta2: Float
    var clip: Float
    var evalEvery: Int
    var evalWindows: Int
    var patience: Int
    var retrain: Bool
    // inference
    var checkpoint: String?
    var prompt: String
    var maxTokens: Int
    var sampling: SamplingSettings
    var stop: String
    var interactive: Bool
    var jsonPath: String?
    var exportDirectory: String?
    var cache: Bool
    // the comparison
    var compare: Bool
    var samplesPerSetting: Int
    var sampleLength: Int
    var plots: Bool

    var mode: Week09Mode { interactive ? .interactive : checkpoint != nil ? .prompt : .lesson }

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    init(_ options: Options) {
        common = commonFlags(options, week: "Week09Sampling")
        let quick = common.quick
        corpus = options.optionalString("corpus", help: "UTF-8 text file to train on instead of the embedded Shakespeare")
        // the model: week 8's defaults
        let context = options.int("context", default: quick ? 32 : 64, range: 1...4096, help: "context length T (--quick: 32)")
        let layers = options.int("layers", default: quick ? 2 : 4, range: 1...64, help: "transformer blocks L (--quick: 2)")
        let heads = options.int("heads", default: quick ? 2 : 4, range: 1...64, help: "attention heads H (--quick: 2)")
        let width = options.int("width", default: quick ? 32 : 128, range: 1...4096,
                                help: "residual width C, a multiple of heads (--quick: 32)")
        let bias = options.flag("bias", help: "biases in every Linear and LayerNorm")
        let untied = options.flag("untied", help: "give the LM head its own matrix instead of reusing wte")
        let normPosition = options.choice("norm-position", default: "pre", choices: ["pre", "post"],
                                          help: "Pre-LN (GPT-2) or Post-LN (not exportable to GPT-2)")
        let norm = options.choice("norm", default: "layernorm", choices: GPTConfig.Norm.allCases.map(\.rawValue),
                                  help: "normalisation layer (rmsnorm is not exportable to GPT-2)")
        let activation = options.choice("activation", default: "gelu", choices: GPTConfig.Activation.allCases.map(\.rawValue),
                                        help: "MLP nonlinearity (gelu: exact erf form)")
        let positions = options.choice("positions", default: "learned", choices: GPTConfig.Positions.allCases.map(\.rawValue),
                                       help: "position information added to the token embedding")
        let dropout = options.float("dropout", default: 0, range: 0...0.9, help: "dropout probability")
        model = GPTConfig(vocabularySize: 1, context: context, layers: layers, heads: heads, width: width, bias: bias,
                          tiedHead: !untied, preNorm: normPosition == "pre", norm: GPTConfig.Norm(rawValue: norm)!,
                          activation: GPTConfig.Activation(rawValue: activation)!,
                          positions: GPTConfig.Positions(rawValue: positions)!, dropout: dropout)
        if width % heads != 0 { options.reportError("--width \(width) must be a multiple of --heads \(heads)") }
        // training, through the shared trainer
        steps = options.int("steps", default: quick ? 60 : 2000, range: 1...10_000_000,
                            help: "most optimizer steps (early stopping may end sooner; --quick: 60)")
        batchSize = options.int("batch", default: quick ? 8 : 12, range: 1...4096, help: "sequences per step B (--quick: 8)")
        learningRate = options.float("lr", default: quick ? 3e-3 : 1e-3, range: 1e-7...10, help: "peak learning rate (--quick: 3e-3)")
        minLearningRate = options.float("min-lr", default: quick ? 3e-4 : 1e-4, range: 0...10,
                                        help: "learning rate at the end of the cosine (--quick: 3e-4)")
        warmupSteps = options.int("warmup", default: quick ? 10 : 100, range: 0...10_000_000, help: "linear warm-up steps (--quick: 10)")
        weightDecay = options.float("weight-decay", default: 0.1, range: 0...10, help: "AdamW weight decay on the matrices")
        beta2 = options.float("beta2", default: 0.99, range: 0...0.999_999, help: "AdamW's β₂ (β₁ is 0.9)")
        clip = options.float("clip", default: 1, range: 0...1e6, help: "clip the gradient to this global norm; 0: off")
        evalEvery = options.int("eval-every", default: quick ? 20 : 100, range: 1...10_000_000,
                                help: "evaluate the validation loss every this many steps (--quick: 20)")
        evalWindows = options.int("eval-windows", default: quick ? 8 : 64, range: 0...10_000_000,
                                  help: "validation windows of T per evaluation during training, the same ones each time; "
                                      + "0: the whole split (--quick: 8)")
        patience = options.int("patience", default: 5, range: 0...10_000,
                               help: "early stopping: evaluations without a new best validation loss before stopping; 0: off")
        retrain = options.flag("retrain", help: "train even if --out already holds a best checkpoint of this model")
        // inference
        checkpoint = options.optionalString("checkpoint",
                                            help: "a week 9 (or week 8) GPT checkpoint to sample from instead of training")
        prompt = options.string("prompt", default: quick ? "ROMEO:" : "ROMEO:\n",
                                help: "text to continue (empty: start from a newline); --quick: ROMEO:")
        maxTokens = options.int("max-tokens", default: quick ? 60 : 300, range: 0...10_000_000,
                                help: "most characters to generate per prompt (--quick: 60)")
        let temperature = options.float("temperature", default: 0.8, range: 0...100, help: "sampling temperature; 0: greedy")
        let topK = options.optionalString("top-k", help: "keep only the k most likely characters (k ≥ 1)")
        let topP = options.optionalString("top-p", help: "keep the smallest set of most likely characters whose probability reaches p, in (0, 1]")
        let minP = options.optionalString("min-p", help: "drop characters less likely than min-p × the most likely one, in [0, 1)")
        let penalty = options.float("repetition-penalty", default: 1, range: 1e-3...100,
                                    help: "CTRL's penalty θ on characters of the last --repetition-window; 1: off")
        let window = options.int("repetition-window", default: 64, range: 0...1_000_000,
                                 help: "how many latest characters the penalty looks at; 0: all")
        stop = options.string("stop", default: "", help: "end generation when the output ends with this text (\\n allowed); empty: none")
        stop = stop.replacingEscapedNewlines
        interactive = options.flag("interactive", help: "read prompts line by line from standard input until end of input")
        jsonPath = options.optionalString("json", help: "write {prompt_ids, generated_ids, text, last_logits} of the prompt to this file")
        exportDirectory = options.optionalString("export-hf", help: "write the model as a Hugging Face GPT-2 directory here")
        cache = !options.flag("no-cache", help: "decode by rerunning the whole window every token (no KV cache)")
        // the comparison
        compare = options.flag("compare", help: "run the sampling comparison also with --checkpoint")
        samplesPerSetting = options.int("samples", default: quick ? 2 : 8, range: 1...10_000,
                                        help: "samples per setting in the comparison (--quick: 2)")
        sampleLength = options.int("sample-length", default: quick ? 60 : 200, range: 1...1_000_000,
                                   help: "characters per comparison sample (--quick: 60)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")

        // the knobs the sampler takes, each checked here so a bad one is one line and exit 2
        var settings = SamplingSettings(temperature: temperature, repetitionPenalty: penalty == 1 ? nil : penalty,
                                        repetitionWindow: window)
        if let topK {
            if let k = Int(topK.trimmed), k >= 1 { settings.topK = k } else {
                options.reportError("--top-k must be a whole number ≥ 1, got '\(topK)'")
            }
        }
        if let topP {
            if let p = Float(topP.trimmed), p > 0, p <= 1 { settings.topP = p } else {
                options.reportError("--top-p must be a number in (0, 1], got '\(topP)'")
            }
        }
        if let minP {
            if let m = Float(minP.trimmed), m >= 0, m < 1 { settings.minP = m } else {
                options.reportError("--min-p must be a number in [0, 1), got '\(minP)'")
            }
        }
        sampling = settings
        if interactive && jsonPath != nil { options.reportError("--json writes one prompt's result; leave it out with --interactive") }
    }

    /// The shared trainer's configuration: AdamW, warm-up + cosine (nanoGPT's), clipping,
    /// evaluation every evalEvery steps on the same evalWindows windows, early stopping with
    /// `patience` keeping the best weights, the whole validation split at the end.
    func training(configJSON: String, out: String) -> LanguageModelTrainingConfig {
        LanguageModelTrainingConfig(
            steps: steps, batchSize: batchSize, blockSize: model.context, learningRate: learningRate,
            clip: clip > 0 ? clip : nil, optimizer: .adamw,
            schedule: .warmupCosine(lr: learningRate, minLR: minLearningRate, warmupSteps: warmupSteps, totalSteps: steps),
            beta1: 0.9, beta2: beta2, eps: 1e-8, weightDecay: weightDecay, evalEvery: evalEvery,
            evalWindows: evalWindows > 0 ? evalWindows : nil, evalBatch: batchSize,
            checkpointPath: joinPath(out, "checkpoint.safetensors"), configJSON: configJSON,
            earlyStoppingPatience: patience > 0 ? patience : nil, keepBest: true,
            bestCheckpointPath: joinPath(out, "best.safetensors"), evaluateWholeValidationAtEnd: true)
    }
}

extension String {
    /// Without leading and trailing spaces.
    var trimmed: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }

    /// "\\n" typed on a command line becomes a newline (for --stop).
    var replacingEscapedNewlines: String {
        var out = "", escaped = false
        for character in self {
            if escaped {
                out.append(character == "n" ? "\n" : character == "t" ? "\t" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        if escaped { out.append("\\") }
        return out
    }
}

let week09Description = "training practice, sampling, a KV cache, inference and export, on week 8's GPT"
