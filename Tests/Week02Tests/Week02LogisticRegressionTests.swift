// Week 2: the hand-derived gradients of linear, logistic and softmax regression match finite
// differences; gradient descent lands on the normal-equation solution; divergence is caught.
import Foundation
import Testing
@testable import Week02LogisticRegression
import Shared

/// Compares analytic gradients with centered finite differences of the model's own loss.
/// numericWeight, numericBias: the numeric gradients, computed by perturbing the real buffers.
func compare(_ analytic: ModelGradients, numericWeight: [Float], numericBias: [Float]) -> [GradientCheckResult] {
    [checkGradient("dWeight", analytic: analytic.dWeight, numeric: numericWeight),
     checkGradient("dBias", analytic: analytic.dBias, numeric: numericBias)]
}

@Suite struct Week02LogisticRegressionTests {
    // Non-square shapes, a batch bigger than 1, weights away from zero (so every term matters).
    let N = 7, D = 3, C = 4

    @Test func testLinearRegressionGradientMatchesNumericGradient() {
        var rng = SplitMix64(seed: 11)
        var model = LinearRegression(features: D)
        model.weight = rng.gaussians(D)
        model.bias = [0.3]
        let x = rng.gaussians(N * D), y = rng.gaussians(N)
        let analytic = model.lossAndGradients(x, targets: y, rows: N)
        #expect(abs(analytic.loss - model.loss(x, targets: y, rows: N)) < 1e-9)
        let dWeight = numericGradient(count: model.weight.count, get: { model.weight[$0] },
                                      set: { model.weight[$0] = $1 }, loss: { model.loss(x, targets: y, rows: N) })
        let dBias = numericGradient(count: model.bias.count, get: { model.bias[$0] },
                                    set: { model.bias[$0] = $1 }, loss: { model.loss(x, targets: y, rows: N) })
        let results = compare(analytic, numericWeight: dWeight, numericBias: dBias)
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func testLogisticRegressionGradientMatchesNumericGradient() {
        var rng = SplitMix64(seed: 12)
        var model = LogisticRegression(features: D)
        model.weight = rng.gaussians(D)
        model.bias = [-0.2]
        let x = rng.gaussians(N * D), y: [Float] = [0, 1, 1, 0, 1, 0, 0]
        let analytic = model.lossAndGradients(x, labels: y, rows: N)
        let dWeight = numericGradient(count: model.weight.count, get: { model.weight[$0] },
                                      set: { model.weight[$0] = $1 }, loss: { model.loss(x, labels: y, rows: N) })
        let dBias = numericGradient(count: model.bias.count, get: { model.bias[$0] },
                                    set: { model.bias[$0] = $1 }, loss: { model.loss(x, labels: y, rows: N) })
        let results = compare(analytic, numericWeight: dWeight, numericBias: dBias)
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func testSoftmaxRegressionGradientMatchesNumericGradient() {
        var rng = SplitMix64(seed: 13)
        var model = SoftmaxRegression(features: D, classes: C)
        model.weight = rng.gaussians(D * C)
        model.bias = rng.gaussians(C, std: 0.5)
        let x = rng.gaussians(N * D), y = [0, 3, 1, 2, 3, 0, 1]
        let analytic = model.lossAndGradients(x, labels: y, rows: N)
        let dWeight = numericGradient(count: model.weight.count, get: { model.weight[$0] },
                                      set: { model.weight[$0] = $1 }, loss: { model.loss(x, labels: y, rows: N) })
        let dBias = numericGradient(count: model.bias.count, get: { model.bias[$0] },
                                    set: { model.bias[$0] = $1 }, loss: { model.loss(x, labels: y, rows: N) })
        let results = compare(analytic, numericWeight: dWeight, numericBias: dBias)
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func testZeroModelsStartAtKnownLosses() {
        let x: [Float] = [1, 2, 3, 4, 5, 6]                       // (2, 3)
        #expect(abs(LogisticRegression(features: 3).loss(x, labels: [0, 1], rows: 2) - 0.693147) < 1e-5)
        #expect(abs(SoftmaxRegression(features: 3, classes: 10).loss(x, labels: [0, 9], rows: 2) - 2.302585) < 1e-5)
        #expect(abs(LinearRegression(features: 3).loss(x, targets: [1, 3], rows: 2) - 5) < 1e-6)
    }

    @Test func testNormalEquationsRecoverAnExactLine() throws {
        // y = 2·x0 − 3·x1 + 1 exactly: the solution must be (2, −3), 1.
        let x: [Float] = [0, 0, 1, 0, 0, 1, 1, 1, 2, -1]
        let y: [Float] = [1, 3, -2, 0, 8]
        let solution = try normalEquationSolution(x, targets: y, rows: 5, features: 2)
        #expect(abs(solution.weight[0] - 2) < 1e-9 && abs(solution.weight[1] + 3) < 1e-9)
        #expect(abs(solution.bias - 1) < 1e-9)
        // A duplicated column makes the system singular: a clear error, not garbage.
        #expect(throws: WorkbookError.self) {
            try normalEquationSolution([1, 1, 2, 2, 3, 3], targets: [1, 2, 3], rows: 3, features: 2)
        }
    }

    @Test func testGradientDescentMatchesNormalEquations() throws {
        var rng = SplitMix64(seed: 21)
        let N = 200, D = 4
        let data = makeRegressionData(rows: N, features: D, noise: 0.1, rng: &rng)
        let exact = try normalEquationSolution(data.x, targets: data.y, rows: N, features: D)
        let lambdaMax = largestHessianEigenvalue(data.x, rows: N, features: D)
        let setting = OptimizerSetting(name: "gd", batchSize: N, learningRate: Float(1 / lambdaMax))
        let run = trainLinearRegression(x: data.x, y: data.y, rows: N, features: D, setting: setting,
                                        steps: 500, recordEvery: 50, rng: &rng)
        #expect(run.divergedAtStep == nil)
        var worst = abs(Double(run.model.bias[0]) - exact.bias)
        for d in 0..<D { worst = max(worst, abs(Double(run.model.weight[d]) - exact.weight[d])) }
        #expect(worst < 1e-4)
    }

    @Test func testDivergenceIsDetectedAboveTheStabilityLimit() {
        var rng = SplitMix64(seed: 22)
        let N = 100, D = 3
        let data = makeRegressionData(rows: N, features: D, noise: 0.1, rng: &rng)
        let limit = 2 / largestHessianEigenvalue(data.x, rows: N, features: D)
        for (factor, shouldDiverge) in [(1.2, true), (3.0, true), (0.9, false), (0.05, false)] {
            let setting = OptimizerSetting(name: "gd", batchSize: N, learningRate: Float(factor * limit))
            let run = trainLinearRegression(x: data.x, y: data.y, rows: N, features: D, setting: setting,
                                            steps: 2000, recordEvery: 10, rng: &rng)
            #expect((run.divergedAtStep != nil) == shouldDiverge, "lr = \(factor) × limit")
            let finite = run.losses.allSatisfy { $0.isFinite }
            #expect(finite)                                    // never a NaN in the record
        }
        #expect(hasDiverged(.nan, initialLoss: 1) && hasDiverged(.infinity, initialLoss: 1))
        #expect(!hasDiverged(10, initialLoss: 1))
    }

    @Test func testStochasticVariantsReduceTheLoss() {
        var rng = SplitMix64(seed: 23)
        let N = 128, D = 4
        let data = makeRegressionData(rows: N, features: D, noise: 0.1, rng: &rng)
        for setting in [OptimizerSetting(name: "sgd", batchSize: 1, learningRate: 0.02),
                        OptimizerSetting(name: "mini-batch", batchSize: 16, learningRate: 0.1),
                        OptimizerSetting(name: "momentum", batchSize: 16, learningRate: 0.02, momentum: 0.9)] {
            let run = trainLinearRegression(x: data.x, y: data.y, rows: N, features: D, setting: setting,
                                            steps: 300, recordEvery: 50, rng: &rng)
            #expect(run.divergedAtStep == nil)
            #expect(run.finalLoss < run.losses[0] / 20, "\(setting.name)")
        }
    }
}

@Suite struct Week02RunTests {
    @Test func testQuickRunInProcessReachesSensibleAccuracy() throws {
        var config = Week02Config(quick: true)
        config.out = NSTemporaryDirectory() + "Week02Tests-\(UInt64.random(in: 0..<UInt64.max))/"
        defer { try? FileManager.default.removeItem(atPath: config.out) }
        let result = try runWeek02(config)
        #expect(result.gradientChecks.count == 6)
        for check in result.gradientChecks { #expect(check.passed, "\(check)") }
        #expect(result.normalEquationGap < 1e-4)
        // The sweep: too small and good converge, too large is caught as divergence.
        #expect(result.sweep.map { $0.run.divergedAtStep != nil } == [false, false, true])
        for trial in result.sweep {
            let finite = trial.run.losses.allSatisfy { $0.isFinite }
            #expect(finite, "\(trial.label): a non-finite loss was recorded")
        }
        for run in result.optimizerRuns {
            #expect(run.divergedAtStep == nil)
            #expect(run.finalLoss < run.losses[0] / 5, "\(run.setting.name)")
        }
        #expect(result.blobsAccuracy > 0.9)
        #expect(result.moonsAccuracy > 0.8)
        #expect(result.digitsTestAccuracy > 0.85)
        #expect(result.digitsHistory.count == config.epochs)
        let metrics = try JSONValue.parse(readTextFile(joinPath(config.out, "metrics.json")))
        guard case .object(let document) = metrics, case .array(let history)? = document["history"] else {
            Issue.record("metrics.json has no history"); return
        }
        #expect(history.count == config.epochs)
        for name in ["optimizers.svg", "learning_rates.svg", "logistic_regression.svg", "digits.svg"] {
            let svg = try readTextFile(joinPath(config.out, name))
            #expect(svg.hasPrefix("<svg"))
        }
    }

    @Test func testBadConfigurationThrowsAClearError() {
        var config = Week02Config(quick: true)
        config.rows = 3
        #expect(throws: WorkbookError.self) { try runWeek02(config) }
    }
}
