// `Bench rnn` and `Bench lstm`: milliseconds per training step of the week 5-6 character
// models (Shared/NN/RNN.swift, LSTM.swift) at the anchor configuration of
// ../shared/anchors/RESULTS.md (one-hot 65 symbols, hidden 256, T 64, batch 32, Adam, clip 1.0),
// optionally next to PyTorch's nn.RNN / nn.LSTM run by ../shared/anchors/char_rnn_torch.py
// in the same invocation. A step is everything: draw the batch, forward, backward, clip, Adam.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

let recurrentBenchFlags = [
    "--hidden H               hidden size (default 256)",
    "--block T                characters per chunk (default 64)",
    "--batch B                sequences per batch (default 32)",
    "--steps N                timed training steps (default 60, after 5 warm-up steps)",
    "--threads N              threads (default 2)",
    "--corpus PATH            text file (default: the embedded Shakespeare)",
    "--baseline torch         also run ../shared/anchors/char_rnn_torch.py, print the ratio",
    "--baseline-script PATH   where char_rnn_torch.py is (default ../shared/anchors/char_rnn_torch.py)",
]

let benchRNN = Benchmark(summary: "ms per char-RNN training step (week 5), hidden 256, T 64, batch 32",
                         flags: recurrentBenchFlags) { try runRecurrentBench(cell: "rnn", &$0) }
let benchLSTM = Benchmark(summary: "ms per char-LSTM training step (week 6), hidden 256, T 64, batch 32",
                          flags: recurrentBenchFlags) { try runRecurrentBench(cell: "lstm", &$0) }

func runRecurrentBench(cell: String, _ flags: inout BenchArguments) throws -> [BenchRecord] {
    func positive(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = try flags.value(name) else { return fallback }
        guard let value = Int(text), value > 0 else { throw BenchError("\(name) wants a positive integer, got '\(text)'") }
        return value
    }
    let H = try positive("--hidden", 256), T = try positive("--block", 64), B = try positive("--batch", 32)
    let steps = try positive("--steps", 60), threads = try positive("--threads", 2)
    let corpusPath = try flags.value("--corpus")
    let baseline = try flags.value("--baseline")
    let script = try flags.value("--baseline-script") ?? "../shared/anchors/char_rnn_torch.py"
    try flags.finish()
    if let baseline, baseline != "torch" { throw BenchError("--baseline: only 'torch' is known, got '\(baseline)'") }

    let corpus = try corpusPath.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
    let V = corpus.vocabulary.size
    let (train, _) = corpus.split()
    let chunks = try TextChunks(ids: train, blockSize: T)
    var rng = SplitMix64(seed: 1337)
    let core: any RecurrentCore = cell == "rnn" ? RNN(inputSize: V, hiddenSize: H, rng: &rng)
                                                : LSTM(inputSize: V, hiddenSize: H, rng: &rng)
    let model = RecurrentLanguageModel(core: core, rng: &rng)
    let optimizer = Adam(model.parameters, learningRate: 2e-3)
    let workspace = model.makeWorkspace(batch: B, steps: T)

    // PyTorch first, then ours right after, so both see the same machine load.
    var torchMilliseconds: Double?
    if baseline != nil {
        torchMilliseconds = runTorchRecurrentBaseline(script: script, cell: cell, hidden: H, block: T,
                                                      batch: B, threads: threads, corpus: corpusPath)
    }
    let ours = Threads.$count.withValue(threads) {
        var times: [Double] = []
        for step in 0..<(steps + 5) {
            let start = monotonicSeconds()
            let batch = chunks.randomBatch(batchSize: B, rng: &rng)
            trainingStep(model, optimizer: optimizer, workspace: workspace, batch: batch, carry: false, clip: 1)
            if step >= 5 { times.append(monotonicSeconds() - start) }
        }
        return median(times) * 1000
    }

    print("\(cell): vocabulary \(V) (\(corpus.name)), hidden \(H), T \(T), batch \(B), threads \(threads), "
          + "\(model.parameters.scalarCount) parameters, median of \(steps) steps")
    var line = "  ours " + fixed(ours, 2) + " ms/step"
    if let torch = torchMilliseconds {
        line += "   PyTorch " + fixed(torch, 2) + " ms/step   ratio ours/PyTorch " + fixed(ours / torch, 2)
    }
    print(line)
    var records = [BenchRecord(name: cell, params: ["hidden": .init(H), "block": .init(T), "batch": .init(B),
                                                    "vocabulary": .init(V), "threads": .init(threads),
                                                    "implementation": "ours"],
                               value: ours, unit: "ms")]
    if let torch = torchMilliseconds {
        records.append(BenchRecord(name: cell, params: ["hidden": .init(H), "block": .init(T), "batch": .init(B),
                                                        "vocabulary": .init(V), "threads": .init(threads),
                                                        "implementation": "pytorch"],
                                   value: torch, unit: "ms"))
    }
    return records
}

/// Runs char_rnn_torch.py for 60 iterations and returns its median ms per step (nil if it
/// cannot run: no python3, no torch, no script).
func runTorchRecurrentBaseline(script: String, cell: String, hidden: Int, block: Int, batch: Int,
                               threads: Int, corpus: String?) -> Double? {
    guard access(script, R_OK) == 0 else {
        print("baseline: \(script) not found (run from the repository root, or pass --baseline-script)")
        return nil
    }
    let environment = corpus.map { "CORPUS='\($0)' " } ?? ""
    let command = "\(environment)python3 '\(script)' --cell \(cell) --hidden \(hidden) --seq \(block)"
        + " --batch \(batch) --threads \(threads) --iters 60 2>&1"
    guard let (output, status) = runShell(command) else {
        print("baseline: could not start python3")
        return nil
    }
    // Lines look like: RESULT name=charrnn_torch_rnn_h256_ms_per_iter value=14.20 unit=ms
    var result: Double?
    let lines = output.split(whereSeparator: \.isNewline)
    for line in lines {
        let fields = line.split(separator: " ")
        guard fields.first == "RESULT", fields.count >= 3, fields[1].hasSuffix("_ms_per_iter"),
              fields[2].hasPrefix("value="), let value = Double(fields[2].dropFirst("value=".count))
        else { continue }
        result = value
    }
    if result == nil { print("baseline: PyTorch gave no figure (exit status \(status)): \(lines.last ?? "")") }
    return result
}
