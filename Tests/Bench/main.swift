// Bench: timings that do not belong in tests. `swift run -c release Bench <name> [--json PATH]`
// prints a table for one benchmark and, with --json, writes one record per printed figure.
// Adding a benchmark: write `let benchData = Benchmark(...)` in your own file in this folder
// and add one line `"data": benchData,` to the registry below.
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
