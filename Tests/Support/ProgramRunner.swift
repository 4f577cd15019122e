// Running a week's program as a learner does, from a test: the week tests run each week's real
// executable (its main.swift, its exit status, its error lines). A library only tests link.
import SharedTools
import Foundation

/// What a finished program left: its exit status and everything it printed.
public struct ProgramRun {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
}

/// The package's `.build/debug`, found from this file's place in the repository (Tests/Support/).
let packageDebugFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug").path

/// Runs the executable `name` built beside the running test bundle (SwiftPM puts every product
/// of the package in one folder), or else in the package's `.build/debug`, with `arguments`,
/// and waits for it. Throws one line when the executable is not built.
public func runBuiltProgram(_ name: String, _ arguments: [String]) throws -> ProgramRun {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    let candidates = [beside, URL(fileURLWithPath: packageDebugFolder).appendingPathComponent(name).path]
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
