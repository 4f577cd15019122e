// metrics.json: what a run did, in one file scripts can compare (DESIGN.md, "week program contract").
//   {"week": "Week03MLP", "config": {...every flag...}, "final": {...}, "history": [{...}, ...]}
// Keys are snake_case: train_loss, val_loss, test_accuracy (a fraction), seconds, steps, epochs.
import SharedKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects a run's history (one row per epoch or evaluation) and writes metrics.json.
///
///     let metrics = MetricsLog(week: "Week03MLP", config: options.config)
///     metrics.record(["epoch": 1, "train_loss": 0.41, "test_accuracy": 0.93, "seconds": 2.1])
///     try metrics.write(final: ["test_accuracy": .init(0.97)], to: common.out)
public final class MetricsLog {
    public let week: String
    public let config: [String: JSONValue]
    /// The rows recorded so far, in order.
    public private(set) var history: [[String: Double]] = []

    public init(week: String, config: [String: JSONValue]) {
        self.week = week
        self.config = config
    }

    /// Appends one history row, e.g. `["epoch": 1, "train_loss": 0.5, "seconds": 1.2]`.
    /// Non-finite values (a diverged loss) are written as null.
    public func record(_ entry: [String: Double]) {
        history.append(entry)
    }

    /// The whole document, as it will be written.
    public func document(final: [String: JSONValue]) -> JSONValue {
        .object([
            "week": .string(week),
            "config": .object(config),
            "final": .object(final),
            "history": .array(history.map { row in .object(row.mapValues { .number($0) }) }),
        ])
    }

    /// Writes `directory/metrics.json` (creating the folder) and returns its path.
    @discardableResult
    public func write(final: [String: JSONValue], to directory: String) throws -> String {
        let path = joinPath(directory, "metrics.json")
        try writeTextFile(document(final: final).serialized(pretty: true) + "\n", to: path)
        return path
    }
}

/// "runs/Week03/" + "metrics.json" -> "runs/Week03/metrics.json" (one slash between).
public func joinPath(_ directory: String, _ name: String) -> String {
    if directory.isEmpty { return name }
    return directory.hasSuffix("/") ? directory + name : directory + "/" + name
}

/// Writes UTF-8 text to `path`, creating parent folders. The text goes to a temporary file
/// beside it that is then renamed, so a reader never sees half a file.
public func writeTextFile(_ text: String, to path: String) throws {
    try writeFileAtomically(Array(text.utf8), to: path)
}

/// Creates `path` and any missing parent folders (like `mkdir -p`).
public func createDirectories(_ path: String) throws {
    var current = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") where !component.isEmpty {
        current += component
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw WorkbookError("cannot create folder \(current): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        if stat(current, &status) == 0 && (status.st_mode & S_IFMT) != S_IFDIR {
            throw WorkbookError("cannot create folder \(current): a file of that name exists")
        }
        current += "/"
    }
}

/// The folder part of a path: "runs/Week03/metrics.json" -> "runs/Week03", "x.json" -> "".
public func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// Writes `bytes` to "path.tmp" in the same folder, flushes it to disk, then renames it over
/// `path`. rename(2) within one file system is atomic: readers see the old file or the new one,
/// and a crash mid-write leaves the old file untouched (plus a stale .tmp the next save replaces).
func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let folder = parentDirectory(of: path)
    if !folder.isEmpty { try createDirectories(folder) }
    let temporaryPath = path + ".tmp"
    let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else {
        throw WorkbookError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeBytes { buffer in
            write(descriptor, buffer.baseAddress! + written, bytes.count - written)
        }
        if result < 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporaryPath)
            throw WorkbookError("cannot write \(path): \(reason)")
        }
        written += result
    }
    fsync(descriptor)
    close(descriptor)
    guard rename(temporaryPath, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporaryPath)
        throw WorkbookError("cannot write \(path): \(reason)")
    }
}

/// Reads a whole file. Throws "cannot read PATH: No such file or directory" and the like.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw WorkbookError("cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        throw WorkbookError("cannot read \(path): \(String(cString: strerror(errno)))")
    }
    if (status.st_mode & S_IFMT) == S_IFDIR { throw WorkbookError("cannot read \(path): it is a folder") }
    // Read straight into an array of the file's size; keep reading if the file grew meanwhile.
    var bytes = [UInt8](repeating: 0, count: max(Int(status.st_size), 0))
    var filled = 0
    while true {
        if filled == bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: 1 << 16)) }
        let count = bytes.withUnsafeMutableBytes { buffer in
            read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
        }
        if count < 0 {
            if errno == EINTR { continue }
            throw WorkbookError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if count == 0 { break }
        filled += count
    }
    bytes.removeSubrange(filled...)
    return bytes
}

/// Reads a whole UTF-8 text file.
public func readTextFile(_ path: String) throws -> String {
    String(decoding: try readFileBytes(path), as: UTF8.self)
}
