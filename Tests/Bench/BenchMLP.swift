// `Bench mlp`: seconds per training epoch of the week 3 MLP (784-128-64-10, ReLU, plain SGD
// lr 0.1, batch 128, all 60,000 Fashion-MNIST training images), the configuration of the
// anchors mlp_numpy.py and mlp_torch.py. Week03MLP is an executable target, which Swift cannot
// import, so Bench runs the Week03MLP binary built next to it with the flags a learner would
// type and reads each epoch's training seconds (shuffle, gather, forward, backward, update;
// not the evaluation) from its metrics.json. `--baseline numpy`, `torch` or `both` runs the
// anchor scripts in the same session, alternating with ours run by run, and prints the ratios.
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
            "--runs N           runs of each program, alternating with the baselines (default 1)",
            "--threads N        threads (default: all cores)",
            "--baseline WHICH   numpy, torch or both: also run ../shared/anchors/mlp_numpy.py and/or mlp_torch.py",
            "--anchors PATH     the folder of the anchor scripts (default ../shared/anchors)"]
) { arguments in
    let dataset = try arguments.value("--dataset") ?? "fashion-mnist"
    guard ["fashion-mnist", "digits"].contains(dataset) else { throw BenchError("--dataset must be fashion-mnist or digits") }
    guard let epochs = Int(try arguments.value("--epochs") ?? "3"), epochs >= 1,
          let runs = Int(try arguments.value("--runs") ?? "1"), runs >= 1,
          let threads = Int(try arguments.value("--threads") ?? String(Threads.available)), threads >= 1 else {
        throw BenchError("--epochs, --runs and --threads must be positive integers")
    }
    let baseline = try arguments.value("--baseline")
    let anchors = try arguments.value("--anchors") ?? "../shared/anchors"
    try arguments.finish()
    let baselines: [(name: String, script: String)]
    switch baseline {
    case nil: baselines = []
    case "numpy": baselines = [("NumPy", anchors + "/mlp_numpy.py")]
    case "torch": baselines = [("PyTorch", anchors + "/mlp_torch.py")]
    case "both": baselines = [("NumPy", anchors + "/mlp_numpy.py"), ("PyTorch", anchors + "/mlp_torch.py")]
    default: throw BenchError("--baseline must be numpy, torch or both, got '\(baseline!)'")
    }
    if !baselines.isEmpty && dataset != "fashion-mnist" { throw BenchError("--baseline needs --dataset fashion-mnist") }
    for (_, script) in baselines where access(script, R_OK) != 0 {
        throw BenchError("\(script) not found (use --anchors PATH)", exitCode: 1)
    }

    let program = executableFolder() + "/Week03MLP"
    guard access(program, X_OK) == 0 else {
        throw BenchError("\(program) not found: build it first (swift build -c release --product Week03MLP)", exitCode: 1)
    }
    let out = "/tmp/bench-mlp-\(getpid())"
    let flags = ["--dataset", dataset, "--epochs", String(epochs), "--layers", "784,128,64,10",
                 "--activation", "relu", "--init", "he", "--lr", "0.1", "--momentum", "0",
                 "--schedule", "constant", "--batch", "128", "--validation", "0", "--no-plots",
                 "--threads", String(threads), "--out", out]
    print("week 3 MLP 784-128-64-10 on \(dataset) (all training images), batch 128, SGD lr 0.1, "
          + "\(epochs) epochs x \(runs) runs, \(threads) threads")
    var ours: [Double] = []
    var theirs = [[Double]](repeating: [], count: baselines.count)
    for run in 1...runs {
        let seconds = try weekEpochSeconds(program, flags, metrics: out + "/metrics.json")
        ours += seconds
        var line = "  run \(run): Swift epochs " + seconds.map { fixed($0, 3) }.joined(separator: ", ") + " s"
        for (index, anchor) in baselines.enumerated() {
            let anchorSeconds = try benchAnchorEpochSeconds(anchor.script, name: anchor.name, epochs: epochs, threads: threads)
            theirs[index] += anchorSeconds
            line += " | \(anchor.name) " + anchorSeconds.map { fixed($0, 3) }.joined(separator: ", ") + " s"
        }
        print(line)
    }
    _ = system("rm -rf '\(out)'")
    let params: KeyValuePairs<String, JSONValue> = ["dataset": .string(dataset), "batch": 128, "threads": .init(threads)]
    let ourMedian = median(ours)
    var records = [BenchRecord(name: "mlp_epoch", params: params, value: ourMedian, unit: "s")]
    print("median epoch: Swift \(fixed(ourMedian, 3)) s")
    for (index, anchor) in baselines.enumerated() {
        let theirMedian = median(theirs[index])
        let key = anchor.name == "NumPy" ? "numpy" : "torch"
        print("median epoch: \(anchor.name) \(fixed(theirMedian, 3)) s;  Swift / \(anchor.name) = \(fixed(ourMedian / theirMedian, 2))"
              + " (below 1: Swift is faster)")
        records.append(BenchRecord(name: "mlp_epoch_\(key)", params: params, value: theirMedian, unit: "s"))
        records.append(BenchRecord(name: "mlp_swift_over_\(key)", params: params, value: ourMedian / theirMedian, unit: "ratio"))
    }
    return records
}

/// Runs an MLP anchor script (OpenBLAS's machine-specific variables unset, as RESULTS.md says)
/// and returns its per-epoch times from the lines "epoch  1  loss ...  time 0.181s".
private func benchAnchorEpochSeconds(_ script: String, name: String, epochs: Int, threads: Int) throws -> [Double] {
    let command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 '\(script)' --dataset fashion "
        + "--epochs \(epochs) --threads \(threads) 2>&1"
    guard let (output, status) = runShell(command) else { throw BenchError("cannot run python3", exitCode: 1) }
    guard status == 0 else { throw BenchError("the \(name) anchor failed (status \(status)): \(output.suffix(300))", exitCode: 1) }
    let seconds = output.split(separator: "\n").filter { $0.hasPrefix("epoch") }.compactMap { line -> Double? in
        guard let time = line.split(separator: " ").last, time.hasSuffix("s") else { return nil }
        return Double(time.dropLast())
    }
    guard !seconds.isEmpty else { throw BenchError("no epoch times in the \(name) anchor's output", exitCode: 1) }
    return seconds
}
