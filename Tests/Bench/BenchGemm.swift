// `Bench gemm`: GFLOP/s of the three GEMMs in Shared/Kernels/Matmul.swift side by side (the
// naive loop, SIMD only, blocked + packed + threaded), on square sizes and on the shapes of the
// week-3 MLP (784-128-64-10, batch 128), optionally next to NumPy (OpenBLAS) measured in the
// same run. What a learner should see: SIMD alone buys a few x over the naive loop, blocking
// and packing buy another several x, the second core nearly doubles large problems.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// One benchmarked product: C (M, N) = op(A) (M, K) · B (K, N).
struct GemmShape {
    let label: String
    let M: Int, N: Int, K: Int
    let transposeA: Bool
    /// The same shape's label in ../shared/anchors/bench_gemm.py.
    let numpyLabel: String

    var flops: Double { 2 * Double(M) * Double(N) * Double(K) }
}

let gemmShapes: [GemmShape] = [
    GemmShape(label: "128²", M: 128, N: 128, K: 128, transposeA: false, numpyLabel: "sq128"),
    GemmShape(label: "256²", M: 256, N: 256, K: 256, transposeA: false, numpyLabel: "sq256"),
    GemmShape(label: "512²", M: 512, N: 512, K: 512, transposeA: false, numpyLabel: "sq512"),
    GemmShape(label: "1024²", M: 1024, N: 1024, K: 1024, transposeA: false, numpyLabel: "sq1024"),
    GemmShape(label: "2048²", M: 2048, N: 2048, K: 2048, transposeA: false, numpyLabel: "sq2048"),
    // The MLP at batch 128: layer 1 forward, layer 2 forward, and the layer-1 weight gradient.
    GemmShape(label: "128x784·784x128", M: 128, N: 128, K: 784, transposeA: false,
              numpyLabel: "mlp_fwd1_128x784@784x128"),
    GemmShape(label: "128x128·128x64", M: 128, N: 64, K: 128, transposeA: false,
              numpyLabel: "mlp_fwd2_128x128@128x64"),
    GemmShape(label: "784x128·128x128", M: 784, N: 128, K: 128, transposeA: false,
              numpyLabel: "mlp_bwd_dW1_784x128@128x128"),
    // dW1 = Xᵀ·dZ with X stored (128, 784): gemm reads it through transposeA, no copy.
    GemmShape(label: "Xᵀ·dZ (X 128x784)", M: 784, N: 128, K: 128, transposeA: true,
              numpyLabel: "mlp_bwd_dW1_XT_view"),
]

/// The naive loop takes seconds per call above 512³ multiply-adds; its column says "skipped"
/// there (1024² and 2048²).
let naiveLimit = 512

