// `Bench mlp`: seconds per training epoch of the week 3 MLP (784-128-64-10, ReLU, plain SGD
// lr 0.1, batch 128, all 60,000 Fashion-MNIST training images), the configuration of the
// anchors mlp_numpy.py and mlp_torch.py. Week03MLP is an executable target, which Swift cannot
// import, so Bench runs the Week03MLP binary built next to it with the flags a learner would
// type and reads each epoch's training seconds (shuffle, gather, forward, backward, update;
// not the evaluation) from its metrics.json. `--baseline numpy`, `torch` or `both` runs the
// anchor scripts in interleaved rounds with ours (BenchCompare.swift) and prints the ratios.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

let benchMLP = Benchmark(
    summary: "week 3 MLP 784-128-64-10: median seconds per training epoch (batch 128, SGD lr 0.1)",
    flags: ["--dataset NAME     fashion-mnist (default) or digits",
            "--epochs N         epochs per run (default 3)",
            "--rounds N         runs of ours (with --baseline: rounds of ours then the baseline; default 5 with --baseline, else 1)",
            "--threads N        threads (default: all cores)",
            "--baseline WHICH   numpy, torch or both: also run ../shared/anchors/mlp_numpy.py and/or mlp_torch.py",
            "--anchors PATH     the folder of the anchor scripts (default ../shared/anchors)",
            pythonFlag]
) { arguments in
    let dataset = try arguments.value("--dataset") ?? "fashion-mnist"
    guard ["fashion-mnist", "digits"].contains(dataset) else { throw BenchError("--dataset must be fashion-mnist or digits") }
    let baseline = try arguments.value("--baseline")
    guard let epochs = Int(try arguments.value("--epochs") ?? "3"), epochs >= 1,
          let rounds = Int(try arguments.value("--rounds") ?? (baseline == nil ? "1" : "5")), rounds >= 1,
          let threads = Int(try arguments.value("--threads") ?? String(Threads.available)), threads >= 1 else {
        throw BenchError("--epochs, --rounds and --threads must be positive integers")
    }
    let anchors = try arguments.value("--anchors") ?? "../shared/anchors"
    let python = try baselinePython(&arguments)
    try arguments.finish()
    let baselines: [(name: String, key: String, script: String)]
    switch baseline {
    case nil: baselines = []
    case "numpy": baselines = [("NumPy", "numpy", anchors + "/mlp_numpy.py")]
    case "torch": baselines = [("PyTorch", "pytorch", anchors + "/mlp_torch.py")]
    case "both": baselines = [("NumPy", "numpy", anchors + "/mlp_numpy.py"), ("PyTorch", "pytorch", anchors + "/mlp_torch.py")]
    default: throw BenchError("--baseline must be numpy, torch or both, got '\(baseline!)'")
    }
    if !baselines.isEmpty && dataset != "fashion-mnist" { throw BenchError("--baseline needs --dataset fashion-mnist") }
    for baseline in baselines where access(baseline.script, R_OK) != 0 {
        throw BenchError("\(baseline.script) not found (use --anchors PATH)", exitCode: 1)
    }

    let program = executableFolder() + "/Week03MLP"
    guard access(program, X_OK) == 0 else {
        throw BenchError("\(program) not found: build it first (swift build -c release --product Week03MLP)", exitCode: 1)
    }
    let out = "/tmp/bench-mlp-\(getpid())"
    defer { _ = system("rm -rf '\(out)'") }
    let flags = ["--dataset", dataset, "--epochs", String(epochs), "--layers", "784,128,64,10",
                 "--activation", "relu", "--init", "he", "--lr", "0.1", "--momentum", "0",
                 "--schedule", "constant", "--batch", "128", "--validation", "0", "--no-plots",
                 "--threads", String(threads), "--out", out]
    print("week 3 MLP 784-128-64-10 on \(dataset) (all training images), batch 128, SGD lr 0.1, "
          + "\(epochs) epochs per run, \(threads) threads (\(machineLoad()))")
    /// One run of ours: the median of its epochs' seconds.
    func ourRun() throws -> Double {
        let seconds = try weekEpochSeconds(program, flags, metrics: out + "/metrics.json")
        print("  Swift epochs " + seconds.map { fixed($0, 3) }.joined(separator: ", ") + " s")
        return median(seconds)
    }
    let params: [(key: String, value: JSONValue)] = [("dataset", .string(dataset)), ("batch", 128), ("threads", .init(threads))]
    guard !baselines.isEmpty else {
        var runs: [Double] = []
        for _ in 1...rounds { runs.append(try ourRun()) }
        print("median epoch: Swift \(fixed(median(runs), 3)) s")
        return [BenchRecord(name: "mlp_epoch", params: params, value: median(runs), unit: "s")]
    }
    var records: [BenchRecord] = []
    for baseline in baselines {
        print("Swift vs \(baseline.name) (\(python)), \(rounds) rounds:")
        let comparison = try interleavedComparison(
            name: "mlp_epoch", baseline: baseline.key, params: params, unit: "s", higherIsBetter: false,
            rounds: rounds, ours: ourRun) {
            let seconds = try anchorEpochSeconds(python: python, script: baseline.script, name: baseline.name,
                                                 epochs: epochs, threads: threads)
            print("  \(baseline.name) epochs " + seconds.map { fixed($0, 3) }.joined(separator: ", ") + " s")
            return median(seconds)
        }
        print("median epoch: Swift \(fixed(comparison.medianOurs, 3)) s, \(baseline.name) \(fixed(comparison.medianBaseline, 3)) s;"
              + " Swift / \(baseline.name) = " + comparison.ratioText)
        records += comparison.records
    }
    return records
}

/// Runs an MLP anchor script once (OpenBLAS's machine-specific variables unset, as RESULTS.md
/// says) and returns its per-epoch times from the lines "epoch  1  loss ...  time 0.181s".
private func anchorEpochSeconds(python: String, script: String, name: String, epochs: Int, threads: Int) throws -> [Double] {
    let output = try runPythonScript(python, script, "--dataset fashion --epochs \(epochs) --threads \(threads)",
                                     environment: "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ", what: name)
    let seconds = output.split(separator: "\n").filter { $0.hasPrefix("epoch") }.compactMap { line -> Double? in
        guard let time = line.split(separator: " ").last, time.hasSuffix("s") else { return nil }
        return Double(time.dropLast())
    }
    guard !seconds.isEmpty else { throw BenchError("no epoch times in the \(name) anchor's output", exitCode: 1) }
    return seconds
}
