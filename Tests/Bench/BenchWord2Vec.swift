// `Bench word2vec`: skip-gram training throughput (words per second) of week 7's trainer
// (Weeks/Week07Attention/Word2Vec.swift, run as `Week07Attention --part embeddings`) and,
// with `--baseline gensim`, of gensim's Word2Vec (../shared/anchors/word2vec_gensim.py: sg=1,
// negative sampling, sample=0) with the same corpus, window, dimension, negatives, minimum
// count and epochs. The two alternate round by round, so both see the same machine load; the
// figure is the median of the per-round ratios, with their spread. Both report the same
// quality figure: the median rank of the fixed related-word pairs among the 2,000 most
// frequent words (lower is better).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

let benchWord2Vec = Benchmark(
    summary: "word2vec skip-gram words/s (week 7), optionally alternating with gensim",
    flags: ["--rounds N               rounds (default 3); each trains ours once and gensim once",
            "--dim D                  embedding dimension (default 64)",
            "--window W               context words on each side (default 5)",
            "--negative K             negatives per pair (default 5)",
            "--epochs E               passes over the corpus (default 5)",
            "--min-count N            occurrences a word needs (default 5)",
            "--corpus PATH            text (default Datasets/shakespeare.txt, the week's embedded corpus)",
            "--baseline gensim        also run ../shared/anchors/word2vec_gensim.py with --workers 2",
            "--workers N              gensim worker threads (default 2)",
            "--python PATH            Python with gensim (default python3)",
            "--baseline-script PATH   default ../shared/anchors/word2vec_gensim.py"]
) { try runWord2VecBench(&$0) }

/// One round's figures of one implementation.
struct Word2VecRound {
    let wordsPerSecond: Double
    let medianPairRank: Double
}