let benchGemm = Benchmark(
    summary: "GFLOP/s of naive, SIMD-only and blocked GEMM on square and MLP shapes",
    flags: ["--threads 1,2            thread counts for the blocked GEMM (default 1,2)",
            "--impls naive,simd,blocked  which implementations to time (default all three)",
            "--baseline numpy         also run ../shared/anchors/bench_gemm.py in interleaved rounds, print the ratio",
            "--baseline-script PATH   where bench_gemm.py is (default ../shared/anchors/bench_gemm.py)",
            roundsFlag, pythonFlag]
) { arguments in
    let threadCounts = try arguments.intList("--threads", default: [1, 2])
    let impls = (try arguments.value("--impls") ?? "naive,simd,blocked")
        .split(separator: ",").map(String.init)
    for impl in impls where !["naive", "simd", "blocked"].contains(impl) {
        throw BenchError("--impls: unknown implementation '\(impl)' (naive, simd, blocked)")
    }
    let baseline = try arguments.value("--baseline")
    if let baseline, baseline != "numpy" {
        throw BenchError("--baseline: only 'numpy' is known, got '\(baseline)'")
    }
    if baseline != nil && !impls.contains("blocked") { throw BenchError("--baseline numpy compares the blocked GEMM: keep it in --impls") }
    let script = try arguments.value("--baseline-script") ?? "../shared/anchors/bench_gemm.py"
    let rounds = try arguments.rounds()
    let python = try baselinePython(&arguments)
    try arguments.finish()

    print("GEMM, float32, C = op(A)·B, GFLOP/s = 2·M·N·K / median time (\(machineLoad()))")
    if baseline != nil {
        print("blocked and NumPy: medians over \(rounds) rounds of ours then NumPy (\(python)); ratio: median of the"
              + " per-round ratios blocked / NumPy (above 1: ours is faster), spread: its lowest and highest")
    }
    var header = padRight("shape (M×K · K×N)", 20) + padLeft("thr", 4) + padLeft("naive", 9)
        + padLeft("SIMD-only", 11) + padLeft("blocked", 9)
    if baseline != nil { header += padLeft("NumPy", 9) + padLeft("ratio", 7) + padLeft("spread", 15) }
    print(header)
    print(String(repeating: "-", count: header.count))

    var records: [BenchRecord] = []
    var problems = gemmShapes.map { GemmBuffers($0) }
    func params(_ shape: GemmShape, threads: Int) -> [(key: String, value: JSONValue)] {
        [("m", .init(shape.M)), ("n", .init(shape.N)), ("k", .init(shape.K)), ("threads", .init(threads)),
         ("transpose_a", .bool(shape.transposeA)), ("transpose_b", false)]
    }
    for threads in threadCounts {
        // The single-thread teaching versions, once, on the first thread count's rows.
        var teaching = [String](repeating: "", count: gemmShapes.count)
        var simdTexts = teaching
        if threads == threadCounts.first {
            for (index, shape) in gemmShapes.enumerated() {
                if impls.contains("naive") {
                    if shape.M * shape.N * shape.K > naiveLimit * naiveLimit * naiveLimit {
                        teaching[index] = "skipped"
                    } else {
                        let value = shape.flops / problems[index].time(.naive, threads: 1) / 1e9
                        teaching[index] = fixed(value)
                        records.append(BenchRecord(name: "gemm", params: params(shape, threads: 1) + [("impl", "naive")],
                                                   value: value, unit: "GFLOP/s"))
                    }
                }
                if impls.contains("simd") {
                    let value = shape.flops / problems[index].time(.simdOnly, threads: 1) / 1e9
                    simdTexts[index] = fixed(value)
                    records.append(BenchRecord(name: "gemm", params: params(shape, threads: 1) + [("impl", "simd")],
                                               value: value, unit: "GFLOP/s"))
                }
            }
        }
        // The blocked GEMM on every shape: once, or in rounds alternating with one NumPy run.
        func timeBlocked() -> [String: Double] {
            var figures: [String: Double] = [:]
            if impls.contains("blocked") {
                for (index, shape) in gemmShapes.enumerated() {
                    figures[shape.numpyLabel] = shape.flops / problems[index].time(.blocked, threads: threads) / 1e9
                }
            }
            return figures
        }
        var comparisons: [String: InterleavedComparison] = [:]
        var blocked: [String: Double] = [:]
        if baseline != nil {
            let pairs = try interleavedRounds(rounds: rounds, label: "gemm, \(threads) thread(s)", ours: timeBlocked) {
                try runNumPyBaseline(python: python, script: script, threads: threads)
            }
            for shape in gemmShapes {
                guard pairs.allSatisfy({ $0.baseline[shape.numpyLabel] != nil }) else {
                    throw BenchError("bench_gemm.py gave no figure for \(shape.numpyLabel)", exitCode: 1)
                }
                comparisons[shape.numpyLabel] = InterleavedComparison(
                    name: "gemm", baseline: "numpy", params: params(shape, threads: threads),
                    unit: "GFLOP/s", higherIsBetter: true,
                    rounds: pairs.map { ($0.ours[shape.numpyLabel]!, $0.baseline[shape.numpyLabel]!) })
            }
        } else {
            blocked = timeBlocked()
        }
        for (index, shape) in gemmShapes.enumerated() {
            var line = padRight(shape.label, 20) + padLeft(String(threads), 4)
                + padLeft(teaching[index], 9) + padLeft(simdTexts[index], 11)
            if let comparison = comparisons[shape.numpyLabel] {
                let range = comparison.ratioRange
                line += padLeft(fixed(comparison.medianOurs), 9) + padLeft(fixed(comparison.medianBaseline), 9)
                    + padLeft(fixed(comparison.medianRatio, 2), 7)
                    + padLeft(fixed(range.low, 2) + "–" + fixed(range.high, 2), 15)
                records += comparison.records
                records.append(BenchRecord(name: "gemm", params: params(shape, threads: threads) + [("impl", "blocked")],
                                           value: comparison.medianOurs, unit: "GFLOP/s"))
            } else if let value = blocked[shape.numpyLabel] {
                line += padLeft(fixed(value), 9)
                records.append(BenchRecord(name: "gemm", params: params(shape, threads: threads) + [("impl", "blocked")],
                                           value: value, unit: "GFLOP/s"))
            }
            print(line)
        }
        fflush(stdout)
    }
    print("naive: three loops (gemmNaive), skipped above \(naiveLimit)³ (seconds per call);"
          + " SIMD-only: gemmSIMDOnly, 1 thread; blocked: gemm (packing, 8x32 micro-kernel, threads).")
    printWhatEachStepBuys(records)
    return records
}

