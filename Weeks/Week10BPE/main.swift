// Week 10, part 1: a byte-level BPE tokenizer, the one GPT-2 and GPT-4 use, from scratch.
// Text becomes UTF-8 bytes; a regular expression cuts it into chunks (words with their leading
// space, numbers, punctuation, whitespace runs); training merges the most frequent adjacent
// pair of tokens into a new token, again and again; encoding replays the merges in order.
//
// Read, in order (the tokenizer lives in Shared/Data/BPE/: week 10's model and Bench use it too):
//   Shared/Data/BPE/Pretokenizer.swift    the GPT-4 and GPT-2 split patterns, matched by hand
//   Shared/Data/BPE/BPETrainerNaive.swift training the plain way (minbpe): recount every pair, merge the top
//   Shared/Data/BPE/BPETrainer.swift      the same merges, fast: incremental pair counts, a priority queue
//   Shared/Data/BPE/BPETokenizer.swift    encoding (merges by rank, a chunk cache), decoding, special tokens
//   Shared/Data/BPE/TokenizerFiles.swift  tiktoken rank files and Hugging Face tokenizer.json
//   main.swift                            this file: the lesson, top to bottom, one call per step
//   Week10.swift, Config.swift            each step below as one function; the flags
//
// Run:   swift run -c release Week10BPE                    (embedded Shakespeare, vocab 1024)
//        swift run -c release Week10BPE --vocab-size 4096 --pattern gpt2 --corpus my.txt
//        swift run -c release Week10BPE --tokenizer runs/Week10/tokenizer.json
// Test:  swift test --filter Week10
// Expect: 768 merges in well under a second; the first merge [ ] + [t] -> [ t] (20,903 times);
//         2.59 bytes/token at vocab 1024 on the embedded Shakespeare; the exact round trip; in
//         runs/Week10/: tokenizer.json, tokenizer.tiktoken, metrics.json, bytes_per_token.svg.
import Shared

// MARK: 1. Config: every flag with its default (--help lists them)
let options = Options(program: "Week10BPE", summary: week10Description)
let config = Week10Config(options)
options.finish()

// Every kernel below runs on --threads threads (a task-local count, bound for the rest of the run).
Threads.$count.withValue(config.threads) {
    // MARK: 2. Data: the embedded Shakespeare (or --corpus) as UTF-8 text
    let corpus = check { try loadWeek10Text(config, log: say) }

    // MARK: 3. Train: merge the most frequent pair, --vocab-size − 256 times (or load --tokenizer)
    let made = check { try makeWeek10Tokenizer(config, text: corpus.text, log: say) }

    // MARK: 4. Look: the first merges, a sample sentence, numbers, whitespace, other scripts
    showWeek10Tokens(made, text: corpus.text, config: config, log: say)

    // MARK: 5. Encode the whole corpus: bytes per token, speed, the exact round trip
    let encoding = encodeWeek10Corpus(made.tokenizer, text: corpus.text, log: say)

    // MARK: 6. Outputs: tokenizer.json, tokenizer.tiktoken, metrics.json, bytes_per_token.svg
    let files = check {
        try writeWeek10Files(made, encoding: encoding, corpusBytes: corpus.text.utf8.count, config: config,
                             configJSON: options.config, log: say)
    }
    week10Summary(made, encoding: encoding, corpusBytes: corpus.text.utf8.count).forEach(say)
    say("wrote " + files.joined(separator: ", "))
    if !encoding.roundTripExact { fail("decode(encode(text)) differs from the text") }
}
