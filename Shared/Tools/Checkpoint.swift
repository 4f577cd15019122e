// Checkpoints in the safetensors format (https://huggingface.co/docs/safetensors), which the
// PyTorch and Hugging Face world already reads: `safetensors.numpy.load_file("model.safetensors")`.
//   [8 bytes: header length N, little-endian] [N bytes: JSON header] [raw little-endian data]
// Our own fields go in the header's "__metadata__" (string to string): format_version, kind,
// config, step, rng_state and a CRC-32 checksum that covers the data and every header field.
// Used by the weeks that train for minutes (MLP on MNIST, RNN, LSTM, GPT) to save and resume.
import SharedKernels
import CZlib

/// A checkpoint that does not fit what it is loaded into (a missing tensor, another shape,
/// another optimizer). `detail` reads after the file's name ("has no tensor 'wte.weight'");
/// printed alone the error starts with "checkpoint".
public struct CheckpointMismatch: Error, CustomStringConvertible, Equatable {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { "checkpoint " + detail }
}

/// A named tensor: row-major Float32 values and their shape (e.g. "fc1.weight", [784, 128]).
public struct NamedTensor: Equatable {
    public var name: String
    public var shape: [Int]
    public var data: [Float]

    public init(name: String, shape: [Int], data: [Float]) {
        self.name = name
        self.shape = shape
        self.data = data
    }
}

/// What `Checkpoint.load` returns: the tensors by name and the metadata of the run.
public struct CheckpointContents {
    public var tensors: [String: NamedTensor]
    /// The model kind the file was saved for ("mlp", "gpt"...).
    public var kind: String
    /// The JSON configuration of the run that saved it.
    public var config: String
    /// Training step (or epoch) at which it was saved.
    public var step: Int
    /// The SplitMix64 state, so a resumed run draws the same random numbers.
    public var rngState: UInt64
    /// Every "__metadata__" entry, ours and the extra ones.
    public var metadata: [String: String]

    /// The tensor named `name`, checked to have `shape`. Throws one clear line otherwise.
    public func tensor(_ name: String, shape: [Int]) throws -> [Float] {
        guard let tensor = tensors[name] else {
            throw CheckpointMismatch("has no tensor '\(name)' (it has: \(tensors.keys.sorted().joined(separator: ", ")))")
        }
        guard tensor.shape == shape else {
            throw CheckpointMismatch("tensor '\(name)' has shape \(tensor.shape), this model needs \(shape)")
        }
        return tensor.data
    }
}

public enum Checkpoint {
    /// Version of our metadata layout. A file with a higher version was written by a newer
    /// workbook and is refused rather than misread.
    public static let formatVersion: Int = 1

    /// Metadata keys written by `save` (extra metadata may not use them).
    static let reservedKeys: Set<String> = ["format_version", "kind", "config", "step", "rng_state", "checksum"]

