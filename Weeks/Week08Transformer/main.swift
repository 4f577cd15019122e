// Week 08: the Transformer. A character-level GPT with nanoGPT's architecture (token and position
// embeddings, Pre-LN blocks of causal multi-head self-attention and a GELU MLP, a final LayerNorm,
// a head tied to the token embedding), every backward pass written by hand, trained with AdamW,
// warm-up and cosine decay, clipping, and sampled at the end.
//
// Read, in order (beside llm.c's train_gpt2.c: CURRICULUM.md's week 8 has the two side by side):
//   Shared/Kernels/Attention.swift   attentionForward / attentionBackward: scores, causal softmax,
//                                    weighted sum, per (batch, head), read in place from q|k|v
//   Shared/Kernels/Linear.swift, LayerNorm.swift, GELU.swift, CrossEntropy.swift   the other kernels
//   Shared/NN/GPT.swift              the model: the parameter arena with nanoGPT's names, every
//                                    activation a named buffer with its shape, blockForward and
//                                    blockBackward in straight lines, the variants beside them
//   Shared/Training/LanguageModelTraining.swift  the training loop every language model shares:
//                                    batches, AdamW (decay on matrices only), nanoGPT's schedule,
//                                    clipping, evaluation, checkpoints that resume bit for bit
//   main.swift                       this file: the lesson, top to bottom
//   Week08.swift, Config.swift       each step below as one function; the flags
//
// Run:   swift run -c release Week08Transformer                        (5000 steps, ~3.5 min)
//        swift run -c release Week08Transformer --preset nanogpt-cpu
//        swift run -c release Week08Transformer --experiment prenorm-vs-postnorm
// Test:  swift test --filter Week08
// Expect: loss ≈ ln V = 4.32 at step 0 (V = 75 characters); validation ≈ 1.81 nats/char after 5000 steps; a sample
//         with speaker names; loss.svg, attention.svg, metrics.json in runs/Week08/.
import Shared

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week08Transformer", summary: week08Description)
let config = Week08Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.common.threads) {
    // MARK: 2. Data: characters, split 90/10 as nanoGPT does; this machine's peak FLOP/s for MFU
    let data = check { try CharacterData.load(corpus: config.corpus, prompt: config.prompt + config.attentionPrompt) }
    say(data.description)
    let peakFLOPS = measuredPeakFLOPS(threads: config.common.threads, seconds: config.common.quick ? 0.05 : 0.3)
    say("this machine's peak, measured: \(formatFixed(peakFLOPS / 1e9, digits: 0)) GFLOP/s on \(config.common.threads) threads")

    // MARK: 3. Check: the whole model's backward against finite differences; a failure stops the run
    let checks = check { try checkWeek08Gradients(seed: config.common.seed, step: config.checkStep, log: say) }

    // MARK: 4. Models: the GPT the flags describe, or one per variant of --experiment
    let plans = week08Plans(config)

    // MARK: 5. Train: AdamW, warm-up + cosine, clipping; the validation loss every --eval-every steps
    let trained = check { try trainWeek08Plans(plans, data: data, config: config, peakFLOPS: peakFLOPS, log: say) }

    // MARK: 6. Evaluate: the whole validation split, every character once
    let validationLosses = evaluateWeek08(trained, log: say)

    // MARK: 7. Sample: continue the prompt with the (first) model, one character at a time
    let sample = check { try sampleWeek08(trained[0].model, config: config, data: data) }
    say("\n--- sample of \(trained[0].run.label) (temperature \(config.temperature)) ---\n" + sample + "\n---")

    // MARK: 8. Outputs: loss curves, attention maps, metrics.json
    let files = check {
        try writeWeek08Outputs(trained, validationLosses: validationLosses, sample: sample, checks: checks,
                               peakFLOPS: peakFLOPS, config: config, configJSON: options.config, data: data)
    }
    say("summary: " + zip(trained, validationLosses).map { model, loss in
        "\(model.run.label): \(model.run.stepLosses.count) steps, validation \(formatFixed(loss, digits: 4)) nats/char, "
            + "\(formatFixed(model.run.medianStepMilliseconds, digits: 1)) ms/step"
    }.joined(separator: "; "))
    say("wrote " + files.joined(separator: ", "))
    if let diverged = trained.first(where: { $0.run.divergence != nil }) { fail("\(diverged.run.label): training diverged") }
}
