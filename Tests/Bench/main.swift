// Bench: timings that do not belong in tests. `swift run -c release Bench <name> [--json PATH]`
// prints a table for one benchmark and, with --json, writes one record per printed figure.
// Adding a benchmark: write `let benchData = Benchmark(...)` in your own file in this folder
// and add one line `"data": benchData,` to the registry below. A benchmark that compares
// with a baseline (NumPy, PyTorch, ...) runs it through `interleavedComparison` in
// BenchCompare.swift, and takes its Python from `baselinePython` (--python, $PYTHON, python3).
//
// NOTES: what was measured on the way to the kernels as they are (2-core AMD EPYC Zen 5 KVM
// guest with AVX-512, shared with other builds). The kernels' comments say why they are so;
// the history, and the figures behind it, are kept here.
//
// - The clock of this host drifts: six `Bench gemm --baseline numpy` runs, each timing NumPy
//   once and then ours, gave ratios from 0.70 to 1.53 at 1024², and one RNN step took 8.5 ms
//   in one hour and 13.5 ms in the next. Hence interleaved rounds (ours, baseline, ours,
//   baseline, ...) and the median of the per-round ratios with its spread, never a baseline
//   timed once beside ours.
// - parallelFor (Shared/Kernels/Parallel.swift): Dispatch's `concurrentPerform` was tried
//   first. On a busy machine its pool often woke too late, and the calling thread ran both
//   halves of a GEMM itself, gaining nothing. The WorkerPool's threads spin for 0.2 ms
//   between jobs instead, so a worker is awake when the next kernel comes.
// - GEMM register tile (Matmul.swift): 8 rows x 32 columns. A 6-row tile was tried: a 32-row
//   LSTM batch then took 6 tiles (36 rows, 4 of them padding) and the LSTM training step ran
//   15% slower. With 8 rows the batch sizes used here (32, 128) and the MLP's 784 fill whole
//   tiles.
// - GEMM packing of A: packing one float at a time cost up to 20% at the MLP's shapes, so the
//   A panel has two layouts (8 rows of kc, or kc groups of 8), whichever makes the copy from A
//   contiguous. Copying an A stored (M, K) at all cost the MLP's forward pass 5-8%: such an
//   A is read through lda in place, and only a ragged last panel is copied (to pad it).
// - gemmParallelThreshold (1 MFLOP): on a busy 2-core machine 64x64x64 (0.5 MFLOP, 5 µs)
//   broke even on 2 threads, 64x64x128 gained 20%, 128x128x64 (2.1 MFLOP) ran in 13 µs
//   instead of 20; handing work to a spinning worker costs about 2 µs.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every subcommand, by name.
let benchmarks: [String: Benchmark] = [
    "gemm": benchGemm,
    "rnn": benchRNN,
    "lstm": benchLSTM,
    "week04": benchWeek04,
    "data": benchData,
    "mlp": benchMLP,
    "gpt": benchGPT,
    "word2vec": benchWord2Vec,
    "kernels": benchKernels,
    "bpe": benchBPE,
    "generate": benchGenerate,
]

func printUsage(to stream: UnsafeMutablePointer<FILE>) {
    var text = "usage: swift run -c release Bench <name> [flags] [--json PATH]\n\nbenchmarks:\n"
    for name in benchmarks.keys.sorted() {
        let benchmark = benchmarks[name]!
        text += "  " + padRight(name, 10) + benchmark.summary + "\n"
        for flag in benchmark.flags { text += "      " + flag + "\n" }
    }
    text += "\n  --json PATH   also write the figures as JSON records to PATH\n"
    fputs(text, stream)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first else {
    printUsage(to: stdout)
    exit(0)
}
if name == "--help" || name == "-h" || name == "help" {
    printUsage(to: stdout)
    exit(0)
}
guard let benchmark = benchmarks[name] else {
    fputs("error: unknown benchmark '\(name)'\n", stderr)
    printUsage(to: stderr)
    exit(2)
}

if arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    // `Bench mlp --help`: this benchmark's summary and flags only.
    var text = "usage: swift run -c release Bench \(name) [flags] [--json PATH]\n\n\(benchmark.summary)\n"
    for flag in benchmark.flags { text += "  " + flag + "\n" }
    text += "  --json PATH   also write the figures as JSON records to PATH\n"
    fputs(text, stdout)
    exit(0)
}

do {
    var flags = BenchArguments(Array(arguments.dropFirst()))
    let jsonPath = try flags.value("--json")
    let records = try benchmark.run(&flags)
    if let jsonPath {
        try writeJSON(records, to: jsonPath)
        print("wrote \(records.count) records to \(jsonPath)")
    }
} catch let error as BenchError {
    fputs("error: \(error.description)\n", stderr)
    if error.exitCode == 2 { printUsage(to: stderr) }
    exit(error.exitCode)
} catch {
    fputs("error: \(error)\n", stderr)
    exit(1)
}