    /// Saves `tensors` (in the order given) and the run's metadata to `path`, atomically: the
    /// bytes go to "path.tmp" in the same folder, which is then renamed over `path`, so an
    /// interrupted save leaves the previous checkpoint intact. Creates missing folders.
    public static func save(_ tensors: [NamedTensor], kind: String, config: String, step: Int,
                            rngState: UInt64, extraMetadata: [String: String] = [:], to path: String) throws {
        // 1. Validate: unique names, data matching each shape.
        var seen = Set<String>()
        for tensor in tensors {
            guard !tensor.name.isEmpty, tensor.name != "__metadata__", seen.insert(tensor.name).inserted else {
                throw WorkbookError("cannot save checkpoint: tensor name '\(tensor.name)' is empty, reserved or repeated")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.shape.reduce(1, *) == tensor.data.count else {
                throw WorkbookError("cannot save checkpoint: tensor '\(tensor.name)' has shape \(tensor.shape) but \(tensor.data.count) values")
            }
        }
        if let clash = extraMetadata.keys.first(where: { reservedKeys.contains($0) }) {
            throw WorkbookError("cannot save checkpoint: extra metadata key '\(clash)' is reserved")
        }

        // 2. The data section: every tensor's Float32 values, little-endian, back to back.
        var data: [UInt8] = []
        data.reserveCapacity(4 * tensors.reduce(0) { $0 + $1.data.count })
        var entries: [TensorEntry] = []
        for tensor in tensors {
            let begin = data.count
            #if _endian(little)
            tensor.data.withUnsafeBytes { data.append(contentsOf: $0) }   // already little-endian: copy
            #else
            for value in tensor.data {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            #endif
            entries.append(TensorEntry(name: tensor.name, dtype: "F32", shape: tensor.shape, begin: begin, end: data.count))
        }

        // 3. The header: tensor entries plus "__metadata__" (strings only, as the format requires).
        var metadata = extraMetadata
        metadata["format_version"] = String(formatVersion)
        metadata["kind"] = kind
        metadata["config"] = config
        metadata["step"] = String(step)
        metadata["rng_state"] = String(rngState)
        metadata["checksum"] = checksum(data: data[...], entries: entries, metadata: metadata)
        var header: [String: JSONValue] = ["__metadata__": .object(metadata.mapValues { .string($0) })]
        for entry in entries {
            header[entry.name] = [
                "dtype": .string(entry.dtype),
                "shape": JSONValue(entry.shape),
                "data_offsets": JSONValue([entry.begin, entry.end]),
            ]
        }
        var headerBytes = Array(JSONValue.object(header).serialized(pretty: false).utf8)
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        // 4. Length prefix, header, data; written to a temporary file, then renamed.
        var file: [UInt8] = []
        file.reserveCapacity(8 + headerBytes.count + data.count)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: headerBytes)
        file.append(contentsOf: data)
        do {
            try writeFileAtomically(file, to: path)
        } catch {
            throw WorkbookError("cannot save checkpoint: \(error)")
        }
    }

    /// Loads a checkpoint saved by `save`, checking everything before trusting it: the length
    /// prefix, the JSON header, every tensor's dtype, shape and byte range, the format version,
    /// the checksum and finally the model kind. Any problem throws a `WorkbookError` with one
    /// line naming the file and what is wrong.
    public static func load(from path: String, expectingKind kind: String) throws -> CheckpointContents {
        let file = try readFileBytes(path)
        func problem(_ message: String) -> WorkbookError { WorkbookError("checkpoint \(path): \(message)") }

        // 1. Length prefix and header.
        guard file.count >= 8 else {
            throw problem("file is \(file.count) bytes, too short to be a safetensors file (truncated?)")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard headerLength >= 2, headerLength <= UInt64(file.count - 8) else {
            throw problem("header length \(headerLength) does not fit in the \(file.count - 8) bytes after it (truncated or corrupted)")
        }
        let headerEnd = 8 + Int(headerLength)
        let header: JSONValue
        do {
            header = try JSONValue.parse(utf8: Array(file[8..<headerEnd]))
        } catch {
            throw problem("header is not valid JSON (corrupted?): \(error)")
        }
        guard case .object(let members) = header else { throw problem("header is not a JSON object") }

        // 2. Our metadata, and its version before anything else depends on its layout.
        guard case .object(let rawMetadata)? = members["__metadata__"] else {
            throw problem("no __metadata__ in the header: not a workbook checkpoint")
        }
        var metadata: [String: String] = [:]
        for (key, value) in rawMetadata {
            guard let text = value.stringValue else { throw problem("metadata '\(key)' is not a string") }
            metadata[key] = text
        }
        guard let versionText = metadata["format_version"], let version = Int(versionText) else {
            throw problem("no valid format_version in the metadata: not a workbook checkpoint")
        }
        guard version <= formatVersion else {
            throw problem("format version \(version) was written by a newer workbook; this one reads up to version \(formatVersion)")
        }
        guard version >= 1 else { throw problem("invalid format version \(version)") }

        // 3. Tensor entries: F32 only, shapes matching byte ranges, ranges tiling the data exactly.
        let dataCount = file.count - headerEnd
        var entries: [TensorEntry] = []
        for (name, value) in members where name != "__metadata__" {
            guard let dtype = value["dtype"]?.stringValue,
                  let shape = value["shape"]?.arrayValue?.map({ $0.intValue ?? -1 }),
                  let offsets = value["data_offsets"]?.arrayValue?.map({ $0.intValue ?? -1 }), offsets.count == 2
            else { throw problem("tensor '\(name)' has no valid dtype, shape and data_offsets") }
            guard dtype == "F32" else { throw problem("tensor '\(name)' has dtype \(dtype); only F32 is supported") }
            guard shape.allSatisfy({ $0 >= 0 && $0 < (1 << 40) }), offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw problem("tensor '\(name)' has an invalid shape \(shape) or data_offsets \(offsets)")
            }
            let (count, overflow) = shape.reduce((1, false)) { partial, n in
                let product = partial.0.multipliedReportingOverflow(by: n)
                return (product.partialValue, partial.1 || product.overflow)
            }
            guard !overflow, offsets[1] - offsets[0] == 4 * count else {
                throw problem("tensor '\(name)' has shape \(shape) but \(offsets[1] - offsets[0]) bytes")
            }
            entries.append(TensorEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expectedBegin = 0
        for entry in entries {
            guard entry.begin == expectedBegin else {
                throw problem("tensor '\(entry.name)' starts at byte \(entry.begin), expected \(expectedBegin) (corrupted header)")
            }
            expectedBegin = entry.end
        }
        guard expectedBegin <= dataCount else {
            throw problem("data section is \(dataCount) bytes but the header describes \(expectedBegin) (truncated)")
        }
        guard expectedBegin == dataCount else {
            throw problem("\(dataCount - expectedBegin) unexpected bytes after the last tensor (corrupted)")
        }

        // 4. Checksum over the data and every header field: catches any flipped bit.
        let data = file[headerEnd...]   // a view, not a copy; indices still count from the file start
        guard let stored = metadata["checksum"] else { throw problem("no checksum in the metadata") }
        let actual = checksum(data: data, entries: entries, metadata: metadata)
        guard stored == actual else {
            throw problem("checksum mismatch (stored \(stored), computed \(actual)): the file is corrupted")
        }

        // 5. Only now the questions a valid file can answer: is it the right model?
        guard let savedKind = metadata["kind"] else { throw problem("no model kind in the metadata") }
        guard savedKind == kind else {
            throw problem("holds a '\(savedKind)' model, expected '\(kind)'")
        }
        guard let stepText = metadata["step"], let step = Int(stepText),
              let rngText = metadata["rng_state"], let rngState = UInt64(rngText) else {
            throw problem("step or rng_state missing from the metadata")
        }

        // 6. Decode the tensors.
        var tensors: [String: NamedTensor] = [:]
        for entry in entries {
            var values = [Float](repeating: 0, count: (entry.end - entry.begin) / 4)
            #if _endian(little)
            values.withUnsafeMutableBytes { destination in
                file.withUnsafeBytes { source in
                    let begin = headerEnd + entry.begin, end = headerEnd + entry.end
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[begin..<end]))
                }
            }
            #else
            for i in 0..<values.count {
                let o = headerEnd + entry.begin + 4 * i
                let bits = UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            #endif
            tensors[entry.name] = NamedTensor(name: entry.name, shape: entry.shape, data: values)
        }
        return CheckpointContents(tensors: tensors, kind: savedKind, config: metadata["config"] ?? "{}",
                                  step: step, rngState: rngState, metadata: metadata)
    }

    /// One tensor's line in the header.
    struct TensorEntry {
        let name: String
        let dtype: String
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// "crc32:1a2b3c4d": CRC-32 (zlib) of the data section, continued over a canonical text of
    /// the header (each tensor's name, dtype, shape and offsets sorted by name, then each
    /// metadata entry except the checksum, sorted by key). Computed from parsed values, so it
    /// does not depend on how the JSON was spaced, and a changed field is caught as surely as a
    /// changed weight.
    static func checksum(data: ArraySlice<UInt8>, entries: [TensorEntry], metadata: [String: String]) -> String {
        var crc = crc32(0, nil, 0)
        func update(_ bytes: ArraySlice<UInt8>) {
            bytes.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < buffer.count {   // zlib takes 32-bit lengths: feed at most 1 GiB at a time
                    let length = min(buffer.count - start, 1 << 30)
                    crc = crc32(crc, buffer.baseAddress! + start, uInt(length))
                    start += length
                }
            }
        }
        update(data)
        var canonical = ""
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            canonical += "tensor \(JSONValue.quote(entry.name)) \(entry.dtype) \(entry.shape) \(entry.begin) \(entry.end)\n"
        }
        for key in metadata.keys.sorted() where key != "checksum" {
            canonical += "meta \(JSONValue.quote(key)) \(JSONValue.quote(metadata[key]!))\n"
        }
        update(ArraySlice(canonical.utf8))
        let hex = String(crc, radix: 16)
        return "crc32:" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }
}

// MARK: - A training run's checkpoint

/// Everything a training loop needs to continue a run exactly where it stopped, in one
/// checkpoint file: the model's named parameters, the optimizer's state tensors, the step,
/// the RNG state, the evaluation history, and whatever else the loop and the model keep
/// (extra tensors and metadata). Any model whose parameters are named tensors can use it;
/// Shared/Training/LanguageModelTraining.swift does, for every `LanguageModel`.
///
/// In the file, optimizer tensors are named "optimizer.…" and extra tensors "resume.…", so the
/// parameters keep their own names (what a learner sees in `safetensors.numpy.load_file`).
public struct TrainingCheckpoint {
    public static let optimizerPrefix = "optimizer."
    public static let extraPrefix = "resume."

