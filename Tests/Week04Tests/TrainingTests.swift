// The week 4 program end to end, in-process: the --quick run, its outputs, resume from a
// checkpoint bit for bit, early stopping, the config file, and bad checkpoints.
import Foundation
import Testing
import Shared
@testable import Week04Training

@Suite struct Week04TrainingTests {
    /// A fresh folder under the system's temporary directory (tests never write into the repo).
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("week04-\(UUID().uuidString)").path
    }

    /// The config main.swift would build from these arguments.
    func config(_ arguments: [String]) -> Week04Config {
        let options = Options(program: "Week04Training", summary: "test", arguments: ["Week04Training"] + arguments)
        var config = Week04Config(options)
        #expect(options.parse() == .run)
        config.gradientCheck = false
        return config
    }

    @Test func quickRunLearnsAndWritesItsOutputs() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        var quick = config(["--quick", "--out", out, "--epochs", "10", "--lr", "0.01", "--patience", "0"])
        quick.gradientCheck = true
        let result = try runWeek04(quick)
        #expect(result.config.dataset == "digits")
        #expect(result.divergence == nil)
        #expect(result.gradientCheck.allSatisfy { $0.passed } && !result.gradientCheck.isEmpty)
        #expect(result.trainLosses.last! < 0.8 * result.trainLosses.first!, "\(result.trainLosses)")
        #expect(result.testAccuracy >= 0.9, "test accuracy \(result.testAccuracy)")
        for name in ["metrics.json", "loss.svg", "lr.svg", "last.safetensors", "best.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "missing \(name)")
        }
        let metrics = try JSONValue.parse(String(contentsOfFile: out + "/metrics.json", encoding: .utf8))
        guard let history = metrics["history"]?.arrayValue, let first = history.first?.objectValue,
              let final = metrics["final"]?.objectValue, let config = metrics["config"]?.objectValue else {
            Issue.record("metrics.json lacks history, final or config")
            return
        }
        #expect(history.count == 10)
        for key in ["epoch", "train_loss", "val_loss", "val_accuracy", "seconds", "lr"] {
            #expect(first[key] != nil, "history row lacks \(key)")
        }
        #expect(first["test_accuracy"] == nil)   // the test set is measured once, at the end
        #expect(final["test_accuracy"]?.doubleValue == result.testAccuracy)
        #expect(config["optimizer"] == "adamw" && config["schedule"] == "warmup-cosine")
        // The metrics' config is a valid --config file that gives back the same experiment.
        #expect(try Week04Config(json: config) == result.config.withoutRunControl)
    }

    @Test func trainingStraightEqualsTrainingStopSaveAndResumeBitForBit() throws {
        let straightOut = temporaryFolder(), splitOut = temporaryFolder()
        defer {
            try? FileManager.default.removeItem(atPath: straightOut)
            try? FileManager.default.removeItem(atPath: splitOut)
        }
        // N = 5 epochs straight; k = 2 epochs, stop, resume from last.safetensors for 3 more.
        // Dropout, AdamW and a warmup-cosine schedule: every piece of state must come back.
        let arguments = ["--quick", "--epochs", "5", "--no-plots", "--patience", "2"]
        let straight = try runWeek04(config(arguments + ["--out", straightOut]))
        let interrupted = try runWeek04(config(arguments + ["--out", splitOut, "--stop-after", "2"]))
        #expect(interrupted.history.count == 2)
        // As typed: --resume PATH alone; the epochs (5) come from the checkpoint's config.
        var resumeConfig = config(["--quick", "--out", splitOut])
        resumeConfig.resume = splitOut + "/last.safetensors"
        let resumed = try runWeek04(resumeConfig)
        #expect(straight.history.count == 5 && resumed.history.count == 5)
        let losses = { (r: Week04Result) in r.history.map { [$0.trainLoss, $0.valLoss!, $0.learningRate].map(\.bitPattern) } }
        #expect(losses(resumed) == losses(straight))
        #expect(resumed.batchLosses.map(\.bitPattern) == straight.batchLosses.map(\.bitPattern))
        #expect(resumed.parameters.map(\.value) == straight.parameters.map(\.value))
        #expect(resumed.bestEpoch == straight.bestEpoch)
        #expect(resumed.test?.accuracy == straight.test?.accuracy)
    }

    @Test("1 thread and 2 threads, run at the same time, give the same losses bit for bit")
    func oneThreadEqualsTwoThreads() async throws {
        let oneOut = temporaryFolder(), twoOut = temporaryFolder()
        defer {
            try? FileManager.default.removeItem(atPath: oneOut)
            try? FileManager.default.removeItem(atPath: twoOut)
        }
        // --hidden 128,64 at batch 128: the hidden layers' products are above
        // gemmParallelThreshold, so the 2-thread run really splits them.
        let arguments = ["--quick", "--epochs", "2", "--hidden", "128,64", "--no-plots", "--patience", "0"]
        let oneConfig = config(arguments + ["--out", oneOut, "--threads", "1"])
        let twoConfig = config(arguments + ["--out", twoOut, "--threads", "2"])
        #expect(oneConfig.threads == 1 && twoConfig.threads == 2)
        // runWeek04 binds each run's count for that run only (Threads.$count.withValue).
        async let one = Task { try runWeek04(oneConfig) }.value
        async let two = Task { try runWeek04(twoConfig) }.value
        let (single, double) = try await (one, two)
        #expect(single.config.threads == 1 && double.config.threads == 2)
        #expect(single.batchLosses.count == double.batchLosses.count && !single.batchLosses.isEmpty)
        #expect(single.batchLosses.map(\.bitPattern) == double.batchLosses.map(\.bitPattern))
        #expect(single.parameters.map(\.value) == double.parameters.map(\.value))
        #expect(Threads.count == Threads.available)   // nothing leaked out of the runs
    }

    @Test func mainAndTestsPrintTheSameLesson() throws {
        // The program's lines come from runWeek04's log: the steps main.swift used to print
        // itself are all there, in order.
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        var lines: [String] = []
        var quick = config(["--quick", "--epochs", "2", "--no-plots", "--out", out])
        quick.gradientCheck = true
        let result = try runWeek04(quick) { lines.append($0) }
        let prefixes = ["config: ", "model: Linear(64, 64)", "gradient check (", "weight decay", "summary: ", "wrote "]
        var position = 0
        for prefix in prefixes {
            guard let index = lines[position...].firstIndex(where: { $0.lowercased().hasPrefix(prefix.lowercased()) }) else {
                Issue.record("no line starting with '\(prefix)' after line \(position): \(lines)")
                return
            }
            position = index + 1
        }
        #expect(lines.contains { $0.contains(formatPercent(result.testAccuracy)) })
    }

    @Test func earlyStoppingRestoresTheBestValidationWeights() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        // A learning rate far too large for Adam on this tiny net: the validation loss soon
        // stops improving, and patience 1 stops the run.
        let data = try loadWeek04Data(config(["--quick", "--no-plots", "--out", out]))
        let trainer = Trainer(config: config(["--quick", "--no-plots", "--out", out, "--epochs", "40", "--patience", "1",
                                              "--schedule", "constant", "--optimizer", "sgd", "--lr", "0.9"]), data: data)
        let reason = try train(trainer, log: { _ in })
        #expect(reason.hasPrefix("early stopping"), "\(reason)")
        #expect(trainer.history.count < 40)
        #expect(trainer.history.count == trainer.bestEpoch + 1)
        // The weights now in the model are the best epoch's: their validation loss is the best one.
        let validation = evaluate(trainer.model, on: data.validation)
        #expect(abs(validation.loss - trainer.bestValLoss) < 1e-9, "\(validation.loss) vs \(trainer.bestValLoss)")
        let best = try Checkpoint.load(from: out + "/best.safetensors", expectingKind: Trainer.checkpointKind)
        #expect(best.metadata["epoch"] == String(trainer.bestEpoch))
    }

    @Test func configFileIsReadAndFlagsOverrideIt() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/run.json"
        try writeTextFile(#"{"optimizer": "momentum", "lr": 0.05, "hidden": [32], "dropout": 0, "seed": "99"}"#, to: path)
        let fromFile = config(["--config", path])
        #expect(fromFile.optimizer == "momentum" && fromFile.lr == 0.05 && fromFile.hidden == [32])
        #expect(fromFile.dropout == 0 && fromFile.seed == 99)
        let overridden = config(["--config", path, "--lr", "0.01", "--seed", "3"])
        #expect(overridden.lr == 0.01 && overridden.optimizer == "momentum" && overridden.seed == 3)
        // Round trip: json -> config -> json.
        #expect(try Week04Config(json: fromFile.json).json == fromFile.json)
        // A typo is an error, not a silent default.
        #expect(throws: WorkbookError.self) { try Week04Config(json: ["optimiser": "adam"]) }
        #expect(throws: WorkbookError.self) { try Week04Config(json: ["lr": "fast"]) }
        #expect(throws: WorkbookError.self) { try Week04Config(json: ["dropout": 1.5]) }
    }

    @Test func badCheckpointsGiveOneClearError() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var resumeConfig = config(["--quick", "--no-plots", "--out", folder])
        resumeConfig.resume = folder + "/missing.safetensors"
        #expect(throws: (any Error).self) { try runWeek04(resumeConfig) }
        // A checkpoint of another model (different hidden sizes) is refused by name and shape.
        _ = try runWeek04(config(["--quick", "--no-plots", "--epochs", "1", "--hidden", "16", "--out", folder]))
        let saved = try Checkpoint.load(from: folder + "/last.safetensors", expectingKind: Trainer.checkpointKind)
        var tensors = Array(saved.tensors.values)
        if let index = tensors.firstIndex(where: { $0.name == "fc1.weight" }) {
            tensors[index] = NamedTensor(name: "fc1.weight", shape: [64, 8], data: [Float](repeating: 0, count: 512))
        }
        try Checkpoint.save(tensors, kind: saved.kind, config: saved.config, step: saved.step, rngState: saved.rngState,
                            extraMetadata: saved.metadata.filter { !["format_version", "kind", "config", "step", "rng_state", "checksum"].contains($0.key) },
                            to: folder + "/other.safetensors")
        resumeConfig.resume = folder + "/other.safetensors"
        do {
            _ = try runWeek04(resumeConfig)
            Issue.record("resuming a checkpoint with the wrong shapes should fail")
        } catch {
            #expect("\(error)".contains("fc1.weight"), "\(error)")
        }
    }

    @Test func optimizerExperimentTrainsFourOptimizersFromTheSameStart() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try runWeek04(config(["--quick", "--epochs", "2", "--experiment", "optimizers", "--out", out]))
        #expect(result.comparison.map(\.name) == ["sgd", "momentum", "adam", "adamw"])
        #expect(result.comparison.allSatisfy { $0.history.count == 2 && $0.divergence == nil })
        #expect(result.test == nil)
        #expect(FileManager.default.fileExists(atPath: out + "/optimizers.svg"))
        // Same initial weights and batches: the first batch's loss is identical for all four.
        let firstLosses = Set(result.comparison.map { $0.batchLosses[0] })
        #expect(firstLosses.count == 1)
    }
}

extension Week04Config {
    /// The experiment fields only (what a metrics.json config gives back).
    var withoutRunControl: Week04Config {
        var c = self
        c.stopAfter = nil
        c.epochsGiven = false
        c.resume = nil
        c.gradientCheck = true
        c.plots = true
        c.learningRate = lr
        c.weightDecay = decay
        return c
    }
}
