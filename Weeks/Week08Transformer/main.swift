// Week 08: the Transformer. A character-level GPT with nanoGPT's architecture (token and position
// embeddings, Pre-LN blocks of causal multi-head self-attention and a GELU MLP, a final LayerNorm,
// a head tied to the token embedding), every backward pass written by hand, trained with AdamW,
// warm-up and cosine decay, clipping, and sampled at the end.
//
// Read, in order:
//   Shared/NN/GPTLayers.swift    the pieces, forward and backward side by side: Linear, LayerNorm /
//                                RMSNorm, exact GELU, causal attention over a fused q|k|v buffer
//   Shared/NN/GPT.swift          the model: one parameter arena with nanoGPT's names, one gradient
//                                arena, one activation arena; forward, then backward in reverse
//   Shared/NN/LanguageModelTraining.swift  the training loop every language model shares: batches,
//                                AdamW (decay on matrices only), nanoGPT's schedule, clipping,
//                                evaluation, checkpoints that resume bit for bit
//   main.swift                   this file: the lesson, top to bottom
//   Week08.swift, Config.swift   the run with its progress line and MFU, the experiments, plots
//
// Run:   swift run -c release Week08Transformer                        (5000 steps)
//        swift run -c release Week08Transformer --preset nanogpt-cpu --corpus tinyshakespeare.txt
//        swift run -c release Week08Transformer --experiment prenorm-vs-postnorm
// Test:  swift test --filter Week08
// Expect: loss ≈ ln V at step 0; nanogpt-cpu: validation 1.92 at step 2000 (PyTorch 1.886 ± 0.02);
//         a sample with speaker names; loss.svg, attention.svg, metrics.json in runs/Week08/.
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week08Transformer", summary: week08Description)
let config = Week08Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.common.threads) {

    // MARK: 2. Data: characters, split 90/10 as nanoGPT does
    let data = check { try CharacterData.load(corpus: config.corpus, prompt: config.prompt + config.attentionPrompt) }
    say(data.description)
    let peakFLOPS = measuredPeakFLOPS(threads: config.common.threads, seconds: config.common.quick ? 0.05 : 0.3)
    say("this machine's peak, measured: \(formatFixed(peakFLOPS / 1e9, digits: 0)) GFLOP/s on \(config.common.threads) threads")

    // MARK: 3. Check: the whole model's backward against finite differences (tiny sizes)
    let checks = check { try checkWeek08Backward(seed: config.common.seed) }
    for (variant, result) in checks {
        say("gradient check, \(variant): relative error \(formatScientific(result.error))" + (result.passed ? " ok" : " FAILED\n\(result)"))
    }

    check { try createDirectories(config.common.out) }
    var metricsFinal: [String: JSONValue] = [
        "gradient_check_worst": JSONValue(checks.map(\.result.error).max() ?? .nan),
        "peak_gflops": JSONValue(peakFLOPS / 1e9),
    ]
    let metrics = MetricsLog(week: "Week08Transformer", config: options.config)

    if config.experiment != "none" {
        // MARK: 4a. An experiment instead: its variants, same data, seed and batches; one chart
        let runs = check { try runWeek08Experiment(config.experiment, data: data, config: config, peakFLOPS: peakFLOPS, log: say) }
        for run in runs {
            say("\(config.experiment) | \(run.label): val loss \(formatFixed(run.finalValidationLoss, digits: 4))"
                + (run.divergence.map { " (\($0))" } ?? ""))
        }
        let chart = joinPath(config.common.out, "experiment-\(config.experiment).svg")
        if config.plots { check { try writeTextFile(week08LossChart(runs, title: "Week 8: \(config.experiment)"), to: chart) } }
        metricsFinal["experiment"] = .object(Dictionary(uniqueKeysWithValues: runs.map { ($0.label, week08RunJSON($0)) }))
        check { _ = try metrics.write(final: metricsFinal, to: config.common.out) }
        say("wrote \(config.plots ? chart + ", " : "")\(joinPath(config.common.out, "metrics.json"))")
        exit(0)
    }

    // MARK: 4. Model: the GPT for this vocabulary, GPT-2's initialisation
    let model = check { try makeWeek08Model(config, vocabularySize: data.vocabulary.size, seed: config.common.seed) }
    say("model: \(model.config.layers) blocks of \(model.config.heads) heads, width \(model.config.width), context "
        + "\(model.config.context), \(model.parameterCount) parameters (tied head counted once); "
        + "\(formatFixed(model.config.trainingFLOPsPerToken / 1e6, digits: 2)) MFLOP per token per training step")
    let checkpoint = joinPath(config.common.out, "checkpoint.safetensors")
    let trainer = check { try makeWeek08Trainer(model, config: config.training, data: data, checkpoint: checkpoint,
                                                configJSON: model.config.json, seed: config.common.seed) }
    if let resume = config.resume {
        // refused with one line if it holds another architecture or was trained with other settings
        check { try trainer.resume(from: resume) }
        say("resumed from \(resume) at step \(trainer.step)")
    }

    // MARK: 5. Train: AdamW, warm-up + cosine, clipping; the validation loss every --eval-every steps
    let run = check { try trainWeek08(trainer, model: model, label: "train", peakFLOPS: peakFLOPS, log: say) }
    for row in run.history { metrics.record(row) }

    // MARK: 6. Evaluate: the whole validation split, every character once
    let validationLoss = check { try model.evaluate(ids: data.validation, context: model.config.context, batch: model.maxBatch) }
    say("validation loss over the whole split: \(formatFixed(validationLoss, digits: 4)) nats/char "
        + "(\(formatFixed(validationLoss / natsPerBit, digits: 3)) bits); at the last evaluation \(formatFixed(run.finalValidationLoss, digits: 4))")
    say("speed: \(formatFixed(run.medianStepMilliseconds, digits: 1)) ms/step (median), "
        + "\(formatFixed(run.tokensPerSecond, digits: 0)) tokens/s, MFU \(formatPercent(run.mfu))")

    // MARK: 7. Sample: continue the prompt, one character at a time
    var sampleRNG = SplitMix64(seed: config.common.seed &+ 1)
    let sampling = SamplingSettings(temperature: config.temperature, topK: config.topK > 0 ? config.topK : nil)
    let sample = check { try sampleText(model, tokenizer: data.vocabulary, prompt: config.prompt, count: config.sampleLength,
                                        sampling: sampling, startToken: data.vocabulary.id(of: "\n") ?? 0, rng: &sampleRNG) }
    say("\n--- sample (temperature \(config.temperature)) ---\n" + sample + "\n---")

    // MARK: 8. Outputs: loss curve, attention maps, metrics.json
    var files = [checkpoint]
    if config.plots {
        let lossChart = joinPath(config.common.out, "loss.svg"), attention = joinPath(config.common.out, "attention.svg")
        check { try writeTextFile(week08LossChart([run], title: "Week 8: GPT on \(data.name)"), to: lossChart) }
        check { try writeTextFile(try week08AttentionMaps(model, vocabulary: data.vocabulary, prompt: config.attentionPrompt), to: attention) }
        files += [lossChart, attention]
    }
    metricsFinal["main"] = week08RunJSON(run)
    metricsFinal["val_loss"] = JSONValue(validationLoss)
    metricsFinal["val_loss_estimate"] = JSONValue(run.finalValidationLoss)
    metricsFinal["parameters"] = JSONValue(model.parameterCount)
    metricsFinal["sample"] = JSONValue(sample)
    files.append(check { try metrics.write(final: metricsFinal, to: config.common.out) })
    say("summary: \(trainer.step) steps, validation \(formatFixed(validationLoss, digits: 4)) nats/char, "
        + "\(formatFixed(run.medianStepMilliseconds, digits: 1)) ms/step")
    say("wrote " + files.joined(separator: ", "))
}