    /// The model's weights, by their own names.
    public var parameters: [NamedTensor]
    /// The optimizer's buffers (moments, velocities); every name starts with "optimizer.".
    public var optimizerState: [NamedTensor]
    /// Further state (a carried hidden state, ...); every name starts with "resume.".
    public var extraTensors: [NamedTensor]
    /// Optimizer steps taken.
    public var step: Int
    /// The training loop's SplitMix64 state.
    public var rngState: UInt64
    /// One row per evaluation (step, train_loss, val_loss, ...).
    public var history: [[String: Double]]
    /// The run's JSON configuration.
    public var config: String
    /// The loop's and the model's own fields (string to string; keys must not be ones
    /// `Checkpoint.save` reserves, nor "history").
    public var metadata: [String: String]

    public init(parameters: [NamedTensor], optimizerState: [NamedTensor], extraTensors: [NamedTensor] = [],
                step: Int, rngState: UInt64, history: [[String: Double]], config: String,
                metadata: [String: String] = [:]) {
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.extraTensors = extraTensors
        self.step = step
        self.rngState = rngState
        self.history = history
        self.config = config
        self.metadata = metadata
    }

    /// Writes the checkpoint atomically (`Checkpoint.save`) as a model of `kind`.
    public func save(kind: String, to path: String) throws {
        for tensor in parameters where tensor.name.hasPrefix(Self.optimizerPrefix) || tensor.name.hasPrefix(Self.extraPrefix) {
            throw WorkbookError("cannot save checkpoint: parameter name '\(tensor.name)' uses a reserved prefix")
        }
        for tensor in optimizerState where !tensor.name.hasPrefix(Self.optimizerPrefix) {
            throw WorkbookError("cannot save checkpoint: optimizer tensor '\(tensor.name)' must start with '\(Self.optimizerPrefix)'")
        }
        for tensor in extraTensors where !tensor.name.hasPrefix(Self.extraPrefix) {
            throw WorkbookError("cannot save checkpoint: extra tensor '\(tensor.name)' must start with '\(Self.extraPrefix)'")
        }
        guard metadata["history"] == nil else { throw WorkbookError("cannot save checkpoint: metadata key 'history' is reserved") }
        var all = metadata
        all["history"] = JSONValue.array(history.map { .object($0.mapValues { .number($0) }) }).serialized(pretty: false)
        try Checkpoint.save(parameters + optimizerState + extraTensors, kind: kind, config: config, step: step,
                            rngState: rngState, extraMetadata: all, to: path)
    }