func runWord2VecBench(_ flags: inout BenchArguments) throws -> [BenchRecord] {
    let rounds = try flags.positive("--rounds", 3), dim = try flags.positive("--dim", 64), window = try flags.positive("--window", 5)
    let negative = try flags.positive("--negative", 5), epochs = try flags.positive("--epochs", 5)
    let minCount = try flags.positive("--min-count", 5), workers = try flags.positive("--workers", 2)
    let corpus = try flags.value("--corpus") ?? "Datasets/shakespeare.txt"
    let baseline = try flags.value("--baseline")
    let python = try flags.value("--python") ?? "python3"
    let script = try flags.value("--baseline-script") ?? "../shared/anchors/word2vec_gensim.py"
    try flags.finish()
    if let baseline, baseline != "gensim" { throw BenchError("--baseline: only 'gensim' is known, got '\(baseline)'") }
    guard (try? readTextFile(corpus)) != nil else {
        throw BenchError("cannot read the corpus '\(corpus)': run from the package root or pass --corpus PATH", exitCode: 1)
    }
    let out = "runs/Bench/word2vec"
    let program = executableFolder() + "/Week07Attention"

    func ours() throws -> Word2VecRound {
        let arguments = ["--part", "embeddings", "--corpus", corpus, "--out", out, "--no-plots", "--threads", "1",
                         "--w2v-dim", "\(dim)", "--w2v-window", "\(window)", "--w2v-negative", "\(negative)",
                         "--w2v-epochs", "\(epochs)", "--w2v-min-count", "\(minCount)"]
        let command = ([program] + arguments).map { "'\($0)'" }.joined(separator: " ") + " > /dev/null 2>&1"
        let status = system(command)
        guard status == 0 else { throw BenchError("Week07Attention failed (status \(status)): \(command)", exitCode: 1) }
        let document = try JSONValue.parse(readTextFile(out + "/metrics.json"))
        guard let embeddings = document["final"]?["embeddings"], let speed = embeddings["words_per_second"]?.doubleValue,
              let rank = embeddings["median_pair_rank"]?.doubleValue
        else { throw BenchError("\(out)/metrics.json has no final.embeddings figures", exitCode: 1) }
        return Word2VecRound(wordsPerSecond: speed, medianPairRank: rank)
    }

    func gensim() throws -> Word2VecRound {
        let command = "'\(python)' '\(script)' --corpus '\(corpus)' --dim \(dim) --window \(window) --negative \(negative) "
            + "--epochs \(epochs) --min_count \(minCount) --workers \(workers) 2>&1"
        guard let (output, status) = runShell(command), status == 0 else {
            throw BenchError("the gensim baseline failed; is gensim installed for '\(python)'? (\(command))", exitCode: 1)
        }
        func result(_ name: String) -> Double? {
            for line in output.split(separator: "\n") where line.hasPrefix("RESULT name=\(name) ") {
                for field in line.split(separator: " ") where field.hasPrefix("value=") { return Double(field.dropFirst(6)) }
            }
            return nil
        }
        guard let speed = result("w2v_gensim_words_per_s"), let rank = result("w2v_gensim_median_pair_rank") else {
            throw BenchError("the gensim baseline printed no RESULT lines:\n\(output)", exitCode: 1)
        }
        return Word2VecRound(wordsPerSecond: speed, medianPairRank: rank)
    }

    print("word2vec skip-gram: \(corpus), dim \(dim), window \(window), \(negative) negatives, \(epochs) epochs, "
          + "min count \(minCount); ours on 1 thread" + (baseline != nil ? ", gensim on \(workers) workers" : ""))
    var ourRounds: [Word2VecRound] = [], theirRounds: [Word2VecRound] = [], ratios: [Double] = []
    for round in 1...rounds {
        let mine = try ours()
        ourRounds.append(mine)
        var line = "  round \(round): ours " + padLeft(fixed(mine.wordsPerSecond / 1000, 0), 6) + "k words/s (pair rank "
            + fixed(mine.medianPairRank, 1) + ")"
        if baseline != nil {
            let theirs = try gensim()
            theirRounds.append(theirs)
            ratios.append(mine.wordsPerSecond / theirs.wordsPerSecond)
            line += "   gensim " + padLeft(fixed(theirs.wordsPerSecond / 1000, 0), 6) + "k words/s (pair rank "
                + fixed(theirs.medianPairRank, 1) + ")   ratio " + fixed(ratios.last!, 2)
        }
        print(line)
    }
    _ = system("rm -rf '\(out)'")
    let ourSpeed = median(ourRounds.map(\.wordsPerSecond)), ourRank = median(ourRounds.map(\.medianPairRank))
    let params: KeyValuePairs<String, JSONValue> = ["dim": .init(dim), "window": .init(window), "negative": .init(negative),
                                                    "epochs": .init(epochs), "min_count": .init(minCount), "implementation": "ours",
                                                    "threads": 1]
    var records = [BenchRecord(name: "word2vec", params: params, value: ourSpeed, unit: "words/s"),
                   BenchRecord(name: "word2vec_median_pair_rank", params: params, value: ourRank, unit: "rank")]
    print("  median: ours \(fixed(ourSpeed / 1000, 0))k words/s, pair rank \(fixed(ourRank, 1))")
    if baseline != nil {
        let theirSpeed = median(theirRounds.map(\.wordsPerSecond)), theirRank = median(theirRounds.map(\.medianPairRank))
        let ratio = median(ratios)
        print("  median: gensim \(fixed(theirSpeed / 1000, 0))k words/s, pair rank \(fixed(theirRank, 1)); "
              + "ratio ours/gensim \(fixed(ratio, 2)) (rounds \(fixed(ratios.min()!, 2))-\(fixed(ratios.max()!, 2)))")
        let gensimParams: KeyValuePairs<String, JSONValue> = ["dim": .init(dim), "window": .init(window), "negative": .init(negative),
                                                              "epochs": .init(epochs), "min_count": .init(minCount),
                                                              "implementation": "gensim", "threads": .init(workers)]
        records += [BenchRecord(name: "word2vec", params: gensimParams, value: theirSpeed, unit: "words/s"),
                    BenchRecord(name: "word2vec_median_pair_rank", params: gensimParams, value: theirRank, unit: "rank"),
                    BenchRecord(name: "word2vec_ratio", params: ["baseline": "gensim", "rounds": .init(rounds),
                                                                 "min": .init(ratios.min()!), "max": .init(ratios.max()!)],
                                value: ratio, unit: "x")]
    }
    return records
}
