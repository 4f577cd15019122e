// `Bench gpt`: milliseconds per training step of week 8's GPT (Shared/NN/GPT.swift) at nanoGPT's
// CPU configuration (4 layers, 4 heads, 128 wide, context 64, batch 12, tied head, no biases,
// AdamW, clip 1.0), optionally in interleaved rounds with ../shared/anchors/gpt_char_torch.py
// (PyTorch eager, same configuration) so both see the same machine load; then where our step's
// time goes, phase by phase (each kernel timed alone at the step's shapes).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

let benchGPT = Benchmark(
    summary: "ms per GPT training step (week 8) at nanoGPT's CPU configuration, MFU, per-phase time",
    flags: [
        "--steps N                timed training steps per round (default 60, after 10 warm-up steps)",
        roundsFlag,
        "--threads N              threads (default 2)",
        "--corpus PATH            text file (default: the embedded Shakespeare)",
        "--baseline torch         also run ../shared/anchors/gpt_char_torch.py each round, print the ratio",
        "--baseline-script PATH   where gpt_char_torch.py is (default ../shared/anchors/gpt_char_torch.py)",
        pythonFlag,
    ]) { try runGPTBench(&$0) }

func runGPTBench(_ flags: inout BenchArguments) throws -> [BenchRecord] {
    let steps = try flags.positive("--steps", 60), threads = try flags.positive("--threads", 2)
    let rounds = try flags.rounds()
    let corpusPath = try flags.value("--corpus")
    let baseline = try flags.value("--baseline")
    let script = try flags.value("--baseline-script") ?? "../shared/anchors/gpt_char_torch.py"
    let python = try baselinePython(&flags)
    try flags.finish()
    if let baseline, baseline != "torch" { throw BenchError("--baseline: only 'torch' is known, got '\(baseline)'") }
    return try Threads.$count.withValue(threads) {

        let corpus = try corpusPath.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
        let (train, validation) = corpus.split()
        var rng = SplitMix64(seed: 1337)
        let config = GPTConfig(vocabularySize: corpus.vocabulary.size)
        // week 8's training step exactly: the shared trainer with nanoGPT's CPU settings
        let T = config.context
        let training = GPTTrainingFlags.nanoGPTCPU(evalEvery: 1_000_000, evalWindows: 1).trainingConfig(context: T)
        let B = training.batchSize
        let model = try GPT(config: config, maxBatch: B, rng: &rng)
        let trainer = try LanguageModelTrainer(model: model, train: train, validation: validation, config: training,
                                               rng: SplitMix64(seed: 1337))
        let flopsPerStep = config.trainingFLOPsPerToken * Double(B * T)
        // The peak is measured again every round and the best kept: a busy moment lowers one
        // measurement, never raises it.
        var peak = 0.0

        func ourMilliseconds() throws -> Double {
            peak = max(peak, measuredPeakFLOPS(threads: threads, seconds: 0.1))
            for _ in 0..<10 { _ = try trainer.trainStep() }
            var times: [Double] = []
            for _ in 0..<steps {
                let start = monotonicSeconds()
                _ = try trainer.trainStep()
                times.append(monotonicSeconds() - start)
            }
            return median(times) * 1000
        }
        let params: [(key: String, value: JSONValue)] = [
            ("layers", .init(config.layers)), ("heads", .init(config.heads)), ("width", .init(config.width)),
            ("context", .init(T)), ("batch", .init(B)),
            ("vocabulary", .init(config.vocabularySize)), ("threads", .init(threads)), ("steps", .init(steps)),
        ]
        print("gpt: nanoGPT CPU config (L \(config.layers), H \(config.heads), C \(config.width), T \(T), B \(B), "
              + "V \(config.vocabularySize)), \(model.parameterCount) "
              + "parameters, threads \(threads), \(rounds) round\(rounds == 1 ? "" : "s") of \(steps) steps; \(machineLoad())")
        var records: [BenchRecord] = []
        let oursMedian: Double
        if baseline != nil {
            let comparison = try interleavedComparison(
                name: "gpt", baseline: "pytorch", params: params, unit: "ms", higherIsBetter: false, rounds: rounds,
                ours: ourMilliseconds,
                baseline: { try torchGPTMilliseconds(python: python, script: script, steps: steps, threads: threads,
                                                     corpus: corpusPath) })
            for (index, round) in comparison.rounds.enumerated() {
                print("  round \(index + 1): ours " + fixed(round.ours, 2) + " ms/step, PyTorch " + fixed(round.baseline, 2)
                      + " ms/step, ratio " + fixed(round.ours / round.baseline, 3))
            }
            oursMedian = comparison.medianOurs
            print("  ours " + fixed(oursMedian, 2) + " ms/step, PyTorch " + fixed(comparison.medianBaseline, 2)
                  + " ms/step (medians)\n  ours / PyTorch " + comparison.ratioText)
            records += comparison.records
        } else {
            let times = try (0..<rounds).map { _ in try ourMilliseconds() }
            oursMedian = median(times)
            print("  ours " + fixed(oursMedian, 2) + " ms/step (median of rounds " + fixed(times.min()!, 2) + "–"
                  + fixed(times.max()!, 2) + ")")
            records.append(BenchRecord(name: "gpt", params: params + [("implementation", .string("ours"))],
                                       value: oursMedian, unit: "ms"))
        }
        let mfu = 100 * flopsPerStep / (oursMedian / 1000) / peak
        print("  MFU " + fixed(mfu, 1) + "% (model FLOPs per second over the best measured peak, " + fixed(peak / 1e9, 0)
              + " GFLOP/s on \(threads) thread\(threads == 1 ? "" : "s"))")
        records.append(BenchRecord(name: "gpt_mfu", params: params + [("peak_gflops", .number((peak / 1e7).rounded() / 100))],
                                   value: mfu, unit: "%"))

        // Where the time goes: every kernel of one step, timed alone at the step's shapes.
        let phases = try gptPhaseMilliseconds(config: config, batch: B)
        print("  per phase (each kernel alone, summed over one step's calls):")
        for (name, ms) in phases { print("    " + padRight(name, 34) + padLeft(fixed(ms, 2), 7) + " ms") }
        print("    " + padRight("sum of the phases", 34) + padLeft(fixed(phases.map(\.1).reduce(0, +), 2), 7) + " ms")
        for (name, ms) in phases {
            records.append(BenchRecord(name: "gpt_phase", params: [("threads", .init(threads)), ("phase", .string(name))],
                                       value: ms, unit: "ms"))
        }
        return records
    }
}

