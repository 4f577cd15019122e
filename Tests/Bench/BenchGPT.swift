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
        "--rounds N               interleaved rounds of PyTorch then ours (default 3)",
        "--threads N              threads (default 2)",
        "--corpus PATH            text file (default: the embedded Shakespeare)",
        "--baseline torch         also run ../shared/anchors/gpt_char_torch.py each round, print the ratio",
        "--baseline-script PATH   where gpt_char_torch.py is (default ../shared/anchors/gpt_char_torch.py)",
        "--python PATH            the Python with torch (default python3)",
    ]) { try runGPTBench(&$0) }

func runGPTBench(_ flags: inout BenchArguments) throws -> [BenchRecord] {
    func positive(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = try flags.value(name) else { return fallback }
        guard let value = Int(text), value > 0 else { throw BenchError("\(name) wants a positive integer, got '\(text)'") }
        return value
    }
    let steps = try positive("--steps", 60), rounds = try positive("--rounds", 3), threads = try positive("--threads", 2)
    let corpusPath = try flags.value("--corpus")
    let baseline = try flags.value("--baseline")
    let script = try flags.value("--baseline-script") ?? "../shared/anchors/gpt_char_torch.py"
    let python = try flags.value("--python") ?? "python3"
    try flags.finish()
    if let baseline, baseline != "torch" { throw BenchError("--baseline: only 'torch' is known, got '\(baseline)'") }
    return try Threads.$count.withValue(threads) {

        let corpus = try corpusPath.map { try TextCorpus.load(path: $0) } ?? TextCorpus.shakespeare()
        let (train, validation) = corpus.split()
        var rng = SplitMix64(seed: 1337)
        let config = GPTConfig(vocabularySize: corpus.vocabulary.size)
        let model = try GPT(config: config, maxBatch: 12, rng: &rng)
        let trainer = try GPTTrainer(model: model, training: GPTTrainingConfig(), train: train, validation: validation,
                                     seed: 1337)
        let B = 12, T = config.context
        let peak = measuredPeakFLOPS(threads: threads, seconds: 0.2)
        let flopsPerStep = config.trainingFLOPsPerToken * Double(B * T)

        var ours: [Double] = [], torch: [Double] = []
        for round in 1...rounds {
            if baseline != nil {
                if let ms = runTorchGPTBaseline(python: python, script: script, steps: steps, threads: threads, corpus: corpusPath) {
                    torch.append(ms)
                }
            }
            for _ in 0..<10 { trainer.trainStep() }
            var times: [Double] = []
            for _ in 0..<steps {
                let start = monotonicSeconds()
                trainer.trainStep()
                times.append(monotonicSeconds() - start)
            }
            ours.append(median(times) * 1000)
            print("round \(round): ours " + fixed(ours.last!, 2) + " ms/step"
                  + (torch.count == round ? "   PyTorch " + fixed(torch.last!, 2) + " ms/step   ratio " + fixed(ours.last! / torch.last!, 3) : ""))
        }
        let oursMedian = median(ours)
        print("gpt: nanoGPT CPU config (L 4, H 4, C 128, T 64, B 12, V \(config.vocabularySize)), \(model.parameterCount) parameters, "
              + "threads \(threads), \(rounds) rounds of \(steps) steps")
        var line = "  ours " + fixed(oursMedian, 2) + " ms/step (rounds " + fixed(ours.min()!, 2) + "-" + fixed(ours.max()!, 2)
            + "), MFU " + fixed(100 * flopsPerStep / (oursMedian / 1000) / peak, 1) + "% of the measured peak "
            + fixed(peak / 1e9, 0) + " GFLOP/s"
        if !torch.isEmpty {
            let ratios = zip(ours, torch).map { $0 / $1 }
            line += "\n  PyTorch " + fixed(median(torch), 2) + " ms/step (rounds " + fixed(torch.min()!, 2) + "-" + fixed(torch.max()!, 2)
                + ")\n  ratio ours/PyTorch " + fixed(median(ratios), 3) + " (rounds " + fixed(ratios.min()!, 3) + "-"
                + fixed(ratios.max()!, 3) + ")"
        }
        print(line)

        // Where the time goes: every kernel of one step, timed alone at the step's shapes.
        let phases = gptPhaseMilliseconds(config: config, batch: B)
        print("  per phase (each kernel alone, summed over one step's calls):")
        for (name, ms) in phases { print("    " + padRight(name, 34) + padLeft(fixed(ms, 2), 7) + " ms") }
        print("    " + padRight("sum of the phases", 34) + padLeft(fixed(phases.map(\.1).reduce(0, +), 2), 7) + " ms")

        let V = config.vocabularySize
        func record(_ name: String, _ implementation: String, _ value: Double, _ unit: String) -> BenchRecord {
            BenchRecord(name: name, params: ["layers": 4, "heads": 4, "width": 128, "context": .init(T), "batch": .init(B),
                                             "vocabulary": .init(V), "threads": .init(threads), "steps": .init(steps),
                                             "rounds": .init(rounds), "implementation": .string(implementation)],
                        value: value, unit: unit)
        }
        var records = [record("gpt", "ours", oursMedian, "ms"),
                       record("gpt_mfu", "ours", 100 * flopsPerStep / (oursMedian / 1000) / peak, "%")]
        if !torch.isEmpty {
            records.append(record("gpt", "pytorch", median(torch), "ms"))
            records.append(record("gpt_ratio", "ours/pytorch", median(zip(ours, torch).map { $0 / $1 }), "x"))
        }
        for (name, ms) in phases {
            records.append(BenchRecord(name: "gpt_phase", params: ["threads": .init(threads), "phase": .string(name)],
                                       value: ms, unit: "ms"))
        }
        return records
    }
}

