// What the Tools tests share: a fresh temporary folder per test.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

enum ToolsTestSupport {
    /// A new empty folder under the system temporary directory ("/tmp/workbook-tools-XXXXXX").
    static func temporaryFolder() -> String {
        var template = Array("/tmp/workbook-tools-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        return String(cString: created!)
    }

    /// Removes a folder made by `temporaryFolder` and the files in it (one level deep).
    static func remove(_ folder: String) {
        guard let directory = opendir(folder) else { return }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { unlink(folder + "/" + name) }
        }
        closedir(directory)
        rmdir(folder)
    }

    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func writeBytes(_ bytes: [UInt8], to path: String) {
        let file = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
}
