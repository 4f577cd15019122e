// `Bench bpe`: week 10's tokenizer against the Python references, side by side in one run.
// Training to each vocabulary size against Hugging Face tokenizers' BpeTrainer; encoding the
// whole corpus on one thread against HF's Tokenizer.encode (one call) and tiktoken's
// encode_ordinary, both loaded with the files our tokenizer wrote (same ranks, same pattern).
// Ours and theirs alternate round by round (A, B, A, B, ...): the machine's speed drifts and
// other jobs come and go, so only ratios within a round are compared; we print the median
// per-round ratio and its min-max spread. The Python side is Tests/Week10Tests/interop/bpe_baseline.py.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// baseline / ours of each round of a comparison of times: above 1 means ours is faster.
func speedups(_ comparison: InterleavedComparison) -> [Double] { comparison.ratios.map { 1 / $0 } }

/// "2.10x (1.95-2.31)": the median per-round speedup and its range.
func speedupText(_ comparison: InterleavedComparison) -> String {
    let values = speedups(comparison)
    return fixed(median(values), 2) + "x (" + fixed(values.min() ?? .nan, 2) + "-" + fixed(values.max() ?? .nan, 2) + ")"
}

let benchBPE = Benchmark(
    summary: "BPE training and single-thread encoding vs HF tokenizers and tiktoken, rounds interleaved",
    flags: ["--baseline hf|tiktoken|both   which reference to compare with (default both)",
            "--corpus PATH        text to train and encode (default ../shared/datasets/tinyshakespeare.txt)",
            "--vocab 512,1024     vocabulary sizes (default 512,1024)",
            "--pattern gpt4|gpt2  split pattern of our tokenizer (default gpt4; HF's trainer always uses GPT-2's)",
            "--rounds N           alternating rounds per comparison (default 5; 0 = only --export)",
            pythonFlag,
            "--export DIR         also write DIR/vocabN-PATTERN.{json,tiktoken,ids} for both patterns "
                + "(ids: uint32 little-endian) for Tests/Week10Tests/interop/check_bpe_interop.py"]
) { arguments in
    let baseline = try arguments.value("--baseline") ?? "both"
    guard ["hf", "tiktoken", "both"].contains(baseline) else { throw BenchError("--baseline wants hf, tiktoken or both, got '\(baseline)'") }
    let corpusPath = try arguments.value("--corpus") ?? "../shared/datasets/tinyshakespeare.txt"
    let vocabularySizes = try arguments.intList("--vocab", default: [512, 1024])
    let patternName = try arguments.value("--pattern") ?? "gpt4"
    guard let pattern = SplitPattern(rawValue: patternName) else { throw BenchError("--pattern wants gpt4 or gpt2, got '\(patternName)'") }
    let roundsText = try arguments.value("--rounds") ?? "5"
    guard let rounds = Int(roundsText), rounds >= 0 else { throw BenchError("--rounds wants a whole number >= 0, got '\(roundsText)'") }
    let pythonPath = try baselinePython(&arguments)
    let exportFolder = try arguments.value("--export")
    try arguments.finish()

    let text: String
    do { text = try readTextFile(corpusPath) } catch { throw BenchError("\(error) (pass --corpus PATH)", exitCode: 1) }
    guard !text.isEmpty else { throw BenchError("\(corpusPath) is empty", exitCode: 1) }
    let megabytes = Double(text.utf8.count) / 1e6
    let here = #filePath
    let script = String(here[..<(here.lastIndex(of: "/") ?? here.startIndex)]) + "/../Week10Tests/interop/bpe_baseline.py"
    let scratch = exportFolder ?? "/tmp/bench-bpe-\(getpid())"
    try createDirectories(scratch)

    if let exportFolder {
        for exportPattern in SplitPattern.allCases {
            for size in vocabularySizes {
                let tokenizer = try BPETokenizer(training: try trainBPE(text: text, vocabularySize: size, pattern: exportPattern),
                                                 pattern: exportPattern)
                let stem = joinPath(exportFolder, "vocab\(size)-\(exportPattern.rawValue)")
                try tokenizer.save(to: stem + ".json")
                try tokenizer.save(to: stem + ".tiktoken")
                try writeUInt32File(tokenizer.encodeOrdinary(text), to: stem + ".ids")
            }
        }
        print("exported tokenizers and ids of \(corpusPath) to \(exportFolder)")
    }
    guard rounds > 0 else { return [] }

    /// Runs the baseline script once; its "seconds S" line.
    func python(_ task: String, _ flags: [String]) throws -> Double {
        let command = ([pythonPath, script, task, "--corpus", corpusPath] + flags).map { "'\($0)'" }.joined(separator: " ") + " 2>&1"
        guard let (output, status) = runShell(command), status == 0,
              let line = output.split(separator: "\n").last(where: { $0.hasPrefix("seconds ") }),
              let seconds = Double(line.dropFirst(8)) else {
            throw BenchError("the Python baseline failed: \(command)\n\(runShell(command)?.output.suffix(400) ?? "")", exitCode: 1)
        }
        return seconds
    }
    /// The median of 3 calls after a warm-up (the same as the Python side measures).
    func oursSeconds(_ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<3 {
            let clock = Stopwatch()
            try body()
            times.append(clock.seconds)
        }
        return median(times)
    }

    var records: [BenchRecord] = []
    print("corpus \(corpusPath): \(text.utf8.count) bytes; \(rounds) rounds, ours and the baseline alternating; "
          + "speedup = baseline time / our time per round: median (min-max)")
    print(padRight("", 44) + padLeft("ours", 12) + padLeft("baseline", 12) + "   speedup")
    func report(_ label: String, _ comparison: InterleavedComparison, asThroughput: Bool) {
        let ours = asThroughput ? megabytes / comparison.medianOurs : comparison.medianOurs
        let theirs = asThroughput ? megabytes / comparison.medianBaseline : comparison.medianBaseline
        let unit = asThroughput ? " MB/s" : " s"
        print(padRight(label, 44) + padLeft(fixed(ours, asThroughput ? 1 : 3) + unit, 12)
              + padLeft(fixed(theirs, asThroughput ? 1 : 3) + unit, 12) + "   " + speedupText(comparison))
        records += comparison.records
        if asThroughput {
            records.append(BenchRecord(name: comparison.name + "_throughput", params: comparison.params,
                                       value: ours, unit: "MB/s"))
        }
    }
    func compare(_ name: String, vocabulary: Int, against: String, ours: () throws -> Double,
                 baseline: () throws -> Double) throws -> InterleavedComparison {
        try interleavedComparison(name: name, baseline: against,
                                  params: [("vocab", .init(vocabulary)), ("pattern", .init(pattern.rawValue)), ("threads", 1)],
                                  unit: "s", higherIsBetter: false, rounds: rounds, ours: ours, baseline: baseline)
    }

    for size in vocabularySizes {
        let tokenizer = try BPETokenizer(training: try trainBPE(text: text, vocabularySize: size, pattern: pattern), pattern: pattern)
        let stem = joinPath(scratch, "bench\(size)-\(pattern.rawValue)")
        try tokenizer.save(to: stem + ".json")
        try tokenizer.save(to: stem + ".tiktoken")
        if baseline != "tiktoken" {
            let training = try compare("bpe_train", vocabulary: size, against: "hf", ours: {
                try oursSeconds { _ = try trainBPE(text: text, vocabularySize: size, pattern: pattern) }
            }, baseline: { try python("train-hf", ["--vocab", "\(size)"]) })
            report("train to vocab \(size) vs HF BpeTrainer", training, asThroughput: false)
            let encoding = try compare("bpe_encode", vocabulary: size, against: "hf", ours: {
                oursSeconds { _ = tokenizer.encodeOrdinary(text) }
            }, baseline: { try python("encode-hf", ["--tokenizer", stem + ".json"]) })
            report("encode, vocab \(size), vs HF encode (1 call)", encoding, asThroughput: true)
        }
        if baseline != "hf" {
            let encoding = try compare("bpe_encode", vocabulary: size, against: "tiktoken", ours: {
                oursSeconds { _ = tokenizer.encodeOrdinary(text) }
            }, baseline: { try python("encode-tiktoken", ["--ranks", stem + ".tiktoken", "--pattern", pattern.rawValue]) })
            report("encode, vocab \(size), vs tiktoken", encoding, asThroughput: true)
        }
    }
    return records
}

/// Writes `values` as little-endian uint32 (numpy.fromfile(path, "<u4") reads them back).
func writeUInt32File(_ values: [Int], to path: String) throws {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(values.count * 4)
    for value in values {
        let v = UInt32(value)
        bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
    }
    guard let file = fopen(path, "wb") else { throw BenchError("cannot write \(path)", exitCode: 1) }
    defer { fclose(file) }
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw BenchError("cannot write \(path)", exitCode: 1) }
}
