// Reading and writing files through the system zlib (gzopen / gzread / gzwrite), for the
// gzip'd IDX files of MNIST and the embedded digits CSV. zlib reads plain files too: when
// the first bytes are not the gzip magic 1f 8b it copies them through unchanged, so every
// reader here takes `name.gz` and `name` alike. Used by IDX.swift, Digits.swift.
// Reference: https://www.zlib.net/manual.html ("gzip File Access Functions").
import SharedKernels
import SharedTools
import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading through zlib. Every read checks zlib's error state, so a corrupt
/// or cut-off gzip stream becomes a `WorkbookError` naming the file, never garbage data.
final class GzipReader {
    let path: String
    private let file: gzFile

    /// Opens `path` (gzip'd or plain). Throws if it does not exist or cannot be opened.
    init(path: String) throws {
        guard fileExists(path) else { throw WorkbookError("\(path): no such file") }
        guard let file = gzopen(path, "rb") else {
            throw WorkbookError("\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        gzbuffer(file, 1 << 18)  // 256 KiB reads: fewer system calls for the 26 MB MNIST files
        self.path = path
        self.file = file
    }

    deinit { gzclose(file) }

    /// Reads until `buffer` is full or the file ends; returns how many bytes were read.
    /// Throws on a corrupt stream (bad deflate data, bad CRC) or a truncated one.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            // gzread takes an unsigned 32-bit length: read in pieces of at most 1 GiB.
            let want = UInt32(min(buffer.count - filled, 1 << 30))
            let got = gzread(file, buffer.baseAddress! + filled, want)
            try checkStream()
            if got <= 0 { break }  // end of file (an error would have thrown above)
            filled += Int(got)
        }
        return filled
    }

    /// Reads exactly `count` bytes, or fewer if the file ends first.
    func readBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(into: $0) }
        bytes.removeLast(count - got)
        return bytes
    }

    /// Reads everything that is left.
    func readToEnd() throws -> [UInt8] {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            all.append(contentsOf: chunk[0..<got])
            if got < chunk.count { return all }
        }
    }

    /// zlib keeps the first error it met; a truncated stream shows up here as Z_BUF_ERROR
    /// ("unexpected end of file"), bad data as Z_DATA_ERROR.
    private func checkStream() throws {
        var code: Int32 = 0
        let message = gzerror(file, &code)
        if code == Z_OK || code == Z_STREAM_END { return }
        let detail = message.map { String(cString: $0) } ?? "zlib error \(code)"
        if code == Z_ERRNO {
            throw WorkbookError("\(path): read error (\(String(cString: strerror(errno))))")
        }
        throw WorkbookError("\(path): corrupt or truncated gzip stream (zlib: \(detail))")
    }
}

/// Reads a whole file, gzip'd or plain, through zlib.
func readPossiblyGzippedFile(_ path: String) throws -> [UInt8] {
    try GzipReader(path: path).readToEnd()
}

/// Writes `bytes` to `path`: gzip'd (compression level 6, zlib's default) or plain.
/// Overwrites an existing file.
func writeFile(_ bytes: [UInt8], to path: String, gzip: Bool) throws {
    if gzip {
        guard let file = gzopen(path, "wb6") else {
            throw WorkbookError("\(path): cannot create (\(String(cString: strerror(errno))))")
        }
        var written = 0
        while written < bytes.count {
            let piece = min(bytes.count - written, 1 << 30)
            let wrote = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress! + written, UInt32(piece)) }
            if wrote <= 0 {
                gzclose(file)
                throw WorkbookError("\(path): write failed")
            }
            written += Int(wrote)
        }
        if gzclose(file) != Z_OK { throw WorkbookError("\(path): write failed on close") }
    } else {
        guard let file = fopen(path, "wb") else {
            throw WorkbookError("\(path): cannot create (\(String(cString: strerror(errno))))")
        }
        let wrote = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
        let closed = fclose(file)
        if wrote != bytes.count || closed != 0 { throw WorkbookError("\(path): write failed") }
    }
}

/// True if `path` names an existing regular file (not a folder).
func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// True if `path` names an existing folder.
func directoryExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
