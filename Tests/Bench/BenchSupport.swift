// What every benchmark shares: the subcommand type, a tiny argument reader, the timing helper
// (warm-up, then the median of several repetitions that each run long enough to be timed
// well), and the record type written by `--json` in DESIGN.md's shape:
//   {"name": "gemm", "params": {"m": 512, "n": 512, "k": 512, "threads": 2}, "value": 181.2, "unit": "GFLOP/s"}
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// One `Bench <name>` subcommand. `run` prints its table and returns one record per figure.
struct Benchmark {
    let summary: String
    /// Extra flags it understands, one "--flag VALUE  what it does" line each (for the usage).
    let flags: [String]
    let run: (inout BenchArguments) throws -> [BenchRecord]
}

/// A failure a benchmark reports as one line ("error: ..."), exit code 2 (bad usage) or 1.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32
    init(_ description: String, exitCode: Int32 = 2) {
        self.description = description
        self.exitCode = exitCode
    }
}

/// The arguments after the subcommand name. A benchmark takes out the flags it knows;
/// `finish()` then rejects anything left over.
struct BenchArguments {
    private var remaining: [String]

    init(_ arguments: [String]) { remaining = arguments }

    /// The value of `--name VALUE` or `--name=VALUE`, removed from the list; nil if absent.
    mutating func value(_ name: String) throws -> String? {
        for (index, argument) in remaining.enumerated() {
            if argument == name {
                guard index + 1 < remaining.count else { throw BenchError("\(name) needs a value") }
                let value = remaining[index + 1]
                remaining.removeSubrange(index...(index + 1))
                return value
            }
            if argument.hasPrefix(name + "=") {
                remaining.remove(at: index)
                return String(argument.dropFirst(name.count + 1))
            }
        }
        return nil
    }

    /// True if the bare flag `--name` is present (and removes it).
    mutating func flag(_ name: String) -> Bool {
        guard let index = remaining.firstIndex(of: name) else { return false }
        remaining.remove(at: index)
        return true
    }

    /// `--name 1,2` as integers.
    mutating func intList(_ name: String, default defaultValue: [Int]) throws -> [Int] {
        guard let text = try value(name) else { return defaultValue }
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters()) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw BenchError("\(name) wants positive integers separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }

    /// Throws if an argument was not used by the benchmark (a typo, an unknown flag).
    func finish() throws {
        if let unknown = remaining.first { throw BenchError("unknown argument '\(unknown)'") }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}

// MARK: - Timing

/// The median time of one call to `body`, in seconds.
/// 1. Warm-up: one call (caches, page faults, thread-local buffers), timed to estimate the cost.
/// 2. Each repetition runs `body` enough times in a row to last ≥ `minimumSeconds` (a timer
///    reading costs ~50 ns, and very short intervals are dominated by noise), and one more
///    unmeasured repetition warms up at that size.
/// 3. The median over `repetitions` (robust to a neighbour's compile job stealing the core
///    for a moment) of (repetition time / calls).
/// Calls that are slow (a naive loop at 512) get fewer repetitions so a table stays quick.
func medianSeconds(repetitions: Int = 9, minimumSeconds: Double = 0.02,
                   _ body: () -> Void) -> Double {
    var start = monotonicSeconds()
    body()
    let estimate = max(monotonicSeconds() - start, 1e-9)
    let calls = max(1, Int((minimumSeconds / estimate).rounded(.up)))
    let repetitions = estimate > 0.25 ? min(repetitions, 3) : repetitions
    var times: [Double] = []
    for repetition in 0...repetitions {
        start = monotonicSeconds()
        for _ in 0..<calls { body() }
        let perCall = (monotonicSeconds() - start) / Double(calls)
        if repetition > 0 { times.append(perCall) }   // repetition 0 is the warm-up
    }
    return median(times)
}

/// The median of `values` (the upper one of the middle two for an even count); NaN if empty.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

// MARK: - Running other programs (week binaries, Python anchors)

/// The folder of the running Bench executable (the week programs are built next to it).
func executableFolder() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let path = length > 0 ? String(cString: buffer) : CommandLine.arguments[0]
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

/// Runs a week program quietly (the flags a learner would type) and returns the "seconds"
/// of every epoch from the metrics.json it writes.
func weekEpochSeconds(_ program: String, _ arguments: [String], metrics: String) throws -> [Double] {
    let command = ([program] + arguments).map { "'\($0)'" }.joined(separator: " ") + " > /dev/null 2>&1"
    let status = system(command)
    guard status == 0 else { throw BenchError("\(program) failed (status \(status)): \(command)", exitCode: 1) }
    let document = try JSONValue.parse(readTextFile(metrics))
    guard let history = document["history"]?.arrayValue else { throw BenchError("\(metrics) has no history", exitCode: 1) }
    return history.compactMap { $0["seconds"]?.doubleValue }
}

/// Runs a shell command and returns what it printed (append "2>&1" to the command to get
/// stderr too) and its exit status; nil if the shell could not be started.
func runShell(_ command: String) -> (output: String, status: Int32)? {
    guard let pipe = popen(command, "r") else { return nil }
    var output = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), pipe) != nil { output += String(cString: buffer) }
    return (output, pclose(pipe))
}

// MARK: - Records and --json

/// One printed figure: `{"name": ..., "params": {...}, "value": ..., "unit": ...}`.
/// Parameters are Shared's `JSONValue`s: `["m": 512, "threads": .init(threads), "impl": "blocked"]`.
struct BenchRecord {
    let name: String
    /// Kept in the order given, so the JSON reads like the table.
    let params: [(key: String, value: JSONValue)]
    let value: Double
    let unit: String

    init(name: String, params: KeyValuePairs<String, JSONValue>, value: Double, unit: String) {
        self.init(name: name, params: params.map { (key: $0.key, value: $0.value) }, value: value, unit: unit)
    }

    init(name: String, params: [(key: String, value: JSONValue)], value: Double, unit: String) {
        self.name = name
        self.params = params
        self.value = value
        self.unit = unit
    }

    /// The record as one line of JSON. Written field by field rather than as a `JSONValue`
    /// object, which would sort the keys: here they keep the order of DESIGN.md and of the
    /// table. The value is rounded to 4 decimals (timings are not more precise than that).
    var json: String {
        func quoted(_ text: String) -> String { JSONValue.string(text).description }
        let fields = params.map { quoted($0.key) + ": " + $0.value.description }.joined(separator: ", ")
        let rounded = JSONValue.number((value * 10_000).rounded() / 10_000)
        return "{\"name\": \(quoted(name)), \"params\": {\(fields)}, "
            + "\"value\": \(rounded), \"unit\": \(quoted(unit))}"
    }
}

/// Writes the records as a JSON array, one record per line.
func writeJSON(_ records: [BenchRecord], to path: String) throws {
    try writeTextFile("[\n" + records.map { "  " + $0.json }.joined(separator: ",\n") + "\n]\n", to: path)
}

// MARK: - Table printing

/// `text` padded with spaces on the left to `width` (numbers line up on the right).
func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// `text` padded with spaces on the right to `width`.
func padRight(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// A number with `decimals` digits after the point, "-" when it is not finite (an empty cell).
func fixed(_ value: Double, _ decimals: Int = 1) -> String {
    value.isFinite ? formatFixed(value, digits: decimals) : "-"
}
