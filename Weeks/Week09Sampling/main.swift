// Week 09: LLM practice on week 8's GPT. Training with a validation split, perplexity and bits
// per character, early stopping that keeps the best checkpoint; sampling (greedy, temperature,
// top-k, top-p, min-p, a repetition penalty) compared on the same prompts; a key/value cache
// that makes each new token one row through the model; an inference tool; and an export that
// Hugging Face transformers loads as GPT-2.
//
// Read, in order:
//   Shared/NN/Sampling.swift              the sampler: one documented order of the knobs, the generation loop
//   Shared/NN/GPTKVCache.swift            incremental decoding: keys and values kept per block
//   Shared/NN/GPTLanguageModel.swift      the decoding state and nanoGPT's crop policy past the context
//   Shared/Training/LanguageModelTraining.swift early stopping with patience, the best weights restored
//   Shared/Training/GPTExport.swift             GPT-2's names and Conv1D layout, config.json, tokenizer.json
//   Run.swift, Week09.swift, Config.swift the lesson below as one function (the tests run it too)
//
// Run:   swift run -c release Week09Sampling                           (trains ~2000 steps, then compares)
//        swift run -c release Week09Sampling --checkpoint runs/Week09/best.safetensors --prompt "ROMEO:" --max-tokens 200
//        printf 'JULIET:\nKING:\n' | swift run -c release Week09Sampling --checkpoint runs/Week09/best.safetensors --interactive
//        swift run -c release Week09Sampling --checkpoint runs/Week09/best.safetensors --export-hf runs/Week09/hf
// Test:  swift test --filter Week09
// Expect: the validation loss falling to ~1.7 nats/char (perplexity ~5.5); the KV cache's greedy
//         text identical to the full recompute; greedy text repetitive (low distinct-2), high
//         temperature full of non-words; training.svg, sampling.svg, metrics.json in runs/Week09/.
import Shared

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week09Sampling", summary: week09Description)
let config = Week09Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.common.threads) {
    // MARK: 2-7. Model (checkpoint or training), KV cache check, comparison, inference, export, outputs (Run.swift)
    // (a --prompt or --stop the vocabulary cannot take is a bad command line: exit 2)
    let result = check { try runWeek09(config, configJSON: options.config, log: say) }

    // MARK: 8. Summary
    week09Summary(result).forEach(say)
    if !result.files.isEmpty { say("wrote " + result.files.joined(separator: ", ")) }
}
