// The training-run checkpoint (Shared/Tools/Checkpoint.swift, TrainingCheckpoint): parameters,
// optimizer state, extra tensors, step, RNG, history and metadata come back exactly; names in
// the wrong group and files without a history are refused with one line; a damaged file is
// refused by the safetensors checks underneath.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct TrainingCheckpointTests {
    static func sample() -> TrainingCheckpoint {
        var rng = SplitMix64(seed: 3)
        return TrainingCheckpoint(
            parameters: [NamedTensor(name: "rnn.hidden_weight", shape: [3, 3], data: rng.gaussians(9)),
                         NamedTensor(name: "head.bias", shape: [2], data: [-0.0, .leastNonzeroMagnitude])],
            optimizerState: [NamedTensor(name: "optimizer.m.head.bias", shape: [2], data: rng.gaussians(2))],
            extraTensors: [NamedTensor(name: "resume.carried_state", shape: [1, 3], data: rng.gaussians(3))],
            step: 42, rngState: 0xDEAD_BEEF_0123_4567,
            history: [["step": 20, "val_loss": 2.302_585_092_994_045_7, "lr": 1e-3], ["step": 40, "val_loss": 1.0 / 3]],
            config: #"{"steps":100}"#, metadata: ["optimizer": "adamw"])
    }

    @Test func roundTripIsExact() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        let saved = Self.sample()
        try saved.save(kind: "char-rnn", to: folder + "/c.safetensors")
        let loaded = try TrainingCheckpoint.load(from: folder + "/c.safetensors", expectingKind: "char-rnn")
        #expect(loaded.parameters.sorted { $0.name < $1.name } == saved.parameters.sorted { $0.name < $1.name })
        #expect(loaded.optimizerState == saved.optimizerState && loaded.extraTensors == saved.extraTensors)
        #expect(loaded.step == 42 && loaded.rngState == saved.rngState && loaded.config == saved.config)
        #expect(loaded.history == saved.history)
        #expect(loaded.metadata == ["optimizer": "adamw"])
        #expect(loaded.parameters.first { $0.name == "head.bias" }!.data[0].sign == .minus)
        // another model kind: one line
        #expect(throws: WorkbookError.self) { try TrainingCheckpoint.load(from: folder + "/c.safetensors", expectingKind: "gpt") }
    }

    @Test func misplacedNamesAndForeignFilesAreRefused() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder) }
        var wrong = Self.sample()
        wrong.parameters.append(NamedTensor(name: "optimizer.sneaky", shape: [1], data: [1]))
        #expect(throws: WorkbookError.self) { try wrong.save(kind: "x", to: folder + "/a.safetensors") }
        wrong = Self.sample()
        wrong.optimizerState.append(NamedTensor(name: "m.head.bias", shape: [2], data: [1, 2]))
        #expect(throws: WorkbookError.self) { try wrong.save(kind: "x", to: folder + "/a.safetensors") }
        wrong = Self.sample()
        wrong.metadata["history"] = "[]"
        #expect(throws: WorkbookError.self) { try wrong.save(kind: "x", to: folder + "/a.safetensors") }
        // a plain checkpoint (no history) is not a training checkpoint
        try Checkpoint.save([NamedTensor(name: "w", shape: [1], data: [1])], kind: "x", config: "{}", step: 1,
                            rngState: 1, to: folder + "/plain.safetensors")
        do {
            _ = try TrainingCheckpoint.load(from: folder + "/plain.safetensors", expectingKind: "x")
            Issue.record("a checkpoint without history was accepted")
        } catch let error as WorkbookError {
            #expect(error.message.contains("history") && !error.message.contains("\n"))
        }
        // a truncated file: refused by the safetensors checks
        try Self.sample().save(kind: "x", to: folder + "/t.safetensors")
        let bytes = try readFileBytes(folder + "/t.safetensors")
        ToolsTestSupport.writeBytes(Array(bytes.dropLast(7)), to: folder + "/t.safetensors")
        #expect(throws: WorkbookError.self) { try TrainingCheckpoint.load(from: folder + "/t.safetensors", expectingKind: "x") }
    }
}
