// The one way Bench compares ours with a baseline (NumPy, PyTorch, gensim, a tokenizer
// library...): interleaved rounds. This host's speed drifts (up to 2x within minutes) and
// other builds load its two cores, so a baseline timed once, before or after ours, says
// little. In each round ours is measured and then the baseline, right after, at the same
// configuration (A, B, A, B, ...); what counts is the median of the per-round ratios, printed
// with its spread, and every round goes into the --json records.
//
//     let comparison = try interleavedComparison(
//         name: "rnn", baseline: "pytorch", params: ["hidden": 256, "threads": 2],
//         unit: "ms", higherIsBetter: false, rounds: 5,
//         ours: { try ourMillisecondsPerStep() }, baseline: { try torchMillisecondsPerStep() })
//     print("ours / PyTorch " + comparison.ratioText)
//     records += comparison.records
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// Measures ours, then the baseline, `rounds` times in alternation and returns one pair per
/// round, in order. `Value` is what one measurement gives: a number (ms per step) or, when one
/// baseline process measures several configurations at once (bench_gemm.py: every shape),
/// a dictionary of numbers. Each round prints a progress line on stderr.
func interleavedRounds<Value>(rounds: Int, label: String,
                              ours: () throws -> Value,
                              baseline: () throws -> Value) rethrows -> [(ours: Value, baseline: Value)] {
    precondition(rounds >= 1, "interleavedRounds: at least one round")
    var pairs: [(ours: Value, baseline: Value)] = []
    for round in 1...rounds {
        fflush(stdout)
        fputs("  \(label): round \(round)/\(rounds)\n", stderr)
        let our = try ours()
        let their = try baseline()
        pairs.append((our, their))
    }
    return pairs
}

/// One configuration's rounds, ours against one baseline, and what they say.
struct InterleavedComparison {
    /// Record name of the measured values ("gemm", "rnn"); the ratios are "<name>_vs_<baseline>".
    let name: String
    /// The baseline's key in records and its name in tables: "numpy", "pytorch".
    let baseline: String
    /// The configuration ("m", "threads", ...), in the order the records show it.
    let params: [(key: String, value: JSONValue)]
    /// Unit of the measured values ("GFLOP/s", "ms", "s").
    let unit: String
    /// GFLOP/s: a ratio above 1 means ours is faster; ms or s: below 1 means ours is faster.
    let higherIsBetter: Bool
    /// Per round: our value, then the baseline's measured right after it.
    let rounds: [(ours: Double, baseline: Double)]

    /// ours / baseline, one per round.
    var ratios: [Double] { rounds.map { $0.ours / $0.baseline } }
    var medianRatio: Double { quantile(ratios, 0.5) }
    /// The middle half of the ratios (first to third quartile).
    var interquartileRange: (low: Double, high: Double) { (quantile(ratios, 0.25), quantile(ratios, 0.75)) }
    var ratioRange: (low: Double, high: Double) { (ratios.min() ?? .nan, ratios.max() ?? .nan) }
    var medianOurs: Double { quantile(rounds.map(\.ours), 0.5) }
    var medianBaseline: Double { quantile(rounds.map(\.baseline), 0.5) }

    /// "0.93 (median of 5 rounds; IQR 0.90–0.95, range 0.85–1.02; above 1: ours is faster)".
    var ratioText: String {
        let iqr = interquartileRange, range = ratioRange
        return "\(fixed(medianRatio, 2)) (median of \(rounds.count) rounds; IQR \(fixed(iqr.low, 2))–\(fixed(iqr.high, 2)), "
            + "range \(fixed(range.low, 2))–\(fixed(range.high, 2)); \(higherIsBetter ? "above" : "below") 1: ours is faster)"
    }

    /// Every round's two values (params + "implementation" and "round"), then one ratio record
    /// whose value is the median ratio and whose params add the rounds and the spread.
    var records: [BenchRecord] {
        var records: [BenchRecord] = []
        for (index, round) in rounds.enumerated() {
            for (implementation, value) in [("ours", round.ours), (baseline, round.baseline)] {
                records.append(BenchRecord(name: name, params: params + [("implementation", .string(implementation)),
                                                                         ("round", .init(index + 1))],
                                           value: value, unit: unit))
            }
        }
        let iqr = interquartileRange, range = ratioRange
        let spread: [(key: String, value: JSONValue)] = [
            ("rounds", .init(rounds.count)), ("ratios", .array(ratios.map { .number(rounded($0)) })),
            ("q1", .number(rounded(iqr.low))), ("q3", .number(rounded(iqr.high))),
            ("min", .number(rounded(range.low))), ("max", .number(rounded(range.high))),
        ]
        records.append(BenchRecord(name: "\(name)_vs_\(baseline)", params: params + spread,
                                   value: medianRatio, unit: "ratio"))
        return records
    }

