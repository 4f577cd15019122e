// Week 8's program: the real executable run on --quick settings (the path main.swift takes: the
// gradient check, the run, the evaluation, the outputs; a failing gradient check exiting non-zero;
// an experiment as a step of the lesson), and its step functions called directly.
import Testing
import Foundation
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week08Transformer
import TestSupport

/// Runs a week's program (built beside the test bundle by `swift test`) with `arguments`.
func runProgram(_ name: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let run = try runBuiltProgram(name, arguments)
    return (run.status, run.standardOutput, run.standardError)
}

func temporaryFolder() -> String {
    NSTemporaryDirectory() + "Week08Tests-\(UInt64.random(in: 0..<UInt64.max))/"
}

@Suite(.serialized) struct Week08ProgramTests {
    func quickConfig(_ extra: [String] = []) -> Week08Config {
        let options = Options(program: "Week08Transformer", summary: "", arguments: ["Week08Transformer", "--quick"] + extra)
        return Week08Config(options)
    }

    @Test func quickProgramLearnsPastTheUnigramEntropyAndWritesItsOutputs() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try runProgram("Week08Transformer", ["--quick", "--out", out])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("gradient check") && !run.out.contains("FAILED"))
        let metrics = try JSONValue.parse(readTextFile(joinPath(out, "metrics.json")))
        let validation = try #require(metrics["final"]?["val_loss"]?.doubleValue)
        let unigram = try CharacterData.load(corpus: nil, prompt: "").unigramEntropy
        // --quick must show the model learning more than letter frequencies
        #expect(validation < unigram - 0.4, "validation \(validation), unigram entropy \(unigram)")
        let history = try #require(metrics["history"]?.arrayValue)
        #expect(history.count == 5)   // step 0, then every 50 of 200 steps
        for name in ["loss.svg", "attention.svg"] { #expect(try readTextFile(joinPath(out, name)).hasPrefix("<svg")) }
    }

    @Test func aFailingGradientCheckStopsTheProgramBeforeTraining() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        // a finite-difference step of 5 is far too coarse: the check must fail, and nothing trains
        let run = try runProgram("Week08Transformer", ["--quick", "--check-step", "5", "--out", out])
        #expect(run.status == 1)
        #expect(run.err.contains("gradient check failed"))
        #expect(!run.out.contains("step 0:"))
        #expect(!FileManager.default.fileExists(atPath: joinPath(out, "metrics.json")))
    }

    @Test func anExperimentIsAStepOfTheLesson() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try runProgram("Week08Transformer", ["--quick", "--experiment", "positions", "--experiment-steps", "20",
                                                       "--out", out])
        #expect(run.status == 0, "\(run.err)")
        let metrics = try JSONValue.parse(readTextFile(joinPath(out, "metrics.json")))
        for variant in ["learned", "sinusoidal", "none"] {
            let loss = try #require(metrics["final"]?["experiment"]?[variant]?["val_loss_whole_split"]?.doubleValue)
            #expect(loss < log(65.0))
        }
        // the steps after training ran too: the sample and the attention maps of the first variant
        #expect(run.out.contains("--- sample of learned"))
        #expect(try readTextFile(joinPath(out, "experiment-positions.svg")).contains("sinusoidal"))
    }

    @Test func quickRunStartsNearLnVAndLearns() throws {
        let config = quickConfig()
        let data = try CharacterData.load(corpus: nil, prompt: "")
        let plan = week08Plans(config)[0]
        let model = try makeWeek08Model(plan, vocabularySize: data.vocabulary.size, seed: 1)
        let trainer = try makeWeek08Trainer(model, config: config.training, data: data, checkpoint: nil, seed: 1)
        let run = try trainWeek08(trainer, model: model, label: "quick", peakFLOPS: 1e11, log: { _ in })
        // step 0 (the untrained model) first, then every --eval-every (50) steps up to the 200th
        #expect(run.column("step") == [0, 50, 100, 150, 200])
        let lnV = log(Double(data.vocabulary.size))
        #expect(abs(run.history[0]["val_loss"]! - lnV) < 0.15)
        #expect(run.finalValidationLoss < data.unigramEntropy - 0.4)
        #expect(run.stepLosses.count == 200 && run.divergence == nil)
        #expect(run.mfu > 0 && run.tokensPerSecond > 0)
        // the chart's training curve has a point per step
        #expect(runningMean([1, 2, 3, 4], window: 2) == [1, 1.5, 2.5, 3.5])
    }

    @Test func experimentPlansTrainEveryVariant() throws {
        let config = quickConfig(["--experiment", "positions", "--experiment-steps", "20"])
        let data = try CharacterData.load(corpus: nil, prompt: "")
        let plans = week08Plans(config)
        #expect(plans.map(\.label) == ["learned", "sinusoidal", "none"])
        let trained = try trainWeek08Plans(plans, data: data, config: config, peakFLOPS: 1e11, log: { _ in })
        for (_, run) in trained {
            #expect(run.column("step") == [0] + stride(from: 2, through: 20, by: 2).map(Double.init))
            #expect(run.finalValidationLoss < run.history[0]["val_loss"]!)
        }
        // same seed and batches, different models: the curves differ
        #expect(trained[0].run.finalValidationLoss != trained[2].run.finalValidationLoss)
    }

    @Test func prenormExperimentRunsWithoutWarmupAtTheExperimentRate() {
        let config = quickConfig(["--experiment", "prenorm-vs-postnorm", "--experiment-lr", "5e-3"])
        let plans = week08Plans(config)
        #expect(plans.map(\.label) == ["Pre-LN", "Post-LN"])
        #expect(!plans[1].model.preNorm && plans[0].model.preNorm)
        #expect(plans[1].training.schedule.learningRate(step: 0) == 5e-3)
        #expect(plans[1].training.warmupSteps == 0)
    }
}
