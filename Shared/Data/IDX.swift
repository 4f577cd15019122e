// The IDX file format of MNIST and Fashion-MNIST (weeks 3-4): a tiny header, then the raw
// bytes of an n-dimensional array. Read through zlib, so `.gz` and plain files both work.
// Format: http://yann.lecun.com/exdb/mnist/ (bottom of the page, "THE IDX FILE FORMAT").
//
//   bytes 0-1   0x00 0x00                   magic
//   byte  2     element type (0x08 = unsigned byte, the only one MNIST uses)
//   byte  3     number of dimensions D
//   then D      big-endian UInt32 sizes, e.g. 60000, 28, 28
//   then        the data, row-major (last index fastest), one byte per element for 0x08
import SharedKernels
import SharedTools
import Dispatch

/// An n-dimensional array of bytes as stored in an IDX file.
/// `shape` (D) e.g. [60000, 28, 28]; `bytes` (product of shape), row-major.
public struct IDXArray: Equatable {
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "IDXArray: negative size in shape \(shape)")
        precondition(shape.reduce(1, *) == bytes.count,
                     "IDXArray: shape \(shape) needs \(shape.reduce(1, *)) bytes, got \(bytes.count)")
        self.shape = shape
        self.bytes = bytes
    }
}

public enum IDX {
    /// The element type code for unsigned bytes, the only type this reader supports.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads an IDX file, gzip'd or plain (zlib tells them apart by their first bytes).
    /// Throws a `WorkbookError` naming the file for: a missing file, wrong magic, a type other
    /// than unsigned byte, a truncated header or payload, more data than the header announces
    /// (header counts that disagree with the file size), a corrupt gzip stream.
    public static func read(_ path: String) throws -> IDXArray {
        let (reader, shape, expected) = try openPayload(path)

        // We do not trust `expected` for the allocation (a corrupt header could announce
        // terabytes): start with at most 256 MiB and grow only as data arrives.
        var payload = [UInt8](repeating: 0, count: min(expected, 1 << 28))
        var filled = try payload.withUnsafeMutableBytes { try reader.read(into: $0) }
        while filled == payload.count && filled < expected {
            let more = min(expected - filled, payload.count)
            payload.append(contentsOf: repeatElement(0, count: more))
            let start = filled
            let got = try payload.withUnsafeMutableBytes {
                try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
            }
            filled += got
        }
        try checkPayloadEnd(reader, shape: shape, expected: expected, filled: filled)
        return IDXArray(shape: shape, bytes: payload)
    }

