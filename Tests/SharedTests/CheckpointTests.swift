// Checkpoints: a bit-identical round trip (tensors, step, RNG state), and every kind of damaged
// file (truncated, one flipped byte, newer version, another model, interrupted save) refused
// with one clear line rather than misread.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct CheckpointTests {
    /// Two small tensors with awkward values (signed zero, infinities, a NaN payload, subnormals).
    static func sampleTensors(seed: UInt64 = 7) -> [NamedTensor] {
        var rng = SplitMix64(seed: seed)
        var weight = rng.gaussians(3 * 4)
        weight[0] = -0.0
        weight[1] = .infinity
        weight[2] = Float(bitPattern: 0x7FC0_1234)   // a NaN with a payload
        weight[3] = .leastNonzeroMagnitude
        return [NamedTensor(name: "fc1.weight", shape: [3, 4], data: weight),
                NamedTensor(name: "fc1.bias", shape: [4], data: rng.gaussians(4)),
                NamedTensor(name: "empty", shape: [0, 5], data: [])]
    }

    static func save(to path: String, step: Int = 120, rngState: UInt64 = 0xFEDC_BA98_7654_3210,
                     kind: String = "mlp") throws {
        try Checkpoint.save(sampleTensors(), kind: kind, config: #"{"hidden":4,"lr":0.1}"#, step: step,
                            rngState: rngState, extraMetadata: ["note": "test"], to: path)
    }

    /// The error message `load` throws for the file at `path`, nil if it loads.
    static func loadError(_ path: String, kind: String = "mlp") -> String? {
        do {
            _ = try Checkpoint.load(from: path, expectingKind: kind)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func roundTripIsBitIdentical() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder + "/nested"); ToolsTestSupport.remove(folder) }
        let path = folder + "/nested/model.safetensors"   // the missing folder is created

        var rng = SplitMix64(seed: 99)
        _ = rng.next()
        try Checkpoint.save(Self.sampleTensors(), kind: "mlp", config: #"{"hidden":4}"#, step: 1234,
                            rngState: rng.state, extraMetadata: ["note": "résumé ✓"], to: path)
        let loaded = try Checkpoint.load(from: path, expectingKind: "mlp")

        #expect(loaded.tensors.count == 3)
        for tensor in Self.sampleTensors() {
            let copy = try #require(loaded.tensors[tensor.name])
            #expect(copy.shape == tensor.shape)
            #expect(copy.data.map(\.bitPattern) == tensor.data.map(\.bitPattern))
        }
        #expect(loaded.kind == "mlp" && loaded.step == 1234 && loaded.config == #"{"hidden":4}"#)
        #expect(loaded.metadata["note"] == "résumé ✓")
        #expect(loaded.metadata["format_version"] == String(Checkpoint.formatVersion))
        // Restoring the generator continues the exact same sequence.
        var restored = SplitMix64(seed: 0)
        restored.state = loaded.rngState
        #expect(restored.next() == rng.next())
        #expect(try loaded.tensor("fc1.bias", shape: [4]).count == 4)
        #expect(throws: CheckpointMismatch.self) { try loaded.tensor("fc1.bias", shape: [5]) }
        #expect(throws: CheckpointMismatch.self) { try loaded.tensor("fc2.bias", shape: [4]) }
        #expect(!ToolsTestSupport.fileExists(path + ".tmp"))
    }

    @Test func layoutIsSafetensors() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/model.safetensors"
        try Self.save(to: path)
        let bytes = try readFileBytes(path)
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
        #expect((8 + headerLength) % 8 == 0)                    // data starts aligned
        let header = try JSONValue.parse(utf8: Array(bytes[8..<8 + headerLength]))
        #expect(header["fc1.weight"]?["dtype"] == "F32")
        #expect(header["fc1.weight"]?["shape"] == [3, 4])
        #expect(header["fc1.weight"]?["data_offsets"] == [0, 48])
        #expect(header["fc1.bias"]?["data_offsets"] == [48, 64])
        #expect(header["__metadata__"]?["kind"] == "mlp")
        #expect(header["__metadata__"]?["step"] == "120")
        #expect(header["__metadata__"]?["rng_state"] == "18364758544493064720")
        #expect(header["__metadata__"]?["checksum"]?.stringValue?.hasPrefix("crc32:") == true)
        #expect(bytes.count == 8 + headerLength + 64)
        // Little-endian Float32: the first bias value's bytes are its bit pattern, low byte first.
        let firstBias = Self.sampleTensors()[1].data[0].bitPattern
        #expect(Array(bytes[8 + headerLength + 48..<8 + headerLength + 52]) ==
                [UInt8(firstBias & 255), UInt8(firstBias >> 8 & 255), UInt8(firstBias >> 16 & 255), UInt8(firstBias >> 24)])
    }

    @Test func truncatedFilesAreRefused() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/model.safetensors", cut = folder + "/cut.safetensors"
        try Self.save(to: path)
        let bytes = try readFileBytes(path)
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
        for length in [0, 1, 7, 8, 9, 8 + headerLength / 2, 8 + headerLength - 1, 8 + headerLength,
                       8 + headerLength + 1, 8 + headerLength + 47, bytes.count - 1] {
            ToolsTestSupport.writeBytes(Array(bytes[0..<length]), to: cut)
            let message = Self.loadError(cut)
            #expect(message != nil, "a file cut to \(length) of \(bytes.count) bytes loaded")
            #expect(message?.contains("\n") == false)
            #expect(message?.hasPrefix("checkpoint \(cut): ") == true)
        }
    }

    @Test func anyFlippedByteIsCaught() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/model.safetensors", bad = folder + "/bad.safetensors"
        try Self.save(to: path)
        let bytes = try readFileBytes(path)
        // Every byte of the file, flipped two ways: one low bit, and all bits.
        var undetected: [Int] = []
        for offset in bytes.indices {
            for mask: UInt8 in [0x01, 0xFF] {
                var damaged = bytes
                damaged[offset] ^= mask
                ToolsTestSupport.writeBytes(damaged, to: bad)
                if Self.loadError(bad) == nil { undetected.append(offset) }
            }
        }
        #expect(undetected.isEmpty, "flips at offsets \(undetected) went unnoticed")
        // A flipped data byte is reported as a checksum mismatch.
        var damaged = bytes
        damaged[bytes.count - 3] ^= 0x10
        ToolsTestSupport.writeBytes(damaged, to: bad)
        #expect(Self.loadError(bad)?.contains("checksum mismatch") == true)
    }

    @Test func newerVersionAndOtherKindAreRefused() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/model.safetensors"
        try Self.save(to: path, kind: "mlp")
        #expect(Self.loadError(path, kind: "gpt") == "checkpoint \(path): holds a 'mlp' model, expected 'gpt'")

        // A file from a future workbook: same layout, format_version + 1, checksum recomputed.
        let newer = folder + "/newer.safetensors"
        try rewriteMetadata(from: path, to: newer) { $0["format_version"] = String(Checkpoint.formatVersion + 1) }
        #expect(Self.loadError(newer) == "checkpoint \(newer): format version \(Checkpoint.formatVersion + 1) was written by a newer workbook; this one reads up to version \(Checkpoint.formatVersion)")

        // A plain safetensors file from elsewhere (no metadata of ours).
        let foreign = folder + "/foreign.safetensors"
        try rewriteMetadata(from: path, to: foreign) { $0 = [:] }
        #expect(Self.loadError(foreign)?.contains("not a workbook checkpoint") == true)

        #expect(Self.loadError(folder + "/missing.safetensors")?.hasPrefix("cannot read \(folder)/missing.safetensors") == true)
    }

    @Test func interruptedSaveKeepsThePreviousCheckpoint() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/model.safetensors"
        try Self.save(to: path, step: 100)

        // A save killed half way: its temporary file holds the first part of a newer checkpoint.
        try Self.save(to: folder + "/next.safetensors", step: 200)
        let next = try readFileBytes(folder + "/next.safetensors")
        ToolsTestSupport.writeBytes(Array(next[0..<next.count / 2]), to: path + ".tmp")
        #expect(try Checkpoint.load(from: path, expectingKind: "mlp").step == 100)

        // The next save replaces the stale temporary file and lands whole.
        try Self.save(to: path, step: 300)
        #expect(try Checkpoint.load(from: path, expectingKind: "mlp").step == 300)
        #expect(!ToolsTestSupport.fileExists(path + ".tmp"))
    }

    @Test func badTensorsAreRefusedAtSave() {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let path = folder + "/model.safetensors"
        let wrongCount = [NamedTensor(name: "w", shape: [2, 3], data: [1, 2, 3])]
        let repeated = [NamedTensor(name: "w", shape: [1], data: [1]), NamedTensor(name: "w", shape: [1], data: [2])]
        for tensors in [wrongCount, repeated] {
            #expect(throws: WorkbookError.self) {
                try Checkpoint.save(tensors, kind: "mlp", config: "{}", step: 0, rngState: 0, to: path)
            }
        }
        #expect(throws: WorkbookError.self) {
            try Checkpoint.save([], kind: "mlp", config: "{}", step: 0, rngState: 0, extraMetadata: ["step": "9"], to: path)
        }
        #expect(!ToolsTestSupport.fileExists(path))
    }

    /// Copies a checkpoint with its metadata changed by `change`, with a valid checksum, the way
    /// another writer would produce it.
    func rewriteMetadata(from path: String, to newPath: String, _ change: (inout [String: String]) -> Void) throws {
        let bytes = try readFileBytes(path)
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
        guard case .object(var header) = try JSONValue.parse(utf8: Array(bytes[8..<8 + headerLength])),
              case .object(let rawMetadata)? = header["__metadata__"] else { throw WorkbookError("bad test file") }
        var metadata = rawMetadata.compactMapValues(\.stringValue)
        change(&metadata)
        let data = bytes[(8 + headerLength)...]
        let entries = header.compactMap { name, value -> Checkpoint.TensorEntry? in
            guard name != "__metadata__", let offsets = value["data_offsets"]?.arrayValue else { return nil }
            return Checkpoint.TensorEntry(name: name, dtype: "F32", shape: value["shape"]!.arrayValue!.map { $0.intValue! },
                                          begin: offsets[0].intValue!, end: offsets[1].intValue!)
        }
        if !metadata.isEmpty { metadata["checksum"] = Checkpoint.checksum(data: data, entries: entries, metadata: metadata) }
        header["__metadata__"] = metadata.isEmpty ? nil : .object(metadata.mapValues { .string($0) })
        let newHeader = Array(JSONValue.object(header).serialized().utf8)
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(newHeader.count).littleEndian) { file.append(contentsOf: $0) }
        ToolsTestSupport.writeBytes(file + newHeader + Array(data), to: newPath)
    }
}
