// Progress of a training loop: step/total, loss, throughput, elapsed and remaining time.
// In a terminal one line is redrawn in place (carriage return); in a log file (stdout is not a
// terminal) a plain line is printed about every 10% of the loop or every few seconds.
import SharedKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a redrawn progress line is on screen without its newline yet; `say` ends it first.
nonisolated(unsafe) private var progressLineIsOpen = false

/// Prints a line and flushes stdout, so logs stay in order with progress lines and stderr.
public func say(_ line: String) {
    if progressLineIsOpen {
        fputs("\r\u{1B}[K", stdout)   // clear the progress line; the next update redraws it
        progressLineIsOpen = false
    }
    fputs(line + "\n", stdout)
    fflush(stdout)
}

/// Seconds on a monotonic clock (not affected by changes of the wall clock).
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// Seconds since it was made, on the monotonic clock: `let clock = Stopwatch()` ... `clock.seconds`.
public struct Stopwatch {
    private let start = monotonicSeconds()
    public init() {}
    public var seconds: Double { monotonicSeconds() - start }
}

/// "0:07", "3:05", "1:02:03".
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let total = Int(seconds.rounded())
    let (hours, minutes, secs) = (total / 3600, (total / 60) % 60, total % 60)
    let twoDigits = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
    return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" : "\(minutes):\(twoDigits(secs))"
}

/// 950 -> "950", 12_300 -> "12.3k", 4_500_000 -> "4.5M".
public func formatCount(_ x: Double) -> String {
    guard x.isFinite else { return "?" }
    if x >= 1e6 { return formatFixed(x / 1e6, digits: 1) + "M" }
    if x >= 1e4 { return formatFixed(x / 1e3, digits: 1) + "k" }
    return formatFixed(x, digits: x >= 100 ? 0 : 1)
}

/// `x` with exactly `digits` decimals ("0.4312"), without Foundation's String(format:).
public func formatFixed(_ x: Double, digits: Int) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    var buffer = [CChar](repeating: 0, count: 64)
    _ = buffer.withUnsafeMutableBufferPointer { pointer in
        withVaList([x]) { vsnprintf(pointer.baseAddress, 64, "%.\(max(0, min(digits, 20)))f", $0) }
    }
    return String(cString: buffer)
}

/// A fraction as a percentage with one decimal: 0.975 -> "97.5%".
public func formatPercent(_ fraction: Double) -> String { formatFixed(100 * fraction, digits: 1) + "%" }

/// A progress display for one loop of `total` steps.
///
///     let progress = Progress(total: steps, label: "train")
///     for step in 1...steps { ...; progress.update(step: step, loss: loss, items: batchSize) }
///     progress.finish("done")
///
/// A line reads: `train  120/1000  12% | loss 0.4312 | 5.2k items/s | 0:03 elapsed, 0:22 left`.
public final class Progress {
    public let total: Int
    public let label: String
    /// Whether stdout is a terminal: redraw in place rather than printing lines.
    let isTerminal: Bool
    private let startTime: Double
    private var lastDrawTime = -Double.infinity
    private var lastPlainLineTime: Double
    private var nextPlainLineStep: Int
    private var itemsSoFar = 0
    /// The latest update. Its line is formatted only when it is drawn: loops call `update`
    /// once per batch, and most of those calls draw nothing.
    private var latest: (step: Int, loss: Double?, extra: String, time: Double)?
    private var latestWasPrinted = false

    /// total: steps (or examples) in this loop; label: a word naming the loop ("train", "epoch 3").
    public init(total: Int, label: String) {
        self.total = max(1, total)
        self.label = label
        self.isTerminal = isatty(STDOUT_FILENO) != 0
        self.startTime = monotonicSeconds()
        self.lastPlainLineTime = startTime
        self.nextPlainLineStep = max(1, self.total / 10)
    }

    /// Reports that `step` (1-based) of `total` is done. loss: the latest (or running mean)
    /// loss; items: examples processed since the last update (for items/s); extra: free text
    /// appended to the line. Redraws at most 10 times a second in a terminal; in a log prints a
    /// line at every 10% of the loop (at most one per 2 seconds) or after 10 seconds of silence.
    public func update(step: Int, loss: Double? = nil, items: Int = 0, extra: String = "") {
        itemsSoFar += items
        let now = monotonicSeconds()
        latest = (step, loss, extra, now)
        latestWasPrinted = false
        if isTerminal {
            guard now - lastDrawTime >= 0.1 || step >= total else { return }
            lastDrawTime = now
            let line = describe(step: step, loss: loss, extra: extra, now: now)
            fputs("\r\u{1B}[K" + line, stdout)   // back to column 0, clear, redraw
            fflush(stdout)
            progressLineIsOpen = true
        } else {
            // In a log, a line at each 10% of the loop, but never two within 2 seconds (a loop
            // that takes a second, like one epoch of a small model, leaves just its final line
            // from `finish`), and one at least every 10 seconds on slow loops.
            let sinceLast = now - lastPlainLineTime
            guard (step >= nextPlainLineStep && sinceLast >= 2) || sinceLast >= 10 else { return }
            while nextPlainLineStep <= step { nextPlainLineStep += max(1, total / 10) }
            lastPlainLineTime = now
            latestWasPrinted = true
            say(describe(step: step, loss: loss, extra: extra, now: now))
        }
    }

    /// Ends the display: the last progress line stays on screen (or in the log), with `message`
    /// appended ("... | test accuracy 97.1%").
    public func finish(_ message: String = "") {
        var line = latest.map { describe(step: $0.step, loss: $0.loss, extra: $0.extra, now: $0.time) }
            ?? "\(label) done in \(formatDuration(monotonicSeconds() - startTime))"
        if !message.isEmpty { line += " | " + message }
        if isTerminal {
            fputs("\r\u{1B}[K" + line + "\n", stdout)   // the final state, kept on its own line
            fflush(stdout)
            progressLineIsOpen = false
        } else if latest != nil && !latestWasPrinted {
            say(line)
        } else if !message.isEmpty {
            say("\(label) | \(message)")                 // the last state is already in the log
        }
        latest = nil
        latestWasPrinted = false
    }

    /// The text of one progress line at time `now`.
    func describe(step: Int, loss: Double?, extra: String, now: Double) -> String {
        let elapsed = now - startTime
        let percent = Int((100.0 * Double(step) / Double(total)).rounded(.down))
        let width = String(total).count
        let stepText = String(repeating: " ", count: max(0, width - String(step).count)) + String(step)
        var parts = ["\(label) \(stepText)/\(total) \(percent < 10 ? "  " : percent < 100 ? " " : "")\(percent)%"]
        if let loss { parts.append("loss " + formatFixed(loss, digits: 4)) }
        if itemsSoFar > 0 && elapsed > 0 { parts.append(formatCount(Double(itemsSoFar) / elapsed) + " items/s") }
        var timing = formatDuration(elapsed) + " elapsed"
        if step > 0 && step < total {
            timing += ", " + formatDuration(elapsed / Double(step) * Double(total - step)) + " left"
        }
        parts.append(timing)
        if !extra.isEmpty { parts.append(extra) }
        return parts.joined(separator: " | ")
    }
}
