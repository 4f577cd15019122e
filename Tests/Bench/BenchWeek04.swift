// `Bench week04`: does the module abstraction of week 4 cost anything? Runs the week 3 program
// (explicit MLP over preallocated buffers) and the week 4 program (Sequential of modules,
// DataLoader, SGD optimizer type) on the same network, data and optimizer, alternating
// w3, w4, w3, w4 ... so that a neighbour's load hits both alike, and compares the median
// training-pass time of an epoch that each program writes to its metrics.json ("seconds":
// shuffle, gather, forward, backward, update; not validation). The week programs are
// separate executables built next to Bench, so they are run as such (same flags a learner types).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

let benchWeek04 = Benchmark(
    summary: "week 4 (modules) vs week 3 (explicit MLP): median epoch seconds, same network and SGD",
    flags: ["--dataset NAME  fashion-mnist (default; falls back to digits if absent) or digits",
            "--epochs N      epochs per run (default 4)",
            "--runs N        runs of each program, alternating (default 3)",
            "--hidden A,B    hidden sizes (default 128,64: the week 3 network)"]
) { arguments in
    let dataset = try arguments.value("--dataset") ?? "fashion-mnist"
    guard ["fashion-mnist", "digits"].contains(dataset) else { throw BenchError("--dataset must be fashion-mnist or digits") }
    let epochs = try Int(arguments.value("--epochs") ?? "4") ?? -1
    let runs = try Int(arguments.value("--runs") ?? "3") ?? -1
    guard epochs >= 1, runs >= 1 else { throw BenchError("--epochs and --runs must be positive integers") }
    let hidden = try arguments.intList("--hidden", default: [128, 64])
    try arguments.finish()

    let folder = executableFolder()
    let week3 = folder + "/Week03MLP", week4 = folder + "/Week04Training"
    for program in [week3, week4] where access(program, X_OK) != 0 {
        throw BenchError("\(program) not found: build it first (swift build -c release)", exitCode: 1)
    }
    let out = "/tmp/bench-week04-\(getpid())"
    let hiddenText = hidden.map(String.init).joined(separator: ",")
    let common = ["--dataset", dataset, "--epochs", String(epochs), "--lr", "0.1", "--schedule", "constant",
                  "--batch", "128", "--validation", "0.1", "--no-plots", "--threads", String(Threads.available)]
    let week3Arguments = common + ["--layers", "784,\(hiddenText),10", "--momentum", "0", "--out", out + "/w3"]
    let week4Arguments = common + ["--hidden", hiddenText, "--optimizer", "sgd", "--dropout", "0",
                                   "--weight-decay", "0", "--patience", "0", "--out", out + "/w4"]
    print("week 3 vs week 4, \(dataset), MLP 784-\(hidden.map(String.init).joined(separator: "-"))-10, plain SGD, batch 128, \(epochs) epochs x \(runs) runs each, \(Threads.available) threads")
    var seconds3: [Double] = [], seconds4: [Double] = []
    for run in 1...runs {
        seconds3 += try weekEpochSeconds(week3, week3Arguments, metrics: out + "/w3/metrics.json")
        seconds4 += try weekEpochSeconds(week4, week4Arguments, metrics: out + "/w4/metrics.json")
        print("  run \(run): week 3 median \(fixed(median(seconds3), 3)) s, week 4 median \(fixed(median(seconds4), 3)) s (so far)")
    }
    _ = system("rm -rf '\(out)'")
    let m3 = median(seconds3), m4 = median(seconds4)
    let ratio = m4 / m3
    print("median epoch: week 3 \(fixed(m3, 3)) s, week 4 \(fixed(m4, 3)) s, week 4 / week 3 = \(fixed(ratio, 3))"
          + (ratio <= 1.10 ? "  (within the 10% budget)" : "  (OVER the 10% budget)"))
    let params: KeyValuePairs<String, JSONValue> = ["dataset": .string(dataset), "hidden": .string(hiddenText),
                                                     "epochs": .init(epochs), "runs": .init(runs), "threads": .init(Threads.available)]
    return [BenchRecord(name: "week03_epoch", params: params, value: m3, unit: "s"),
            BenchRecord(name: "week04_epoch", params: params, value: m4, unit: "s"),
            BenchRecord(name: "week04_over_week03", params: params, value: ratio, unit: "ratio")]
}
