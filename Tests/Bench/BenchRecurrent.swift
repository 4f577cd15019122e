// `Bench rnn` and `Bench lstm`: milliseconds per training step of the week 5-6 character
// models (Shared/NN/RNN.swift, LSTM.swift) at the anchor configuration of
// ../shared/anchors/RESULTS.md (one-hot characters, hidden 256, T 64, batch 32, Adam, clip 1.0;
// 75 symbols in the embedded Shakespeare, 65 in tinyshakespeare.txt; the baseline reads the
// same file as ours),
// optionally next to PyTorch's nn.RNN / nn.LSTM run by ../shared/anchors/char_rnn_torch.py
// in interleaved rounds (BenchCompare.swift). A step is everything: draw the batch, forward,
// backward, clip, Adam.
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
    "--steps N                timed training steps per round (default 60, after 5 warm-up steps)",
    "--threads N              threads (default 2)",
    "--corpus PATH            text file (default: the embedded Shakespeare)",
    "--baseline torch         also run ../shared/anchors/char_rnn_torch.py in interleaved rounds, print the ratio",
    "--baseline-script PATH   where char_rnn_torch.py is (default ../shared/anchors/char_rnn_torch.py)",
    roundsFlag, pythonFlag,
]

let benchRNN = Benchmark(summary: "ms per char-RNN training step (week 5), hidden 256, T 64, batch 32",
                         flags: recurrentBenchFlags) { try runRecurrentBench(cell: "rnn", &$0) }
let benchLSTM = Benchmark(summary: "ms per char-LSTM training step (week 6), hidden 256, T 64, batch 32",
                          flags: recurrentBenchFlags) { try runRecurrentBench(cell: "lstm", &$0) }

func runRecurrentBench(cell: String, _ flags: inout BenchArguments) throws -> [BenchRecord] {
    let H = try flags.positive("--hidden", 256), T = try flags.positive("--block", 64), B = try flags.positive("--batch", 32)
    let steps = try flags.positive("--steps", 60), threads = try flags.positive("--threads", 2)
    let corpusPath = try flags.value("--corpus")
    let baseline = try flags.value("--baseline")
    let script = try flags.value("--baseline-script") ?? "../shared/anchors/char_rnn_torch.py"
    let rounds = try flags.rounds()
    let python = try baselinePython(&flags)
    try flags.finish()
    if let baseline, baseline != "torch" { throw BenchError("--baseline: only 'torch' is known, got '\(baseline)'") }

    let corpus = try corpusPath.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
    let V = corpus.vocabulary.size
    let (train, _) = corpus.split()
    let chunks = try TextChunks(ids: train, context: T)
    var rng = SplitMix64(seed: 1337)
    let core: any RecurrentCore = cell == "rnn" ? RNN(inputSize: V, hiddenSize: H, rng: &rng)
                                                : LSTM(inputSize: V, hiddenSize: H, rng: &rng)
    let model = RecurrentLanguageModel(core: core, rng: &rng)
    let optimizer = Adam(model.parameters, learningRate: 2e-3)
    let workspace = model.makeWorkspace(batch: B, steps: T)

    /// The median milliseconds of `steps` training steps (the first call also warms up 5).
    var warmedUp = false
    func ourMilliseconds() -> Double {
        Threads.$count.withValue(threads) {
            var times: [Double] = []
            for step in 0..<(steps + (warmedUp ? 0 : 5)) {
                let start = monotonicSeconds()
                let batch = chunks.randomBatch(batchSize: B, rng: &rng)
                trainingStep(model, optimizer: optimizer, workspace: workspace, batch: batch, carry: false, clip: 1)
                if warmedUp || step >= 5 { times.append(monotonicSeconds() - start) }
            }
            warmedUp = true
            return median(times) * 1000
        }
    }

    print("\(cell): vocabulary \(V) (\(corpus.name)), hidden \(H), T \(T), batch \(B), threads \(threads), "
          + "\(model.parameters.scalarCount) parameters, median of \(steps) steps (\(machineLoad()))")
    let params: [(key: String, value: JSONValue)] = [("hidden", .init(H)), ("block", .init(T)), ("batch", .init(B)),
                                                     ("vocabulary", .init(V)), ("threads", .init(threads))]
    guard baseline != nil else {
        let ours = ourMilliseconds()
        print("  ours " + fixed(ours, 2) + " ms/step")
        return [BenchRecord(name: cell, params: params + [("implementation", "ours")], value: ours, unit: "ms")]
    }
    print("ours vs PyTorch (\(python)), \(rounds) rounds:")
    let comparison = try interleavedComparison(
        name: cell, baseline: "pytorch", params: params, unit: "ms", higherIsBetter: false, rounds: rounds,
        ours: ourMilliseconds) {
        try runTorchRecurrentBaseline(python: python, script: script, cell: cell, hidden: H, block: T,
                                      batch: B, threads: threads, corpus: corpus.name)
    }
    for (index, round) in comparison.rounds.enumerated() {
        print("  round \(index + 1): ours \(fixed(round.ours, 2)) ms/step, PyTorch \(fixed(round.baseline, 2)) ms/step, "
              + "ratio \(fixed(round.ours / round.baseline, 2))")
    }
    print("  ours \(fixed(comparison.medianOurs, 2)) ms/step   PyTorch \(fixed(comparison.medianBaseline, 2)) ms/step"
          + " (medians over rounds)   ours/PyTorch " + comparison.ratioText)
    return comparison.records
}

/// Runs char_rnn_torch.py once for 60 iterations on the text file `corpus` (the one ours
/// trains on, so both have the same vocabulary) and returns its median ms per step (the
/// script leaves out its first 10 iterations).
func runTorchRecurrentBaseline(python: String, script: String, cell: String, hidden: Int, block: Int, batch: Int,
                               threads: Int, corpus: String) throws -> Double {
    let output = try runPythonScript(python, script,
                                     "--cell \(cell) --hidden \(hidden) --seq \(block) --batch \(batch) --threads \(threads) --iters 60",
                                     environment: "CORPUS='\(corpus)' ", what: "PyTorch \(cell)")
    // Lines look like: RESULT name=charrnn_torch_rnn_h256_ms_per_iter value=14.20 unit=ms
    guard let result = anchorResults(output).first(where: { $0.key.hasSuffix("_ms_per_iter") })?.value else {
        throw BenchError("PyTorch gave no figure: \(output.suffix(300))", exitCode: 1)
    }
    return result
}
