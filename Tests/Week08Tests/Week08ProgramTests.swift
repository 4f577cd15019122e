// Week 8's program pieces on --quick settings: the main run through the shared trainer (its
// step-0 row, its evaluations, the loss falling) and an experiment with its variants.
import Testing
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
@testable import Week08Transformer

@Suite struct Week08ProgramTests {
    func quickConfig(_ extra: [String] = []) -> Week08Config {
        let options = Options(program: "Week08Transformer", summary: "", arguments: ["Week08Transformer", "--quick"] + extra)
        return Week08Config(options)
    }

    @Test func quickRunStartsNearLnVAndLearns() throws {
        let config = quickConfig()
        let data = try CharacterData.load(corpus: nil, prompt: "")
        let model = try makeWeek08Model(config, vocabularySize: data.vocabulary.size, seed: 1)
        let trainer = try makeWeek08Trainer(model, config: config.training, data: data, checkpoint: nil,
                                            configJSON: model.config.json, seed: 1)
        let run = try trainWeek08(trainer, model: model, label: "quick", peakFLOPS: 1e11, log: { _ in })
        // step 0 (the untrained model) first, then every --eval-every (30) steps up to the 60th
        #expect(run.column("step") == [0, 30, 60])
        let lnV = log(Double(data.vocabulary.size))
        #expect(abs(run.history[0]["val_loss"]! - lnV) < 0.15)
        #expect(run.finalValidationLoss < lnV - 0.8)
        #expect(run.stepLosses.count == 60 && run.divergence == nil)
        #expect(run.mfu > 0 && run.tokensPerSecond > 0)
    }

    @Test func quickExperimentTrainsEveryVariant() throws {
        let config = quickConfig(["--experiment-steps", "20"])
        let data = try CharacterData.load(corpus: nil, prompt: "")
        let runs = try runWeek08Experiment("positions", data: data, config: config, peakFLOPS: 1e11, log: { _ in })
        #expect(runs.map(\.label) == ["learned", "sinusoidal", "none"])
        for run in runs {
            #expect(run.column("step") == [0] + stride(from: 2, through: 20, by: 2).map(Double.init))
            #expect(run.finalValidationLoss < run.history[0]["val_loss"]!)
        }
        // same seed and batches, different models: the curves differ
        #expect(runs[0].finalValidationLoss != runs[2].finalValidationLoss)
        #expect(!week08LossChart(runs, title: "t").isEmpty)
    }

    @Test func prenormExperimentRunsWithoutWarmupAtTheExperimentRate() {
        let config = quickConfig(["--experiment-lr", "5e-3"])
        let variants = week08Variants("prenorm-vs-postnorm", config: config)
        #expect(variants.map(\.0) == ["Pre-LN", "Post-LN"])
        var model = config.model
        var flags = config.trainingFlags
        flags.learningRate = 1e-3
        flags.warmupSteps = 100
        flags.decaySteps = 1000
        variants[1].1(&model, &flags)
        let schedule = flags.schedule
        #expect(!model.preNorm)
        #expect(schedule.learningRate(step: 0) == 5e-3)
    }
}
