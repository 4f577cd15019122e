// Every week 7 flag, its default, and what --quick changes.
import Shared

struct Week07Config {
    var seed: UInt64 = 1337
    var quick = false
    var out = "runs/Week07/"
    var threads = 2
    /// "all", or one of "tokens", "embeddings", "attention", "toy", "positions".
    var part = "all"
    var corpus: String?
    var plots = true
    // part 1
    var wordMinimumCount = 5
    var merges = 300
    // part 2
    var skipGram = SkipGramConfig()
    var embeddingMinimumCount = 5
    // parts 4 and 5
    var toy = ToyTaskConfig()
    var length = 20
    var sweepLengths = [5, 10, 15, 20, 25, 30]
    var sweepSteps = 1000
    /// The models part 4 trains, in order.
    var models: [ToyModelKind] = [.lstm, .lstmAttention, .transformer, .transformerNoPositions]

    static let parts = ["all", "tokens", "embeddings", "attention", "toy", "positions"]

    init() {}

    /// Declares the flags on `options` and reads them; call `options.finish()` afterwards.
    init(_ options: Options) {
        let common = commonFlags(options, week: "Week07")
        seed = common.seed
        quick = common.quick
        out = common.out
        threads = common.threads
        part = options.choice("part", default: "all", choices: Self.parts,
                              help: "run one part: tokens (1), embeddings (2), attention (3), toy (4), positions (5); all = 1-5 in order")
        corpus = options.optionalString("corpus", help: "UTF-8 text for parts 1-2 instead of the embedded Shakespeare (~1 MB)")
        wordMinimumCount = options.int("word-min-count", default: 5, range: 1...1_000_000,
                                       help: "part 1: training occurrences a word needs for an id of its own (rarer: <unk>)")
        merges = options.int("merges", default: 300, range: 0...10_000, help: "part 1: byte-pair merges to learn (--quick: 50)")
        skipGram.dimension = options.int("w2v-dim", default: 64, range: 1...1024, help: "part 2: embedding dimension (--quick: 32)")
        skipGram.window = options.int("w2v-window", default: 5, range: 1...50, help: "part 2: context words on each side (at most)")
        skipGram.negatives = options.int("w2v-negative", default: 5, range: 1...50, help: "part 2: negative samples per pair")
        skipGram.epochs = options.int("w2v-epochs", default: 5, range: 1...1000, help: "part 2: passes over the corpus (--quick: 1)")
        skipGram.startLearningRate = options.float("w2v-lr", default: 0.025, range: 1e-6...10,
                                                   help: "part 2: starting SGD learning rate, falling linearly to 1e-4")
        embeddingMinimumCount = options.int("w2v-min-count", default: 5, range: 1...1_000_000,
                                            help: "part 2: occurrences a word needs to get a vector")
        let task = options.choice("task", default: "reverse", choices: SequenceTask.allCases.map(\.rawValue),
                                  help: "parts 4-5: what the models learn to do with the digits")
        toy.task = SequenceTask(rawValue: task) ?? .reverse
        length = options.int("length", default: 20, range: 2...200, help: "parts 4-5: digits per sequence L (--quick: 8)")
        toy.steps = options.int("steps", default: 2000, range: 1...10_000_000, help: "parts 4-5: training steps of every model (--quick: 300)")
        toy.batch = options.int("batch", default: 64, range: 1...4096, help: "parts 4-5: sequences per step, drawn fresh (--quick: 32)")
        toy.learningRate = options.float("lr", default: 2e-3, range: 1e-7...10, help: "parts 4-5: Adam learning rate (--quick: 5e-3)")
        toy.clip = options.float("clip", default: 1, range: 0...1e6, help: "parts 4-5: clip gradients to this global norm; 0 = off")
        toy.heldOut = options.int("held-out", default: 2000, range: 1...1_000_000, help: "parts 4-5: held-out sequences scored at the end (--quick: 200)")
        toy.evalEvery = options.int("eval-every", default: 250, range: 1...10_000_000, help: "parts 4-5: score 256 held-out sequences every this many steps (--quick: 100)")
        toy.hidden = options.int("hidden", default: 64, range: 1...4096, help: "LSTM state size H (--quick: 32)")
        toy.embedding = options.int("embedding", default: 32, range: 1...4096, help: "Transformer width C, a multiple of --heads (--quick: 16)")
        toy.heads = options.int("heads", default: 4, range: 1...64, help: "Transformer attention heads (--quick: 2)")
        toy.layers = options.int("layers", default: 2, range: 1...48, help: "Transformer blocks")
        let modelNames = options.string("models", default: "lstm,lstm_attention,transformer,transformer_no_positions",
                                        help: "part 4: comma-separated models to train (of lstm, lstm_attention, transformer, transformer_no_positions)")
        let chosen = modelNames.split(separator: ",").map { ToyModelKind(rawValue: String($0)) }
        if chosen.isEmpty || chosen.contains(where: { $0 == nil || $0 == .transformerSinusoidal }) {
            options.reportError("--models '\(modelNames)': use names from lstm, lstm_attention, transformer, transformer_no_positions")
        } else {
            models = chosen.map { $0! }
        }
        sweepLengths = options.intList("sweep-lengths", default: [5, 10, 20, 30],
                                       help: "part 4: lengths L of the accuracy-against-L sweep of the two LSTMs (--quick: 4,8)")
        sweepSteps = options.int("sweep-steps", default: 1000, range: 0...10_000_000,
                                 help: "part 4: training steps of each sweep run; 0 = no sweep (--quick: 150)")
        plots = !options.flag("no-plots", help: "skip the SVG plots")
        if toy.embedding % toy.heads != 0 && options.wasGiven("embedding") {
            options.reportError("--embedding \(toy.embedding) is not a multiple of --heads \(toy.heads)")
        }
        if sweepLengths.contains(where: { $0 < 2 || $0 > 200 }) {
            options.reportError("--sweep-lengths needs lengths in 2...200, got \(sweepLengths)")
        }
        if quick {
            if !options.wasGiven("merges") { merges = 50; options.record("merges", .number(50)) }
            if !options.wasGiven("w2v-dim") { skipGram.dimension = 32; options.record("w2v-dim", .number(32)) }
            if !options.wasGiven("w2v-epochs") { skipGram.epochs = 1; options.record("w2v-epochs", .number(1)) }
            if !options.wasGiven("length") { length = 8; options.record("length", .number(8)) }
            if !options.wasGiven("steps") { toy.steps = 300; options.record("steps", .number(300)) }
            if !options.wasGiven("batch") { toy.batch = 32; options.record("batch", .number(32)) }
            if !options.wasGiven("lr") { toy.learningRate = 5e-3; options.record("lr", .number(5e-3)) }
            if !options.wasGiven("held-out") { toy.heldOut = 200; options.record("held-out", .number(200)) }
            if !options.wasGiven("eval-every") { toy.evalEvery = 100; options.record("eval-every", .number(100)) }
            if !options.wasGiven("hidden") { toy.hidden = 32; options.record("hidden", .number(32)) }
            if !options.wasGiven("embedding") { toy.embedding = 16; options.record("embedding", .number(16)) }
            if !options.wasGiven("heads") { toy.heads = 2; options.record("heads", .number(2)) }
            if !options.wasGiven("sweep-steps") { sweepSteps = 150; options.record("sweep-steps", .number(150)) }
            if !options.wasGiven("sweep-lengths") { sweepLengths = [4, 8]; options.record("sweep-lengths", .array([.number(4), .number(8)])) }
        }
        if toy.embedding % toy.heads != 0 && !options.wasGiven("embedding") {
            options.reportError("--heads \(toy.heads) does not divide the Transformer width \(toy.embedding); pick --embedding too")
        }
        toy.seed = seed
    }

    func runs(_ name: String) -> Bool { part == "all" || part == name }
}
