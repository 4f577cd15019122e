// Running a week's program as a learner does, from another program: the tests run each week's
// real executable (its main.swift, its exit status, its error lines), as a Tour of the book would.
import SharedKernels
import Foundation

/// What a finished program left: its exit status and everything it printed.
public struct ProgramRun {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
}

/// Runs the executable `name` built beside the running program (SwiftPM puts every product of
/// the package in one folder, `.build/debug` or `.build/release`), with `arguments`, and waits
/// for it. `fallbackFolder` is looked in when the running program's own folder lacks it.
/// Throws one line when the executable is not built.
public func runBuiltProgram(_ name: String, _ arguments: [String], fallbackFolder: String? = nil) throws -> ProgramRun {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    let candidates = [beside] + (fallbackFolder.map { [URL(fileURLWithPath: $0).appendingPathComponent(name).path] } ?? [])
    guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw WorkbookError("\(name) is not built (looked for \(candidates.joined(separator: " and "))): run swift build first")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read standard error on a second thread while this one reads standard output: a program
    // that fills one pipe while we wait on the other would otherwise stall forever.
    final class Collected: @unchecked Sendable { var data = Data() }
    let errorData = Collected()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errorData.data = errors.fileHandleForReading.readDataToEndOfFile() }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProgramRun(status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
                      standardError: String(decoding: errorData.data, as: UTF8.self))
}
