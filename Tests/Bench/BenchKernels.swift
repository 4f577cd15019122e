// `Bench kernels`: microseconds per call of the elementwise, row and optimizer kernels at a
// GPT-sized shape, and of one-row matrix products (one-token decoding). Timed through the
// array forms, which every kernel has, so the same table can be taken from an older build.
import Shared

let benchKernels = Benchmark(
    summary: "µs per call of the elementwise/row/optimizer kernels and one-row matmuls (all cores)",
    flags: []
) { arguments in
    try arguments.finish()
    var rng = SplitMix64(seed: 1)
    // shapes: B·T = 1024 tokens of C = 768 (GELU over 4C), a 512-class softmax, 1M parameters
    let (N, C, V, P) = (1024, 768, 512, 1 << 20)
    let x = rng.gaussians(N * C), big = rng.gaussians(4 * N * C), w = rng.gaussians(C), b = rng.gaussians(C)
    var out = [Float](repeating: 0, count: N * C), bigOut = [Float](repeating: 0, count: 4 * N * C)
    var dX = out, bigDX = bigOut, mean = [Float](repeating: 0, count: N), rstd = mean
    var dW = w, dB = b
    let logits = rng.gaussians(N * V)
    var probs = [Float](repeating: 0, count: N * V), dLogits = probs
    let targets = (0..<N).map { _ in rng.int(below: V) }
    var parameters = rng.gaussians(P), m = [Float](repeating: 0, count: P), v = m
    let gradients = rng.gaussians(P)
    let ids = (0..<N).map { _ in rng.int(below: V) }, table = rng.gaussians(V * C)
    let cases: [(String, () -> Void)] = [
        ("geluForward 4·N·C", { geluForward(&bigOut, big) }),
        ("geluBackward 4·N·C", { geluBackward(dX: &bigDX, dOut: big, x: big) }),
        ("tanhForward N·C", { tanhForward(&out, x) }),
        ("sigmoidForward N·C", { sigmoidForward(&out, x) }),
        ("reluForward N·C", { reluForward(&out, x) }),
        ("reluBackward N·C", { reluBackward(dX: &dX, dOut: x, x: x) }),
        ("biasAddForward N×C", { biasAddForward(&out, b, rows: N, cols: C) }),
        ("layerNormForward N×C", { layerNormForward(&out, mean: &mean, rstd: &rstd, x, weight: w, bias: b, rows: N, cols: C) }),
        ("layerNormBackward N×C", { layerNormBackward(dX: &dX, dWeight: &dW, dBias: &dB, dOut: x, x: x, weight: w,
                                                      mean: mean, rstd: rstd, rows: N, cols: C) }),
        ("softmaxForward N×V", { softmaxForward(&probs, logits, rows: N, cols: V) }),
        ("crossEntropyForward N×V", { _ = softmaxCrossEntropyForward(probs: &probs, logits: logits, targets: targets, rows: N, classes: V) }),
        ("crossEntropyBackward N×V", { softmaxCrossEntropyBackward(dLogits: &dLogits, probs: probs, targets: targets, rows: N, classes: V) }),
        ("embeddingForward N×C", { embeddingForward(&out, ids: ids, table: table, vocabulary: V, dimension: C) }),
        ("adamWUpdate 1M", { adamWUpdate(&parameters, firstMoment: &m, secondMoment: &v, gradients: gradients, step: 1, learningRate: 1e-9) }),
        ("sumOfSquares 1M", { _ = sumOfSquares(gradients) }),
    ]
    // one-row products: h (1, K) · W (K, N) and W stored (N, K), as a decoder's projections
    var matmulCases: [(String, () -> Void)] = []
    for (K, N) in [(256, 256), (768, 2304), (768, 50_257)] {
        let a = rng.gaussians(K), weight = rng.gaussians(K * N)
        var y = [Float](repeating: 0, count: N)
        matmulCases.append(("matmul 1×\(K)·\(K)×\(N)", { matmul(&y, a, weight, m: 1, n: N, k: K) }))
        matmulCases.append(("matmul 1×\(K)·(\(N)×\(K))ᵀ", { matmul(&y, a, weight, m: 1, n: N, k: K, transposeB: true) }))
    }
    var records: [BenchRecord] = []
    print(padRight("kernel", 32) + padLeft("µs/call", 12))
    for (name, body) in cases + matmulCases {
        let micros = medianSeconds(body) * 1e6
        print(padRight(name, 32) + padLeft(fixed(micros, 1), 12))
        records.append(BenchRecord(name: "kernels", params: ["kernel": .string(name), "threads": .init(Threads.count)],
                                   value: micros, unit: "µs"))
    }
    return records
}