/// One line per step at 512², the largest size all three run at: how many times faster each
/// idea made it.
func printWhatEachStepBuys(_ records: [BenchRecord]) {
    func figure(_ impl: String, threads: Int) -> Double? {
        records.first { record in
            record.name == "gemm"
                && record.params.contains { $0.key == "m" && $0.value == 512 }
                && record.params.contains { $0.key == "impl" && $0.value == .string(impl) }
                && record.params.contains { $0.key == "threads" && $0.value == .init(threads) }
        }?.value
    }
    var steps: [String] = []
    if let naive = figure("naive", threads: 1), let simd = figure("simd", threads: 1) {
        steps.append("SIMD alone \(fixed(simd / naive))x the naive loop")
    }
    if let simd = figure("simd", threads: 1), let blocked = figure("blocked", threads: 1) {
        steps.append("blocking + packing + micro-kernel \(fixed(blocked / simd))x SIMD alone")
    }
    if let one = figure("blocked", threads: 1), let two = figure("blocked", threads: 2) {
        steps.append("2 threads \(fixed(two / one, 2))x 1 thread")
    }
    if !steps.isEmpty { print("at 512²: " + steps.joined(separator: "; ")) }
}

/// A, B, C for one shape, filled with seeded normals; times one implementation on them.
struct GemmBuffers {
    enum Implementation { case naive, simdOnly, blocked }

    let shape: GemmShape
    var a: [Float], b: [Float], c: [Float]
    let lda: Int

    init(_ shape: GemmShape) {
        self.shape = shape
        var rng = SplitMix64(seed: 1)
        a = rng.gaussians(shape.M * shape.K)      // (M, K), or (K, M) when transposeA
        b = rng.gaussians(shape.K * shape.N)      // (K, N)
        c = [Float](repeating: 0, count: shape.M * shape.N)
        lda = shape.transposeA ? shape.M : shape.K
    }

    /// Median seconds per call of C = op(A)·B (β = 0).
    mutating func time(_ implementation: Implementation, threads: Int) -> Double {
        let shape = self.shape, lda = self.lda
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let (a, b, c) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    return medianSeconds {
                        switch implementation {
                        case .naive:
                            gemmNaive(transposeA: shape.transposeA, m: shape.M, n: shape.N, k: shape.K,
                                      a: a, lda: lda, b: b, ldb: shape.N, c: c, ldc: shape.N)
                        case .simdOnly:
                            gemmSIMDOnly(transposeA: shape.transposeA, m: shape.M, n: shape.N, k: shape.K,
                                         a: a, lda: lda, b: b, ldb: shape.N, c: c, ldc: shape.N)
                        case .blocked:
                            gemm(transposeA: shape.transposeA, m: shape.M, n: shape.N, k: shape.K,
                                 a: a, lda: lda, b: b, ldb: shape.N, c: c, ldc: shape.N,
                                 threads: threads)
                        }
                    }
                }
            }
        }
    }
}

/// Runs NumPy's GEMM anchor once for one thread count and returns GFLOP/s by its shape label.
/// It runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, so OpenBLAS picks its AVX-512
/// kernel (see ../shared/anchors/RESULTS.md).
func runNumPyBaseline(python: String, script: String, threads: Int) throws -> [String: Double] {
    let output = try runPythonScript(python, script, "--backend numpy --threads \(threads)",
                                     environment: "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ", what: "NumPy GEMM")
    // Lines look like: RESULT name=gemm_numpy_sq512_t2 value=297.00 unit=GFLOP/s
    var results: [String: Double] = [:]
    for (name, value) in anchorResults(output) where name.hasPrefix("gemm_numpy_") && name.hasSuffix("_t\(threads)") {
        results[String(name.dropFirst("gemm_numpy_".count).dropLast("_t\(threads)".count))] = value
    }
    if results.isEmpty { throw BenchError("NumPy gave no figures: \(output.suffix(300))", exitCode: 1) }
    return results
}
