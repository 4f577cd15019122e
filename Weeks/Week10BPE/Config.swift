// Every week 10 flag, its default, and what --quick changes.
import Shared

struct Week10Config {
    var seed: UInt64 = 1337
    var quick = false
    var out = "runs/Week10/"
    var threads = 1
    /// A UTF-8 text file to train on instead of the embedded Shakespeare.
    var corpus: String?
    var vocabularySize = 1024
    var pattern = SplitPattern.gpt4
    /// A saved tokenizer (tokenizer.json or a .tiktoken rank file) to load instead of training.
    var tokenizer: String?
    var specialTokens = ["<|endoftext|>"]
    var sample = "The quick brown fox can't jump 32.5 feet, naïvely! Größe 東京 🦊"
    /// Characters of the corpus --quick trains on (0 = all).
    var quickCharacters = 0
    var plots = true

    init() {}

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    init(_ options: Options) {
        let common = commonFlags(options, week: "Week10", defaultSeed: 1337)
        seed = common.seed
        quick = common.quick
        out = common.out
        threads = common.threads
        corpus = options.optionalString("corpus", help: "UTF-8 text file to train on instead of the embedded Shakespeare (~1 MB)")
        vocabularySize = options.int("vocab-size", default: 1024,
                                     help: "tokens in the vocabulary: 256 bytes + merges (at least 256; --quick: 512)")
        let patternName = options.choice("pattern", default: "gpt4", choices: SplitPattern.allCases.map(\.rawValue),
                                         help: "pre-tokenization pattern: GPT-4's (cl100k) or GPT-2's")
        pattern = SplitPattern(rawValue: patternName) ?? .gpt4
        tokenizer = options.optionalString("tokenizer", help: "load this tokenizer.json or .tiktoken file instead of training")
        let specials = options.string("special-tokens", default: "<|endoftext|>",
                                      help: "comma-separated special tokens, given ids after the merges (\"\" for none)")
        specialTokens = specials.split(separator: ",").map(String.init)
        sample = options.string("sample", default: sample, help: "the sentence shown split into tokens")
        plots = !options.flag("no-plots", help: "skip the SVG chart")
        if vocabularySize < 256 {
            options.reportError("--vocab-size \(vocabularySize) is below 256: byte-level BPE starts with the 256 byte tokens")
        }
        if quick {
            // a few seconds in a debug build: the first 200,000 characters, 512 tokens
            if !options.wasGiven("vocab-size") { vocabularySize = 512 }
            quickCharacters = 200_000
            options.record("vocab-size", .number(Double(vocabularySize)))
            options.record("quick-characters", .number(Double(quickCharacters)))
        }
    }
}