    /// Reads an unsigned-byte IDX file straight into Floats, value / `divisor` (MNIST: 255,
    /// giving pixels in [0, 1]), with the same checks as `read`. Returns the shape and the
    /// values (product of shape), row-major.
    ///
    /// Why not `read` and then convert: for the 60,000 MNIST training images that costs two
    /// passes one after the other, inflating 47 MB and then filling 188 MB of fresh Floats
    /// (on a virtual machine the page faults of new memory alone take a few hundred ms).
    /// Here zlib inflates 1 MiB at a time on this thread while a second thread converts the
    /// previous MiB, so the two overlap, and the 47 MB byte array is never built.
    public static func readAsFloats(_ path: String, dividingBy divisor: Float) throws
        -> (shape: [Int], values: [Float])
    {
        let (reader, shape, expected) = try openPayload(path)
        if expected > 1 << 28 {  // beyond 1 GiB of Floats: take the careful, growing path
            let array = try read(path)
            return (array.shape, array.bytes.map { Float($0) / divisor })
        }
        let chunkSize = 1 << 20
        var filled = 0
        var failure: Error?
        let values = [Float](unsafeUninitializedCapacity: expected) { out, initialized in
            // Two staging buffers: zlib fills one while the converter drains the other.
            let staging = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * chunkSize)
            defer { staging.deallocate() }
            let isFree = [DispatchSemaphore(value: 1), DispatchSemaphore(value: 1)]
            let converter = DispatchQueue(label: "idx-to-float")
            let pending = DispatchGroup()
            // The converter thread writes through these pointers; `pending.wait()` below keeps
            // them valid until it is done, and the semaphores keep the two threads apart.
            nonisolated(unsafe) let output = out.baseAddress
            var chunk = 0
            while filled < expected {
                let slot = chunk % 2
                isFree[slot].wait()  // the converter is done with this buffer
                nonisolated(unsafe) let buffer = staging + slot * chunkSize
                let want = min(chunkSize, expected - filled)
                let got: Int
                do {
                    got = try reader.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: want))
                } catch {
                    failure = error
                    isFree[slot].signal()
                    break
                }
                let offset = filled
                converter.async(group: pending) {
                    let destination = output! + offset
                    for i in 0..<got { destination[i] = Float(buffer[i]) / divisor }
                    isFree[slot].signal()
                }
                filled += got
                chunk += 1
                if got < want { break }  // the file ended early
            }
            pending.wait()  // every converted chunk is in place before we return
            initialized = filled
        }
        if let failure { throw failure }
        try checkPayloadEnd(reader, shape: shape, expected: expected, filled: filled)
        return (shape, values)
    }

    /// Opens `path` and reads the header: the 4-byte magic, then the D sizes. Returns the
    /// reader positioned at the payload, the shape and the payload size in bytes.
    private static func openPayload(_ path: String) throws -> (reader: GzipReader, shape: [Int], size: Int) {
        let reader = try GzipReader(path: path)
        let magic = try reader.readBytes(4)
        try checkMagic(magic, source: path)
        let rank = Int(magic[3])
        let sizeBytes = try reader.readBytes(4 * rank)
        guard sizeBytes.count == 4 * rank else {
            throw WorkbookError("\(path): truncated IDX header (\(rank) dimensions announced, "
                                + "the file ends inside their sizes)")
        }
        let shape = bigEndianSizes(sizeBytes)
        return (reader, shape, try payloadSize(shape, source: path))
    }

    /// After the payload: it must be complete, and nothing may follow it.
    private static func checkPayloadEnd(_ reader: GzipReader, shape: [Int], expected: Int, filled: Int) throws {
        guard filled == expected else {
            throw WorkbookError("\(reader.path): truncated IDX payload: the header announces "
                                + "\(describe(shape)) = \(expected) bytes, the file holds only \(filled)")
        }
        if try !reader.readBytes(1).isEmpty {
            throw WorkbookError("\(reader.path): the IDX header announces \(describe(shape)) = \(expected) bytes "
                                + "but the file holds more data (header and file size disagree)")
        }
    }

    /// Decodes an IDX file already in memory (plain, not gzip'd). `source` names it in errors.
    /// Same checks as `read`.
    public static func decode(_ data: [UInt8], source: String = "IDX data") throws -> IDXArray {
        guard data.count >= 4 else {
            throw WorkbookError("\(source): too short for an IDX header (\(data.count) bytes)")
        }
        try checkMagic(Array(data[0..<4]), source: source)
        let rank = Int(data[3])
        guard data.count >= 4 + 4 * rank else {
            throw WorkbookError("\(source): truncated IDX header (\(rank) dimensions announced, "
                                + "the data ends inside their sizes)")
        }
        let shape = bigEndianSizes(Array(data[4..<(4 + 4 * rank)]))
        let expected = try payloadSize(shape, source: source)
        let held = data.count - (4 + 4 * rank)
        if held < expected {
            throw WorkbookError("\(source): truncated IDX payload: the header announces "
                                + "\(describe(shape)) = \(expected) bytes, the data holds only \(held)")
        }
        if held > expected {
            throw WorkbookError("\(source): the IDX header announces \(describe(shape)) = \(expected) bytes "
                                + "but the data holds \(held) (header and size disagree)")
        }
        return IDXArray(shape: shape, bytes: Array(data[(4 + 4 * rank)...]))
    }

    /// The bytes of an IDX file holding `array` (unsigned-byte type, big-endian sizes).
    public static func encode(_ array: IDXArray) -> [UInt8] {
        precondition(array.shape.count <= 255, "IDX: at most 255 dimensions")
        var out: [UInt8] = [0, 0, unsignedByteType, UInt8(array.shape.count)]
        for size in array.shape {
            precondition(size <= Int(UInt32.max), "IDX: size \(size) does not fit in 32 bits")
            for shift in [24, 16, 8, 0] { out.append(UInt8((size >> shift) & 0xFF)) }
        }
        out += array.bytes
        return out
    }

    /// Writes `array` as an IDX file, gzip'd when `gzip` is true (tests round-trip with it).
    public static func write(_ array: IDXArray, to path: String, gzip: Bool) throws {
        try writeFile(encode(array), to: path, gzip: gzip)
    }

    // MARK: Header helpers

    private static func checkMagic(_ magic: [UInt8], source: String) throws {
        guard magic.count == 4 else {
            throw WorkbookError("\(source): too short for an IDX header (\(magic.count) bytes)")
        }
        guard magic[0] == 0, magic[1] == 0 else {
            let seen = magic.map { hex($0) }.joined(separator: " ")
            throw WorkbookError("\(source): not an IDX file (starts with \(seen), "
                                + "expected 00 00 08 <dimensions>)")
        }
        guard magic[2] == unsignedByteType else {
            throw WorkbookError("\(source): IDX element type 0x\(hex(magic[2])) is not supported "
                                + "(only unsigned bytes, 0x08, as in MNIST)")
        }
    }

    private static func bigEndianSizes(_ bytes: [UInt8]) -> [Int] {
        stride(from: 0, to: bytes.count, by: 4).map { (i: Int) -> Int in
            var size = 0
            for byte in bytes[i..<(i + 4)] { size = size << 8 | Int(byte) }
            return size
        }
    }

    /// Product of the sizes, refusing anything beyond 2^40 bytes (a corrupt header).
    private static func payloadSize(_ shape: [Int], source: String) throws -> Int {
        var total = 1
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 40 else {
                throw WorkbookError("\(source): IDX header announces an impossible size \(describe(shape))")
            }
            total = product
        }
        return total
    }

    static func describe(_ shape: [Int]) -> String {
        shape.map(String.init).joined(separator: "x")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