    private func rounded(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
}

/// Ours against one baseline at one configuration, `rounds` interleaved rounds (see the top
/// of this file). name, baseline, params, unit, higherIsBetter: as in `InterleavedComparison`.
func interleavedComparison(name: String, baseline baselineName: String,
                           params: [(key: String, value: JSONValue)], unit: String, higherIsBetter: Bool,
                           rounds: Int, ours: () throws -> Double,
                           baseline: () throws -> Double) rethrows -> InterleavedComparison {
    let pairs = try interleavedRounds(rounds: rounds, label: "\(name) vs \(baselineName)", ours: ours, baseline: baseline)
    return InterleavedComparison(name: name, baseline: baselineName, params: params, unit: unit,
                                 higherIsBetter: higherIsBetter, rounds: pairs)
}

/// The q-quantile of `values` (0.5: the median), interpolating between the two nearest
/// sorted values; NaN if empty.
func quantile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let position = q * Double(sorted.count - 1)
    let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
    let fraction = position - Double(below)
    return sorted[below] + (sorted[above] - sorted[below]) * fraction
}

// MARK: - Python for the baselines

/// The Python that runs the baseline scripts: `--python PATH`, else the `PYTHON` environment
/// variable, else `python3` from the PATH. It needs the packages the script imports (numpy,
/// torch...): a venv's python, for example.
func baselinePython(_ arguments: inout BenchArguments) throws -> String {
    if let path = try arguments.value("--python") {
        guard access(path, X_OK) == 0 else { throw BenchError("--python: '\(path)' is not an executable file") }
        return path
    }
    if let path = getenv("PYTHON").map({ String(cString: $0) }), !path.isEmpty {
        guard access(path, X_OK) == 0 else {
            throw BenchError("PYTHON='\(path)' is not an executable file (unset it or pass --python PATH)")
        }
        return path
    }
    return "python3"
}

/// The usage line of `--python`, for every benchmark that runs a baseline script.
let pythonFlag = "--python PATH            Python for the baseline scripts (default: $PYTHON, else python3)"
/// The usage line of `--rounds`.
let roundsFlag = "--rounds N               rounds of ours-then-baseline (default 5)"

extension BenchArguments {
    /// The positive integer given as `name`, or `fallback` when the flag is absent.
    mutating func positive(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = try value(name) else { return fallback }
        guard let value = Int(text), value > 0 else { throw BenchError("\(name) wants a positive integer, got '\(text)'") }
        return value
    }

    /// `--rounds N` (default 5): how many ours-then-baseline rounds a comparison runs.
    mutating func rounds() throws -> Int { try positive("--rounds", 5) }
}

/// Runs a Python script through the shell and returns what it printed; throws (exit 1) with
/// the last lines of its output if it could not start or failed.
func runPythonScript(_ python: String, _ script: String, _ arguments: String,
                     environment: String = "", what: String) throws -> String {
    guard access(script, R_OK) == 0 else {
        throw BenchError("\(script) not found (run from the repository root, or pass its path)", exitCode: 1)
    }
    let command = "\(environment)'\(python)' '\(script)' \(arguments) 2>&1"
    guard let (output, status) = runShell(command) else { throw BenchError("could not start \(python)", exitCode: 1) }
    guard status == 0 else {
        throw BenchError("the \(what) baseline failed (exit status \(status)): \(output.suffix(300))", exitCode: 1)
    }
    return output
}

/// The values of the `RESULT name=... value=... unit=...` lines the anchor scripts print, by name.
func anchorResults(_ output: String) -> [String: Double] {
    var results: [String: Double] = [:]
    for line in output.split(whereSeparator: \.isNewline) {
        let fields = line.split(separator: " ")
        guard fields.first == "RESULT", fields.count >= 3, fields[1].hasPrefix("name="), fields[2].hasPrefix("value="),
              let value = Double(fields[2].dropFirst("value=".count)) else { continue }
        results[String(fields[1].dropFirst("name=".count))] = value
    }
    return results
}

/// "load average 1.23 (1 min), 2 cores": printed above every comparison table, since others
/// may be loading the machine.
func machineLoad() -> String {
    var load = [Double](repeating: 0, count: 3)
    getloadavg(&load, 3)
    return "load average \(fixed(load[0], 2)) (1 min), \(Threads.available) cores"
}
