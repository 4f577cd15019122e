// Finding the repository's Datasets/ folder at run time, for the embedded digits and
// Shakespeare (every week) and downloaded MNIST (weeks 3-4). Learners and tests run from
// the repository root, so we look in ./Datasets first; as a fallback we look next to this
// source file (Shared/Data/DatasetFiles.swift is two folders below the package root).
import SharedKernels
import SharedTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum DatasetFiles {
    /// Candidate Datasets/ folders, in the order we try them: `<current directory>/Datasets`,
    /// then `<package root>/Datasets` where the package root is found from `#filePath`.
    public static func candidateDirectories(sourceFile: String = #filePath) -> [String] {
        var candidates = [joinPath(currentDirectory(), "Datasets")]
        // .../Shared/Data/DatasetFiles.swift -> drop three components -> package root.
        var root = sourceFile
        for _ in 0..<3 { root = parentDirectory(of: root) }
        let fromSource = joinPath(root, "Datasets")
        if !candidates.contains(fromSource) { candidates.append(fromSource) }
        return candidates
    }

    /// The first existing Datasets/ folder (see `candidateDirectories`), if any.
    public static func directory() -> String? {
        candidateDirectories().first(where: directoryExists)
    }

    /// Path of the embedded file `name` (e.g. "digits.csv.gz"). Throws one line that says
    /// where it looked when the file is in none of the candidate folders.
    public static func path(_ name: String) throws -> String {
        let candidates = candidateDirectories()
        for folder in candidates {
            let path = joinPath(folder, name)
            if fileExists(path) { return path }
        }
        throw WorkbookError("Datasets/\(name) not found (looked in "
                            + candidates.joined(separator: " and ")
                            + "): run from the repository root of a complete checkout")
    }

    /// Where downloads of `folder` (e.g. "mnist") go: inside the Datasets/ folder we found,
    /// else `./Datasets/<folder>`.
    public static func downloadDirectory(_ folder: String) -> String {
        joinPath(directory() ?? joinPath(currentDirectory(), "Datasets"), folder)
    }
}

// MARK: Path helpers (plain strings, "/"-separated; `joinPath`, `parentDirectory` and
// `createDirectories` are in Shared/Tools/Metrics.swift)

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(cString: buffer)
}

