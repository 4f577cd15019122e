// Command-line flags for every week program: `--epochs 5`, `--epochs=5`, `--quick`, `--help`.
// A program declares each flag by reading it (name, default, help), then calls `finish()`,
// which prints the usage for --help, or one "error: ..." line and the usage for a bad command
// line (exit code 2). Flags are kebab-case on the command line and snake_case in metrics.json.
import SharedKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error with one line for the user: what went wrong and, where it helps, what to do.
public struct WorkbookError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Prints "error: message" on stderr and exits. For errors the user can fix (missing files,
/// bad flags): one clear line, no stack trace.
public func fail(_ message: String, exitCode: Int32 = 1) -> Never {
    writeStandardError("error: \(message)\n")
    exit(exitCode)
}

/// A value from the command line that turned out wrong only when used (a --prompt character
/// the vocabulary lacks, say): the program reports it like a bad flag, with exit code 2.
public struct CommandLineError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs `body`; if it throws, prints the error as one line and exits with code 1.
/// `let data = check { try MNIST.load(.mnist, dataDir: dir, download: false) }`
public func check<T>(_ body: () throws -> T) -> T {
    do {
        return try body()
    } catch let error as CommandLineError {
        fail(error.message, exitCode: 2)
    } catch {
        fail("\(error)")
    }
}

/// Writes text to stderr unbuffered, after flushing stdout so the two streams stay in order.
func writeStandardError(_ text: String) {
    fflush(stdout)
    fputs(text, stderr)
    fflush(stderr)
}

/// The command line of one program. Read each flag once, with its default and a help line,
/// then call `finish()`:
///
///     let options = Options(program: "Week03MLP", summary: "A two-layer MLP on digits.")
///     let common = commonFlags(options, week: "Week03MLP")
///     let epochs = options.int("epochs", default: 10, help: "passes over the training set")
///     let optimizer = options.choice("optimizer", default: "adam", choices: ["sgd", "adam"], help: "update rule")
///     options.finish()
///
/// Reading a flag never fails: a bad value is remembered, the default is returned, and
/// `finish()` reports the first problem and exits with code 2.
public final class Options {
    /// One declared flag, as shown by --help and recorded in `config`.
    struct Declaration {
        let name: String          // kebab-case, as typed: "data-dir"
        let typeName: String      // "int", "float", "string", "ints", "choice", "" for on/off flags
        let defaultText: String   // shown as "(default: ...)"; empty for none
        let choices: [String]
        let help: String
    }

    /// What the command line asks for, once every flag has been declared.
    public enum Outcome: Equatable {
        /// Run the program with the values read.
        case run
        /// --help or -h: print the usage (to stdout) and exit 0.
        case help
        /// Print "error: message" and the usage (to stderr) and exit 2.
        case error(String)
    }

    public let program: String
    public let summary: String

    /// The arguments after the program name, and which of them a declared flag has consumed.
    private let arguments: [String]
    private var consumed: [Bool]
    private var declarations: [Declaration] = []
    private var values: [String: JSONValue] = [:]
    private var given: Set<String> = []
    private var errors: [String] = []

    /// arguments: the full command line including the program path (default: the real one).
    public init(program: String, summary: String, arguments: [String] = CommandLine.arguments) {
        self.program = program
        self.summary = summary
        self.arguments = Array(arguments.dropFirst())
        self.consumed = Array(repeating: false, count: max(0, arguments.count - 1))
    }

    // MARK: Declaring flags

    /// `--name N`, a whole number.
    public func int(_ name: String, default value: Int, help: String) -> Int {
        read(name, typeName: "int", default: value, defaultText: String(value), help: help,
             record: { .number(Double($0)) }) { text in
            guard let n = Int(text) else { return .failure("'\(text)' is not an integer") }
            return .success(n)
        }
    }

    /// `--name N`, a whole number that must lie in `range` (e.g. `--threads` in 1...256).
    /// `shownDefault` replaces the default in --help when the program picks it later (say,
    /// per dataset) and `value` is only a placeholder.
    public func int(_ name: String, default value: Int, range: ClosedRange<Int>, shownDefault: String? = nil,
                    help: String) -> Int {
        read(name, typeName: "int", default: value, defaultText: shownDefault ?? String(value),
             help: help + " [\(range.lowerBound)-\(range.upperBound)]", record: { .number(Double($0)) }) { text in
            guard let n = Int(text) else { return .failure("'\(text)' is not an integer") }
            guard range.contains(n) else {
                return .failure("\(n) is out of range (\(range.lowerBound) to \(range.upperBound))")
            }
            return .success(n)
        }
    }

    /// `--name X`, a number that must lie in `range` (e.g. `--dropout` in 0...0.9).
    public func float(_ name: String, default value: Float, range: ClosedRange<Float>, shownDefault: String? = nil,
                      help: String) -> Float {
        read(name, typeName: "float", default: value, defaultText: shownDefault ?? "\(value)",
             help: help + " [\(range.lowerBound) to \(range.upperBound)]", record: { JSONValue($0) }) { text in
            guard let x = Float(text), x.isFinite else { return .failure("'\(text)' is not a number") }
            guard range.contains(x) else {
                return .failure("\(text) is out of range (\(range.lowerBound) to \(range.upperBound))")
            }
            return .success(x)
        }
    }

    /// `--name X`, a double that must lie in `range`.
    public func double(_ name: String, default value: Double, range: ClosedRange<Double>, help: String) -> Double {
        read(name, typeName: "float", default: value, defaultText: "\(value)",
             help: help + " [\(range.lowerBound) to \(range.upperBound)]", record: { .number($0) }) { text in
            guard let x = Double(text), x.isFinite else { return .failure("'\(text)' is not a number") }
            guard range.contains(x) else {
                return .failure("\(text) is out of range (\(range.lowerBound) to \(range.upperBound))")
            }
            return .success(x)
        }
    }

    /// `--name N`, a non-negative whole number up to 2⁶⁴ − 1 (seeds).
    public func uint64(_ name: String, default value: UInt64, help: String) -> UInt64 {
        read(name, typeName: "int", default: value, defaultText: String(value), help: help,
             record: { .number(Double($0)) }) { text in
            guard let n = UInt64(text) else { return .failure("'\(text)' is not a non-negative integer") }
            return .success(n)
        }
    }

    /// `--name X`, a number such as 0.1, 3e-4 or 10.
    public func float(_ name: String, default value: Float, help: String) -> Float {
        read(name, typeName: "float", default: value, defaultText: "\(value)", help: help,
             record: { JSONValue($0) }) { text in
            guard let x = Float(text), x.isFinite else { return .failure("'\(text)' is not a number") }
            return .success(x)
        }
    }

    /// `--name X`, a number read in double precision.
    public func double(_ name: String, default value: Double, help: String) -> Double {
        read(name, typeName: "float", default: value, defaultText: "\(value)", help: help,
             record: { .number($0) }) { text in
            guard let x = Double(text), x.isFinite else { return .failure("'\(text)' is not a number") }
            return .success(x)
        }
    }

    /// `--name TEXT`.
    public func string(_ name: String, default value: String, help: String) -> String {
        // a newline in a default is shown as \n, so the help stays one line per flag
        let shown = value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
        return read(name, typeName: "string", default: value, defaultText: value.isEmpty ? "\"\"" : shown,
                    help: help, record: { .string($0) }) { .success($0) }
    }

    /// `--name ONE`, where ONE must be one of `choices`.
    public func choice(_ name: String, default value: String, choices: [String], help: String) -> String {
        read(name, typeName: "choice", default: value, defaultText: value, choices: choices, help: help,
             record: { .string($0) }) { text in
            if choices.contains(text) { return .success(text) }
            var message = "'\(text)' is not one of \(choices.joined(separator: ", "))"
            if let close = closestName(to: text, among: choices) { message += " (did you mean \(close)?)" }
            return .failure(message)
        }
    }

    /// `--name 784,128,64,10`, a comma-separated list of whole numbers (layer sizes).
    public func intList(_ name: String, default value: [Int], help: String) -> [Int] {
        let text = value.map(String.init).joined(separator: ",")
        return read(name, typeName: "ints", default: value, defaultText: text, help: help,
                    record: { JSONValue($0) }) { text in
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            let numbers = parts.compactMap { Int($0.trimmingSpaces) }
            guard !parts.isEmpty, numbers.count == parts.count else {
                return .failure("'\(text)' is not a comma-separated list of integers (e.g. 784,128,10)")
            }
            return .success(numbers)
        }
    }

    /// `--name TEXT`, or nil when the flag is absent (e.g. `--data-dir`). Recorded as null.
    public func optionalString(_ name: String, help: String) -> String? {
        read(name, typeName: "string", default: nil as String?, defaultText: "none", help: help,
             record: { $0.map(JSONValue.string) ?? .null }) { .success($0) }
    }

    /// `--name`, an on/off switch (false when absent). `--name=false` also works.
    public func flag(_ name: String, help: String) -> Bool {
        let name = kebabCase(name)
        declare(Declaration(name: name, typeName: "", defaultText: "", choices: [], help: help))
        var result = false
        for index in arguments.indices where !consumed[index] {
            guard let (argumentName, inlineValue) = splitFlag(arguments[index]), argumentName == name else { continue }
            consumed[index] = true
            given.insert(name)
            switch inlineValue?.lowercased() {
            case nil, "true", "yes", "1": result = true
            case "false", "no", "0": result = false
            default: errors.append("--\(name) is an on/off flag; '\(inlineValue!)' is not true or false")
            }
        }
        values[snakeCase(name)] = .bool(result)
        return result
    }

    /// Whether the user typed this flag. Lets `--quick` change the defaults of flags the user
    /// did not set: `if common.quick && !options.wasGiven("epochs") { epochs = 1 }`.
    public func wasGiven(_ name: String) -> Bool { given.contains(kebabCase(name)) }

    /// Records a value the program chose itself after reading the flags (e.g. epochs lowered
    /// by --quick), so that `config` and metrics.json show what actually ran.
    public func record(_ name: String, _ value: JSONValue) { values[snakeCase(kebabCase(name))] = value }

    /// Reports a problem found after reading the flags (a combination that makes no sense, a
    /// value outside what the program accepts). `finish()` then prints it with the usage and
    /// exits 2, as for any other bad command line: `options.reportError("--lr must be positive")`.
    public func reportError(_ message: String) { errors.append(message) }

    /// Every declared flag's final value, keyed by snake_case name ("data_dir").
    public var config: [String: JSONValue] { values }

    // MARK: Finishing

    /// What the command line asks for, without printing or exiting (for tests and `finish()`).
    /// Call after declaring every flag: arguments no flag consumed are errors.
    public func parse() -> Outcome {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help }
        if let first = errors.first { return .error(first) }
        for index in arguments.indices where !consumed[index] {
            let argument = arguments[index]
            if argument == "--" { continue }
            guard let (name, _) = splitFlag(argument) else {
                return .error("unexpected argument '\(argument)' (flags start with --, see --help)")
            }
            var message = "unknown flag --\(name)"
            if let close = closestName(to: name, among: declarations.map(\.name) + ["help"]) {
                message += " (did you mean --\(close)?)"
            }
            return .error(message)
        }
        return .run
    }

    /// Acts on `parse()`: for --help prints the usage and exits 0; for a bad command line
    /// prints "error: ..." and the usage on stderr and exits 2; otherwise returns.
    public func finish() {
        switch parse() {
        case .run: return
        case .help:
            print(usage(), terminator: "")
            fflush(stdout)
            exit(0)
        case .error(let message):
            writeStandardError("error: \(message)\n\n" + usage())
            exit(2)
        }
    }

    /// The --help text: summary, then one line per flag with its type, help, default and choices.
    public func usage() -> String {
        var lines = ["\(program): \(summary)", "", "usage: \(program) [flags]", "", "flags:"]
        let shown = declarations + [Declaration(name: "help", typeName: "", defaultText: "", choices: [],
                                                help: "show this help and exit")]
        let heads = shown.map { "  --\($0.name)" + ($0.typeName.isEmpty ? "" : " <\($0.typeName)>") }
        let width = min(32, (heads.map(\.count).max() ?? 0) + 2)
        for (declaration, head) in zip(shown, heads) {
            var text = declaration.help
            var notes: [String] = []
            if !declaration.choices.isEmpty { notes.append("one of: " + declaration.choices.joined(separator: ", ")) }
            if !declaration.defaultText.isEmpty { notes.append("default: \(declaration.defaultText)") }
            if !notes.isEmpty { text += (text.isEmpty ? "" : " ") + "(" + notes.joined(separator: "; ") + ")" }
            if head.count + 2 > width {
                lines.append(head)
                lines.append(String(repeating: " ", count: width) + text)
            } else {
                lines.append(head + String(repeating: " ", count: width - head.count) + text)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Reading one flag

    private func declare(_ declaration: Declaration) {
        if let index = declarations.firstIndex(where: { $0.name == declaration.name }) {
            declarations[index] = declaration
        } else {
            declarations.append(declaration)
        }
    }

    /// Finds `--name value` or `--name=value` (the last one wins when given twice), converts it
    /// with `convert`, and records the result under the snake_case name.
    private func read<T>(_ rawName: String, typeName: String, default defaultValue: T, defaultText: String,
                         choices: [String] = [], help: String, record: (T) -> JSONValue,
                         convert: (String) -> Result<T, ConversionError>) -> T {
        let name = kebabCase(rawName)
        declare(Declaration(name: name, typeName: typeName, defaultText: defaultText, choices: choices, help: help))
        var result = defaultValue
        var index = 0
        while index < arguments.count {
            defer { index += 1 }
            guard !consumed[index], let (argumentName, inlineValue) = splitFlag(arguments[index]),
                  argumentName == name else { continue }
            consumed[index] = true
            given.insert(name)
            var text: String
            if let inlineValue {
                text = inlineValue
            } else if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") {
                index += 1
                consumed[index] = true
                text = arguments[index]
            } else {
                errors.append("--\(name) needs a value (\(typeName == "choice" ? choices.joined(separator: ", ") : typeName))")
                continue
            }
            text = text.trimmingSpaces
            switch convert(text) {
            case .success(let value): result = value
            case .failure(let problem): errors.append("--\(name): \(problem.message)")
            }
        }
        values[snakeCase(name)] = record(result)
        return result
    }
}

/// Why a flag's text could not be converted ("'ten' is not an integer").
struct ConversionError: Error, ExpressibleByStringLiteral {
    let message: String
    init(stringLiteral message: String) { self.message = message }
    init(_ message: String) { self.message = message }
}

extension Result where Failure == ConversionError {
    static func failure(_ message: String) -> Result { .failure(ConversionError(message)) }
}

// MARK: - Names

/// "dataDir", "data_dir" and "data-dir" all become "data-dir", the spelling on the command line.
func kebabCase(_ name: String) -> String {
    var out = ""
    for character in name {
        if character == "_" {
            out.append("-")
        } else if character.isUppercase {
            if !out.isEmpty && out.last != "-" { out.append("-") }
            out += character.lowercased()
        } else {
            out.append(character)
        }
    }
    return out
}

/// "data-dir" becomes "data_dir", the spelling in metrics.json.
func snakeCase(_ name: String) -> String { String(name.map { $0 == "-" ? "_" : $0 }) }

/// "--epochs=5" -> ("epochs", "5"), "--quick" -> ("quick", nil), "5" -> nil.
/// Underscores typed on the command line are accepted as dashes (--data_dir).
private func splitFlag(_ argument: String) -> (name: String, value: String?)? {
    guard argument.hasPrefix("--"), argument.count > 2 else { return nil }
    let body = argument.dropFirst(2)
    if let equals = body.firstIndex(of: "=") {
        return (kebabCase(String(body[..<equals])), String(body[body.index(after: equals)...]))
    }
    return (kebabCase(String(body)), nil)
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (at most 2 edits, or a third of the word).
func closestName(to word: String, among candidates: [String]) -> String? {
    // A part of a longer name ("--epochs" for "max-epochs") is the likeliest slip of all.
    if word.count >= 3, let containing = candidates.filter({ $0.contains(word) || word.contains($0) && $0.count >= 3 })
        .min(by: { abs($0.count - word.count) < abs($1.count - word.count) }) {
        return containing
    }
    let scored = candidates.map { (candidate: $0, distance: editDistance(word, $0)) }
    guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
    let allowed = max(2, word.count / 3)
    return best.distance <= allowed && best.distance < max(word.count, best.candidate.count) ? best.candidate : nil
}

/// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
/// turning `a` into `b` (dynamic programming over one row).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var diagonal = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)
            diagonal = row[j]
            row[j] = min(substitution, row[j] + 1, row[j - 1] + 1)
        }
    }
    return row[b.count]
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

// MARK: - The flags every week has

/// --seed, --quick, --out and --threads, read by `commonFlags`.
public struct CommonFlags {
    /// Seed of the run's SplitMix64: the same seed gives the same losses, bit for bit.
    public let seed: UInt64
    /// A configuration that finishes in a few seconds (tests and smoke runs).
    public let quick: Bool
    /// Folder for metrics.json, plots and checkpoints.
    public let out: String
    /// Threads the kernels may use. Nothing is set by reading the flag: the run binds it,
    /// `Threads.$count.withValue(threads) { ... }`, around its work.
    public let threads: Int
}

/// Declares the flags every week has: `--seed` (default `defaultSeed`), `--quick`,
/// `--out` (default "runs/WeekNN/") and `--threads` (default: the current `Threads.count`, all
/// cores unless the caller bound another count).
/// Call right after `Options.init`. week: the program name, e.g. "Week03MLP".
public func commonFlags(_ options: Options, week: String, defaultSeed: UInt64 = 1337) -> CommonFlags {
    let seed = options.uint64("seed", default: defaultSeed, help: "random seed; the same seed repeats the run exactly")
    let quick = options.flag("quick", help: "a small configuration that finishes in seconds")
    let out = options.string("out", default: "runs/\(week.prefix(6))/", help: "folder for metrics.json, plots and checkpoints")
    let threads = options.int("threads", default: Threads.count, range: 1...256, help: "threads for the kernels")
    return CommonFlags(seed: seed, quick: quick, out: out, threads: threads)
}