/// Each phase of one training step at `config`, batch B: the kernels a step calls, each timed
/// alone (median of repetitions) on scratch buffers of the step's shapes, summed over its calls.
func gptPhaseMilliseconds(config: GPTConfig, batch B: Int) -> [(String, Double)] {
    let T = config.context, C = config.width, V = config.vocabularySize, H = config.heads, L = config.layers
    let N = B * T
    var rng = SplitMix64(seed: 1)
    func buffer(_ count: Int) -> FloatPointer {
        let p = FloatPointer.allocate(capacity: count)
        for i in 0..<count { p[i] = rng.normal(mean: 0, std: 0.5) }
        return p
    }
    let x = buffer(N * 4 * C), y = buffer(N * 4 * C), w = buffer(4 * C * C), dW = buffer(4 * C * C)
    let qkv = buffer(N * 3 * C), probs = buffer(B * H * T * T), scratch = buffer(B * H * T * T)
    let stats = buffer(2 * N), logits = buffer(N * V), wte = buffer(V * C)
    let parameters = buffer(800_000), m = buffer(800_000), v = buffer(800_000), g = buffer(800_000)
    for i in 0..<800_000 { v[i] = abs(v[i]) }
    defer { for p in [x, y, w, dW, qkv, probs, scratch, stats, logits, wte, parameters, m, v, g] { p.deallocate() } }
    let targets = (0..<N).map { $0 % V }
    func ms(_ body: () -> Void) -> Double { medianSeconds(repetitions: 7, minimumSeconds: 0.01, body) * 1000 }

    // the four Linears of a block (in -> out), forward and backward (dX and dW)
    var matmul = 0.0
    for (i, o) in [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C)] {
        matmul += Double(L) * ms { gptLinearForward(y, x, weight: w, bias: nil, rows: N, inFeatures: i, outFeatures: o) }
        matmul += Double(L) * ms { gptLinearBackward(dX: y, dWeight: dW, dBias: nil, dOut: x, x: x, weight: w,
                                                     rows: N, inFeatures: i, outFeatures: o) }
    }
    var head = ms { gptLinearForward(logits, x, weight: wte, bias: nil, rows: N, inFeatures: C, outFeatures: V) }
    head += ms { gptLinearBackward(dX: y, dWeight: dW, dBias: nil, dOut: logits, x: x, weight: wte,
                                   rows: N, inFeatures: C, outFeatures: V) }
    let attention = Double(L) * (ms { gptAttentionForward(y, probs: probs, qkv: qkv, weights: nil, mask: nil,
                                                         batch: B, length: T, width: C, heads: H) }
        + ms { gptAttentionBackward(dQKV: x, scratch: scratch, dY: y, qkv: qkv, probs: probs, weights: nil, mask: nil,
                                    batch: B, length: T, width: C, heads: H) })
    let norms = Double(2 * L + 1) * (ms { gptNormForward(y, mean: stats, rstd: stats + N, x, weight: w, bias: w,
                                                          rms: false, rows: N, cols: C) }
        + ms { gptNormBackward(dX: y, dWeight: dW, dBias: dW, dOut: x, x: x, weight: w, mean: stats, rstd: stats + N,
                               rms: false, rows: N, cols: C) })
    let gelu = Double(L) * (ms { gptActivationForward(y, x, count: N * 4 * C, relu: false) }
        + ms { gptActivationBackward(dX: y, dOut: x, x: x, count: N * 4 * C, relu: false) })
    let loss = targets.withUnsafeBufferPointer { t in
        ms { _ = gptCrossEntropyForward(probs: probs, losses: stats, logits: logits, targets: t.baseAddress!, rows: N, vocabulary: V) }
    }
    let optimizer = ms {
        _ = sumOfSquares(g, count: 800_000)
        adamWUpdate(parameters, firstMoment: m, secondMoment: v, gradients: g, count: 800_000, step: 10,
                    learningRate: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1)
    }
    return [("matmuls of the blocks (fwd+bwd)", matmul), ("tied head matmuls (fwd+bwd)", head),
            ("attention core (fwd+bwd)", attention), ("LayerNorm (fwd+bwd)", norms), ("GELU (fwd+bwd)", gelu),
            ("softmax cross-entropy", loss), ("gradient norm + AdamW", optimizer)]
}

/// Runs gpt_char_torch.py for `steps` + 10 iterations and returns its median ms per step (nil
/// if it cannot run: no Python, no torch, no script).
func runTorchGPTBaseline(python: String, script: String, steps: Int, threads: Int, corpus: String?) -> Double? {
    guard access(script, R_OK) == 0 else {
        print("baseline: \(script) not found (run from the repository root, or pass --baseline-script)")
        return nil
    }
    let environment = corpus.map { "CORPUS='\($0)' " } ?? ""
    let command = "\(environment)'\(python)' '\(script)' --max_iters \(steps + 10) --eval_iters 1 --eval_interval 100000"
        + " --threads \(threads) 2>&1"
    guard let (output, status) = runShell(command) else {
        print("baseline: could not start \(python)")
        return nil
    }
    // the line: RESULT name=gpt_char_torch_ms_per_iter value=39.12 unit=ms
    var result: Double?
    let lines = output.split(whereSeparator: \.isNewline)
    for line in lines {
        let fields = line.split(separator: " ")
        guard fields.first == "RESULT", fields.count >= 3, fields[1] == "name=gpt_char_torch_ms_per_iter",
              fields[2].hasPrefix("value="), let value = Double(fields[2].dropFirst("value=".count)) else { continue }
        result = value
    }
    if result == nil { print("baseline: PyTorch gave no figure (exit status \(status)): \(lines.last ?? "")") }
    return result
}
