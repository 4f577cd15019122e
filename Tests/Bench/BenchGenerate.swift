// Bench generate: tokens per second of GPT decoding with the key/value cache (week 9,
// Shared/NN/GPTKVCache.swift) against rerunning the whole window every token, at nanoGPT's CPU
// model (4 blocks, 4 heads, width 128, vocabulary 65) with contexts 64 and 256. Each round
// generates one context's worth of tokens from a one-token prompt both ways, cached first,
// right after each other (interleaved rounds, BenchCompare.swift); the ratio is the speed-up.
import Shared

let benchGenerate = Benchmark(
    summary: "tokens/s of GPT generation with and without the KV cache (week 9), contexts 64 and 256",
    flags: [
        "--contexts LIST          context lengths T (default 64,256); each round generates T - 1 tokens",
        roundsFlag,
        "--threads N              threads (default 2)",
    ]) { try runGenerateBench(&$0) }

func runGenerateBench(_ flags: inout BenchArguments) throws -> [BenchRecord] {
    let contexts = try flags.intList("--contexts", default: [64, 256])
    let rounds = try flags.rounds()
    let threads = try flags.positive("--threads", 2)
    try flags.finish()
    print("GPT generation (L 4, H 4, C 128, V 65, random weights), \(threads) threads, \(rounds) interleaved rounds; "
          + "load: \(machineLoad())")
    var records: [BenchRecord] = []
    var lines: [String] = []
    try Threads.$count.withValue(threads) {
        for T in contexts {
            var rng = SplitMix64(seed: 1)
            let model = try GPT(config: GPTConfig(vocabularySize: 65, context: T), maxBatch: 1, rng: &rng)
            /// Tokens per second of generating T − 1 tokens after one (the context filled exactly).
            func tokensPerSecond(cached: Bool) throws -> Double {
                var sampleRNG = SplitMix64(seed: 2)
                let start = monotonicSeconds()
                let ids = try generate(model, prompt: [0], maxTokens: T - 1, sampling: SamplingSettings(temperature: 1),
                                       state: model.makeDecodingState(cached: cached), rng: &sampleRNG) { _, _ in }
                return Double(ids.count) / (monotonicSeconds() - start)
            }
            _ = try tokensPerSecond(cached: true)    // warm-up: buffers, thread pool
            _ = try tokensPerSecond(cached: false)
            let comparison = try interleavedComparison(
                name: "generate", baseline: "no_cache", params: [("context", .init(T)), ("threads", .init(threads))],
                unit: "tokens/s", higherIsBetter: true, rounds: rounds,
                ours: { try tokensPerSecond(cached: true) }, baseline: { try tokensPerSecond(cached: false) })
            records += comparison.records
            lines.append(padRight("T \(T)", 8) + padRight(fixed(comparison.medianOurs, 0), 14)
                         + padRight(fixed(comparison.medianBaseline, 0), 16) + "speed-up " + comparison.ratioText)
        }
    }
    print(padRight("context", 8) + padRight("cached tok/s", 14) + padRight("no cache tok/s", 16) + "cached / no cache")
    lines.forEach { print($0) }
    return records
}
