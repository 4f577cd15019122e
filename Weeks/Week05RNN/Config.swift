// Every week 5 flag, its default, and what --quick changes.
import Shared

struct Week05Config {
    var seed: UInt64 = 1337
    var quick = false
    var out = "runs/Week05/"
    var threads = 2
    /// A UTF-8 text file to train on instead of the embedded Shakespeare.
    var corpus: String?
    var hidden = 256
    var block = 64
    var batch = 32
    var steps = 3000
    var learningRate: Float = 2e-3
    /// 0 turns clipping off.
    var clip: Float = 1
    var carry = false
    var evalEvery = 250
    /// Validation windows per evaluation during training (0: the whole split).
    var evalWindows = 0
    var sampleEvery = 1000
    var sampleLength = 300
    var temperature: Float = 0.8
    var prompt = ""
    var topK = 0
    var topP: Float = 1
    var minP: Float = 0
    var optimizer = AdamVariant.adam
    var weightDecay: Float = 0
    var schedule = "constant"
    var warmup = 0
    var minLearningRate: Float = 2e-4
    var microBatches = 1
    var checkpointEvery = 0
    var resume: String?
    var plots = true

    init() {}

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    init(_ options: Options) {
        let common = commonFlags(options, week: "Week05")
        seed = common.seed
        quick = common.quick
        out = common.out
        threads = common.threads
        corpus = options.optionalString("corpus", help: "UTF-8 text file to train on instead of the embedded Shakespeare (~1 MB)")
        hidden = options.int("hidden", default: 256, range: 1...4096, help: "hidden state size H (--quick: 64)")
        block = options.int("block", default: 64, range: 1...4096, help: "characters per chunk T: how far BPTT reaches back (--quick: 32)")
        batch = options.int("batch", default: 32, range: 1...4096, help: "chunks per mini-batch B (--quick: 16)")
        steps = options.int("steps", default: 3000, range: 1...10_000_000, help: "training steps (--quick: 300)")
        learningRate = options.float("lr", default: 2e-3, range: 1e-7...10, help: "Adam learning rate (--quick: 1e-2)")
        clip = options.float("clip", default: 1, range: 0...1e6, help: "clip gradients to this global norm; 0 = no clipping")
        carry = options.flag("carry", help: "truncated BPTT: carry the hidden state across consecutive chunks instead of zero per chunk")
        evalEvery = options.int("eval-every", default: 250, range: 1...10_000_000, help: "validate every this many steps (--quick: 100)")
        evalWindows = options.int("eval-windows", default: 0, range: 0...10_000_000,
                                  help: "validation windows of T characters per evaluation during training; 0 = the whole split (--quick: 100)")
        sampleEvery = options.int("sample-every", default: 1000, range: 0...10_000_000, help: "print a sample every this many steps; 0 = never (--quick: 0)")
        sampleLength = options.int("sample-length", default: 300, range: 0...1_000_000, help: "characters per sample (--quick: 100)")
        temperature = options.float("temperature", default: 0.8, range: 0...100, help: "sampling temperature: < 1 safer, > 1 wilder, 0 = greedy")
        prompt = options.string("prompt", default: "", help: "text the final sample continues (every character must be in the corpus)")
        topK = options.int("top-k", default: 0, range: 0...1_000_000, help: "sample only from the k most likely characters; 0 = all")
        topP = options.float("top-p", default: 1, range: 1e-6...1, help: "sample from the smallest set of characters reaching this probability; 1 = all")
        minP = options.float("min-p", default: 0, range: 0...1, help: "drop characters less likely than this times the most likely one; 0 = none")
        optimizer = AdamVariant(rawValue: options.choice("optimizer", default: "adam", choices: AdamVariant.allCases.map(\.rawValue),
                                                         help: "adam (weight decay as L2) or adamw (decoupled weight decay)")) ?? .adam
        weightDecay = options.float("weight-decay", default: 0, range: 0...10, help: "weight decay λ on the weight matrices (not the biases)")
        schedule = options.choice("schedule", default: "constant", choices: ["constant", "cosine"],
                                  help: "learning rate: constant, or --warmup steps of linear warm-up then cosine down to --min-lr")
        warmup = options.int("warmup", default: 0, range: 0...10_000_000, help: "warm-up steps of the cosine schedule")
        minLearningRate = options.float("min-lr", default: 2e-4, range: 0...10, help: "the cosine schedule's final learning rate")
        microBatches = options.int("micro-batches", default: 1, range: 1...4096,
                                   help: "gradient accumulation: split each batch into this many forward/backward passes (must divide --batch)")
        checkpointEvery = options.int("checkpoint-every", default: 0, range: 0...10_000_000,
                                      help: "also save OUT/checkpoint.safetensors every this many steps; 0 = only at the end")
        resume = options.optionalString("resume", help: "continue the run saved in this checkpoint (same flags; --steps may be larger)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
        if quick {
            // a few seconds: a small net, short chunks, a higher learning rate, a partial validation
            if !options.wasGiven("hidden") { hidden = 64 }
            if !options.wasGiven("block") { block = 32 }
            if !options.wasGiven("batch") { batch = 16 }
            if !options.wasGiven("steps") { steps = 300 }
            if !options.wasGiven("lr") { learningRate = 1e-2 }
            if !options.wasGiven("eval-every") { evalEvery = 100 }
            if !options.wasGiven("eval-windows") { evalWindows = 100 }
            if !options.wasGiven("sample-every") { sampleEvery = 0 }
            if !options.wasGiven("sample-length") { sampleLength = 100 }
            for (name, value) in [("hidden", hidden), ("block", block), ("batch", batch), ("steps", steps),
                                  ("eval_every", evalEvery), ("eval_windows", evalWindows),
                                  ("sample_every", sampleEvery), ("sample_length", sampleLength)] {
                options.record(name, .number(Double(value)))
            }
            options.record("lr", .number(Double(learningRate)))
        }
        if batch % microBatches != 0 {
            options.reportError("--micro-batches \(microBatches) must divide --batch \(batch) into equal micro-batches")
        }
        if carry && microBatches > 1 { options.reportError("--carry works with one micro-batch per step (--micro-batches 1)") }
    }

    /// The training loop's settings. configJSON: every flag's value, stored in checkpoints.
    func training(configJSON: String, startToken: Int) -> LanguageModelTrainingConfig {
        LanguageModelTrainingConfig(
            steps: steps, batchSize: batch, context: block, learningRate: learningRate, clip: clip > 0 ? clip : nil,
            microBatches: microBatches, optimizer: optimizer,
            schedule: schedule == "cosine" ? .warmupCosine(lr: learningRate, minLR: minLearningRate, warmupSteps: warmup, totalSteps: steps)
                                           : .constant(lr: learningRate),
            weightDecay: weightDecay, carryState: carry, evalEvery: evalEvery, evalWindows: evalWindows > 0 ? evalWindows : nil,
            sampleEvery: sampleEvery, sampleLength: sampleLength, sampling: sampling, sampleStartToken: startToken,
            checkpointEvery: checkpointEvery, checkpointPath: joinPath(out, "checkpoint.safetensors"), configJSON: configJSON)
    }

    /// Temperature, top-k, top-p and min-p, as the sampler takes them.
    var sampling: SamplingSettings {
        SamplingSettings(temperature: temperature, topK: topK > 0 ? topK : nil, topP: topP < 1 ? topP : nil,
                         minP: minP > 0 ? minP : nil)
    }
}