/// Each phase of one training step at `config`, batch B: the kernels a step calls, each timed
/// alone (median of repetitions) on scratch buffers of the step's shapes, summed over its calls.
func gptPhaseMilliseconds(config: GPTConfig, batch B: Int) throws -> [(String, Double)] {
    let T = config.context, C = config.width, V = config.vocabularySize, H = config.heads, L = config.layers
    let N = B * T
    var rng = SplitMix64(seed: 1)
    let P = try GPT(config: config, maxBatch: 1, rng: &rng).parameterCount   // what AdamW steps
    func buffer(_ count: Int) -> FloatPointer {
        let p = FloatPointer.allocate(capacity: count)
        for i in 0..<count { p[i] = rng.normal(mean: 0, std: 0.5) }
        return p
    }
    let x = buffer(N * 4 * C), y = buffer(N * 4 * C), w = buffer(4 * C * C), dW = buffer(4 * C * C)
    let qkv = buffer(N * 3 * C), probs = buffer(B * H * T * T), scratch = buffer(B * H * T * T)
    let stats = buffer(2 * N), logits = buffer(N * V), wte = buffer(V * C)
    let parameters = buffer(P), m = buffer(P), v = buffer(P), g = buffer(P)
    for i in 0..<P { v[i] = abs(v[i]) }
    defer { for p in [x, y, w, dW, qkv, probs, scratch, stats, logits, wte, parameters, m, v, g] { p.deallocate() } }
    let targets = (0..<N).map { $0 % V }
    func ms(_ body: () -> Void) -> Double { medianSeconds(repetitions: 7, minimumSeconds: 0.01, body) * 1000 }

    // the four Linears of a block (in -> out), forward and backward (dX and dW)
    var matmul = 0.0
    for (i, o) in [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C)] {
        matmul += Double(L) * ms { linearForward(y, x, transposedWeight: w, bias: nil, rows: N, inFeatures: i, outFeatures: o) }
        matmul += Double(L) * ms { linearBackward(dX: y, dWeight: dW, dBias: nil, dOut: x, x: x, transposedWeight: w,
                                                  rows: N, inFeatures: i, outFeatures: o) }
    }
    var head = ms { linearForward(logits, x, transposedWeight: wte, bias: nil, rows: N, inFeatures: C, outFeatures: V) }
    head += ms { linearBackward(dX: y, dWeight: dW, dBias: nil, dOut: logits, x: x, transposedWeight: wte,
                                rows: N, inFeatures: C, outFeatures: V) }
    let layout = AttentionLayout.fusedSelfAttention(batch: B, length: T, width: C, heads: H)
    let causal = AttentionMask(causal: true)
    let attention = Double(L) * (ms { attentionForward(y, probs: probs, query: qkv, key: qkv + C, value: qkv + 2 * C,
                                                       layout: layout, mask: causal) }
        + ms { attentionBackward(dQuery: x, dKey: x + C, dValue: x + 2 * C, scratch: scratch, dOut: y, probs: probs,
                                 query: qkv, key: qkv + C, value: qkv + 2 * C, layout: layout, mask: causal) })
    let norms = Double(2 * L + 1) * (ms { layerNormForward(y, mean: stats, rstd: stats + N, x, weight: w, bias: w,
                                                            rows: N, cols: C) }
        + ms { layerNormBackward(dX: y, dWeight: dW, dBias: dW, dOut: x, x: x, weight: w, mean: stats, rstd: stats + N,
                                 rows: N, cols: C) })
    let gelu = Double(L) * (ms { geluErfForward(y, x, count: N * 4 * C) }
        + ms { geluErfBackward(dX: y, dOut: x, x: x, count: N * 4 * C) })
    let loss = targets.withUnsafeBufferPointer { t in
        ms { softmaxCrossEntropyForward(losses: stats, probs: probs, logits: logits, targets: t.baseAddress!,
                                        rows: N, classes: V) }
    }
    let optimizer = ms {
        _ = sumOfSquares(g, count: P)
        adamWUpdate(parameters, firstMoment: m, secondMoment: v, gradients: g, count: P, step: 10,
                    learningRate: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1)
    }
    return [("matmuls of the blocks (fwd+bwd)", matmul), ("tied head matmuls (fwd+bwd)", head),
            ("attention core (fwd+bwd)", attention), ("LayerNorm (fwd+bwd)", norms), ("GELU (fwd+bwd)", gelu),
            ("softmax cross-entropy", loss), ("gradient norm + AdamW", optimizer)]
}

/// Runs gpt_char_torch.py for `steps` + 10 iterations and returns its median ms per step (nil
/// if it cannot run: no Python, no torch, no script).
/// One run of gpt_char_torch.py for `steps` timed steps (after 10 it leaves out): its median
/// ms per training step.
func torchGPTMilliseconds(python: String, script: String, steps: Int, threads: Int, corpus: String?) throws -> Double {
    let output = try runPythonScript(python, script, "--max_iters \(steps + 10) --eval_iters 1 --eval_interval 100000 --threads \(threads)",
                                     environment: corpus.map { "CORPUS='\($0)' " } ?? "", what: "PyTorch GPT")
    // the line: RESULT name=gpt_char_torch_ms_per_iter value=39.12 unit=ms
    guard let value = anchorResults(output)["gpt_char_torch_ms_per_iter"] else {
        throw BenchError("gpt_char_torch.py printed no RESULT line: \(output.suffix(300))", exitCode: 1)
    }
    return value
}
