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
    // training (the GPT weeks' shared flags) and early stopping
    var trainingFlags: GPTTrainingFlags
    var steps: Int { trainingFlags.steps }
    var batchSize: Int { trainingFlags.batchSize }
    var evalEvery: Int { trainingFlags.evalEvery }
    var evalWindows: Int { trainingFlags.evalWindows }
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
        // the model and the training loop: week 8's flags and defaults (Shared/Training/GPTFlags.swift)
        model = gptModelFlags(options, quick: quick)
        trainingFlags = gptTrainingFlags(options, quick: quick, steps: (2000, 200), evalEvery: (100, 50),
                                         evalWindows: (64, 8),
                                         stepsHelp: "most optimizer steps (early stopping may end sooner)")
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

    /// The shared trainer's configuration: AdamW, nanoGPT's warm-up + cosine, clipping,
    /// evaluation every evalEvery steps on the same evalWindows windows, early stopping with
    /// `patience` keeping the best weights, the whole validation split at the end.
    func training(configJSON: String, out: String) -> LanguageModelTrainingConfig {
        var config = trainingFlags.trainingConfig(context: model.context)
        config.checkpointPath = joinPath(out, "checkpoint.safetensors")
        config.configJSON = configJSON
        config.earlyStoppingPatience = patience > 0 ? patience : nil
        config.keepBest = true
        config.bestCheckpointPath = joinPath(out, "best.safetensors")
        config.evaluateWholeValidationAtEnd = true
        return config
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
