// Week 07: from recurrence to attention. Text becomes tokens (characters, words, byte pairs),
// tokens become vectors (word2vec, trained by hand), and attention lets every position read
// every other one directly: softmax(Q·Kᵀ/√D + mask)·V. On a toy task (reverse or copy L digits)
// an LSTM encoder-decoder that must squeeze the source into one state loses to the same model
// with attention, and a small Transformer with positions solves it outright; without positions
// it cannot tell where a digit was.
//
// Read, in order:
//   Tokenization.swift            part 1: three ways to cut text, and what each costs
//   Word2Vec.swift                part 2: skip-gram with negative sampling, forward/backward
//   Shared/Kernels/Attention.swift part 3: attentionForward / attentionBackward (masks, heads),
//                                 the pair the GPT of weeks 8-10 uses too
//   Shared/NN/AttentionLayer.swift the pair on (B, H, T, D) arrays, and the multi-head layer
//   Seq2Seq.swift, Transformer.swift   part 4: the three models
//   ToyTask.swift                 part 4: same budget, same batches, held-out scoring
//   main.swift                    this file: the lesson, top to bottom, one call per part
//   Checks.swift, Week07.swift    the gradient checks; each part's function; outputs and summary
//
// Run:   swift run -c release Week07Attention                 (all five parts, ~3 min on 2 cores)
//        swift run -c release Week07Attention --part toy --task copy
//        swift run -c release Week07Attention --part embeddings --w2v-epochs 10
// Test:  swift test --filter Week07
// Expect: see CURRICULUM.md, week 7 (measured numbers, 3 seeds).
import Shared

// MARK: 1. Config: every knob with its default (--help lists them)
let options = Options(program: "Week07Attention", summary: week07Description)
let config = Week07Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.threads) {
    var result = Week07Result(config: config)
    let text = config.runs("tokens") || config.runs("embeddings") ? check { try loadWeek07Text(config) } : ""

    // MARK: 2. Part 1, tokenization: characters vs words vs byte-pair merges
    if config.runs("tokens") {
        say("\n== part 1: tokenization (vocabularies from the first 90% of the text, counts on the last 10%)")
        result.tokenization = runTokenizationPart(text: text, config: config, log: say)
    }

    // MARK: 3. Part 2, embeddings: word2vec by hand, nearest neighbours, related pairs, a PCA map
    if config.runs("embeddings") {
        say("\n== part 2: word2vec (skip-gram, negative sampling)")
        result.embeddings = runEmbeddingPart(text: text, config: config, log: say)
    }

    // MARK: 4. Part 3, attention as a function: against naive loops, gradient-checked with every mask
    if config.runs("attention") {
        say("\n== part 3: scaled dot-product attention")
        result.attention = runAttentionPart(config: config, log: say)
    }

    // MARK: 5. Part 4, the toy task: LSTM, LSTM + attention, Transformer; same steps and batches
    if config.runs("toy") {
        say("\n== part 4: attention beats recurrence on \(config.toy.task.rawValue)")
        result.toy = runToyPart(config: config, log: say)
    }

    // MARK: 6. Part 5, positions: attention alone cannot tell positions apart
    if config.runs("positions") {
        say("\n== part 5: positional information")
        result.positions = runPositionsPart(config: config, reusing: result.toy?.runs ?? [:], log: say)
    }

    // MARK: 7. Plots, metrics.json and the summary
    let files = check { try writeWeek07Outputs(result, configJSON: options.config) }
    week07Summary(result).forEach(say)
    say("wrote " + files.joined(separator: ", "))
}
