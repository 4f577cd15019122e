// What every benchmark shares: the subcommand type, a tiny argument reader, the timing helper
// (warm-up, then the median of several repetitions that each run long enough to be timed
// well), and the record type written by `--json` in DESIGN.md's shape:
//   {"name": "gemm", "params": {"m": 512, "n": 512, "k": 512, "threads": 2}, "value": 181.2, "unit": "GFLOP/s"}
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// Seconds on a monotonic clock.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
}

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
    var start = now()
    body()
    let estimate = max(now() - start, 1e-9)
    let calls = max(1, Int((minimumSeconds / estimate).rounded(.up)))
    let repetitions = estimate > 0.25 ? min(repetitions, 3) : repetitions
    var times: [Double] = []
    for repetition in 0...repetitions {
        start = now()
        for _ in 0..<calls { body() }
        let perCall = (now() - start) / Double(calls)
        if repetition > 0 { times.append(perCall) }   // repetition 0 is the warm-up
    }
    times.sort()
    return times[times.count / 2]
}

// MARK: - Records and --json

/// A parameter value in a record: numbers, flags and names.
enum BenchValue: ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                 ExpressibleByStringLiteral, ExpressibleByFloatLiteral {
    case int(Int), double(Double), bool(Bool), string(String)
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(stringLiteral value: String) { self = .string(value) }
    init(floatLiteral value: Double) { self = .double(value) }

    var json: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value): return jsonNumber(value)
        case .bool(let value): return value ? "true" : "false"
        case .string(let value): return jsonString(value)
        }
    }
}

/// One printed figure: `{"name": ..., "params": {...}, "value": ..., "unit": ...}`.
struct BenchRecord {
    let name: String
    /// Kept in the order given, so the JSON reads like the table.
    let params: [(key: String, value: BenchValue)]
    let value: Double
    let unit: String

    init(name: String, params: KeyValuePairs<String, BenchValue>, value: Double, unit: String) {
        self.name = name
        self.params = params.map { (key: $0.key, value: $0.value) }
        self.value = value
        self.unit = unit
    }

    var json: String {
        let fields = params.map { "\(jsonString($0.key)): \($0.value.json)" }.joined(separator: ", ")
        return "{\"name\": \(jsonString(name)), \"params\": {\(fields)}, "
            + "\"value\": \(jsonNumber(value)), \"unit\": \(jsonString(unit))}"
    }
}

/// Writes the records as a JSON array, one record per line.
func writeJSON(_ records: [BenchRecord], to path: String) throws {
    let text = "[\n" + records.map { "  " + $0.json }.joined(separator: ",\n") + "\n]\n"
    guard let file = fopen(path, "w") else {
        throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))", exitCode: 1)
    }
    defer { fclose(file) }
    guard fputs(text, file) >= 0 else { throw BenchError("cannot write \(path)", exitCode: 1) }
}

/// A finite number with 4 decimals at most (JSON has no NaN or infinity: those become null).
private func jsonNumber(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String((value * 10_000).rounded() / 10_000)
}

private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
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

/// A number with `decimals` digits after the point (no Foundation `String(format:)`).
func fixed(_ value: Double, _ decimals: Int = 1) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = scaled / Int(scale)
    var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let fraction = String(scaled % Int(scale))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return text
}