    /// Reads a checkpoint written by `save`, with every check of `Checkpoint.load` (length,
    /// header, dtypes, shapes, byte ranges, version, checksum, kind) plus a readable history.
    /// Throws one line naming the file and the problem.
    public static func load(from path: String, expectingKind kind: String) throws -> TrainingCheckpoint {
        let contents = try Checkpoint.load(from: path, expectingKind: kind)
        guard let historyText = contents.metadata["history"], let rows = try? JSONValue.parse(historyText).arrayValue else {
            throw WorkbookError("checkpoint \(path): no readable training history (not saved by a training loop?)")
        }
        var history: [[String: Double]] = []
        for row in rows {
            guard let object = row.objectValue else { throw WorkbookError("checkpoint \(path): a history row is not an object") }
            var values: [String: Double] = [:]
            for (key, value) in object {
                guard let number = value.doubleValue else {
                    throw WorkbookError("checkpoint \(path): history field '\(key)' is not a number")
                }
                values[key] = number
            }
            history.append(values)
        }
        // sorted by name: the dictionary `Checkpoint.load` returns has no order of its own
        let tensors = contents.tensors.values.sorted { $0.name < $1.name }
        var metadata = contents.metadata
        for key in Checkpoint.reservedKeys.union(["history"]) { metadata[key] = nil }
        return TrainingCheckpoint(
            parameters: tensors.filter { !$0.name.hasPrefix(optimizerPrefix) && !$0.name.hasPrefix(extraPrefix) },
            optimizerState: tensors.filter { $0.name.hasPrefix(optimizerPrefix) },
            extraTensors: tensors.filter { $0.name.hasPrefix(extraPrefix) },
            step: contents.step, rngState: contents.rngState, history: history, config: contents.config,
            metadata: metadata)
    }

    /// Every tensor of the file by name (parameters, optimizer and extra).
    public var tensorsByName: [String: NamedTensor] {
        Dictionary(uniqueKeysWithValues: (parameters + optimizerState + extraTensors).map { ($0.name, $0) })
    }
}
