// Gradient checks of every module type (Linear, ReLU, GELU, Tanh, Dropout with a fixed
// mask) and of the Sequential container, plus the behaviour of Dropout and the data loader.
import Foundation
import Testing
import Shared
@testable import Week04Training

@Suite struct Week04ModuleTests {
    @Test func everyModuleAndTheSequentialMatchFiniteDifferences() {
        let results = checkWeek04Modules(seed: 42)
        // Linear: dX, dW, db; ReLU, GELU, Tanh, Dropout: dX; Sequential: dX + 3 × (dW, db).
        #expect(results.count == 3 + 4 + 7)
        for name in ["Linear dX", "Linear dlinear.weight", "Linear dlinear.bias", "ReLU dX", "GELU dX", "Tanh dX",
                     "Dropout dX", "Sequential dX", "Sequential dfc1.weight", "Sequential dfc3.bias"] {
            #expect(results.contains { $0.name == name }, "no check named \(name)")
        }
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func checksPassForOtherSeeds(_ seed: UInt64) {
        for result in checkWeek04Modules(seed: seed) { #expect(result.passed, "\(result)") }
    }

    /// A seeded bug: tanh' taken at the input (1 − x²) instead of the output (1 − y²).
    final class TanhWithWrongDerivative: Module {
        var isTraining = true
        var parameters: [Parameter] { [] }
        private var input: [Float] = []
        func forward(_ x: [Float], rows: Int) -> [Float] {
            input = x
            return x.map { Float(Foundation.tanh(Double($0))) }
        }
        func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
            zip(dOut, input).map { g, x in g * (1 - x * x) }
        }
    }

    @Test func aWrongBackwardFailsTheCheck() {
        // So the checks above can fail at all.
        var rng = SplitMix64(seed: 9)
        let results = checkModule("broken tanh", TanhWithWrongDerivative(), x: rng.gaussians(15), rows: 3,
                                  outCount: 15, seed: 1)
        #expect(results.count == 1 && !results[0].passed, "\(results)")
    }

    @Test func backwardAddsIntoParameterGradients() {
        var rng = SplitMix64(seed: 4)
        let model = Sequential([Linear(3, 4, name: "a", rng: &rng), Tanh(), Linear(4, 2, name: "b", rng: &rng)])
        let x = rng.gaussians(6), dOut = rng.gaussians(4)
        model.zeroGrad()
        _ = model.forward(x, rows: 2)
        model.backward(dOut)
        let once = model.parameters.map(\.grad)
        _ = model.forward(x, rows: 2)
        model.backward(dOut)
        for (p, g) in zip(model.parameters, once) {
            for i in 0..<g.count { #expect(abs(p.grad[i] - 2 * g[i]) <= 1e-6 * max(1, abs(g[i]))) }
        }
        #expect(model.parameterCount == 3 * 4 + 4 + 4 * 2 + 2)
    }

    @Test func firstLayerCanSkipItsInputGradientWithoutChangingParameterGradients() {
        var rng = SplitMix64(seed: 5)
        let model = Sequential([Linear(6, 5, name: "a", rng: &rng), ReLU(), Linear(5, 3, name: "b", rng: &rng)])
        let x = rng.gaussians(12), dOut = rng.gaussians(6)
        model.zeroGrad()
        _ = model.forward(x, rows: 2)
        let dX = model.backward(dOut, needsInputGradient: true)
        let full = model.parameters.map(\.grad)
        model.zeroGrad()
        _ = model.forward(x, rows: 2)
        let skipped = model.backward(dOut, needsInputGradient: false)
        #expect(dX.count == 12 && skipped.isEmpty)
        #expect(model.parameters.map(\.grad) == full)
    }

    @Test func dropoutIsInvertedAndOffInEvaluation() {
        let dropout = Dropout(probability: 0.25, seed: 3)
        let x = [Float](repeating: 1, count: 20_000)
        let out = dropout.forward(x, rows: 100)
        let dropped = out.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / 20_000 - 0.25) < 0.02, "dropped \(dropped)")
        #expect(out.allSatisfy { $0 == 0 || abs($0 - 4 / 3) < 1e-6 })              // survivors scaled by 1/(1 − p)
        #expect(abs(out.reduce(0, +) / 20_000 - 1) < 0.03)                         // the mean is kept
        let dX = dropout.backward([Float](repeating: 1, count: 20_000))
        #expect(dX == out)                                                         // the same mask
        dropout.eval()
        #expect(dropout.forward(x, rows: 100) == x)
        #expect(dropout.backward(x) == x)
        // The same seed draws the same mask.
        let again = Dropout(probability: 0.25, seed: 3)
        #expect(again.forward(x, rows: 100) == out)
    }

    @Test func sequentialSwitchesEveryLayerBetweenTrainAndEval() {
        var rng = SplitMix64(seed: 6)
        let model = makeMLP(sizes: [4, 8, 3], activation: "gelu", dropout: 0.5, rng: &rng, dropoutSeed: 1)
        #expect(model.layers.count == 4)   // Linear, GELU, Dropout, Linear
        let x = rng.gaussians(8)
        model.eval()
        #expect(model.layers.allSatisfy { !$0.isTraining })
        #expect(model.forward(x, rows: 2) == model.forward(x, rows: 2))            // deterministic in eval
        model.train()
        #expect(model.layers.allSatisfy { $0.isTraining })
        #expect(model.forward(x, rows: 2) != model.forward(x, rows: 2))            // fresh masks in training
    }

    @Test func dataLoaderVisitsEveryExampleOnceInASeededOrder() {
        let count = 103, features = 2
        let inputs = (0..<(count * features)).map(Float.init), labels = (0..<count).map { $0 % 10 }
        let loader = DataLoader(inputs: inputs, labels: labels, features: features, batchSize: 10)
        #expect(loader.batchCount == 11)
        var rng = SplitMix64(seed: 1)
        let batches = Array(loader.epoch(rng: &rng))
        #expect(batches.map(\.rows) == [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3])
        let seen = batches.flatMap(\.indices)
        #expect(seen.sorted() == Array(0..<count) && seen != Array(0..<count))
        for batch in batches {
            for (row, index) in batch.indices.enumerated() {
                #expect(batch.inputs[row * 2] == Float(index * 2) && batch.labels[row] == index % 10)
            }
        }
        // The next epoch is another order; the same seed gives the same epochs.
        let second = Array(loader.epoch(rng: &rng)).flatMap(\.indices)
        #expect(second != seen)
        var replay = SplitMix64(seed: 1)
        #expect(Array(loader.epoch(rng: &replay)).flatMap(\.indices) == seen)
        // drop-last: 10 full batches, the 3 left over are skipped.
        let dropping = DataLoader(inputs: inputs, labels: labels, features: features, batchSize: 10, dropLast: true)
        var rng2 = SplitMix64(seed: 1)
        #expect(dropping.batchCount == 10 && Array(dropping.epoch(rng: &rng2)).allSatisfy { $0.rows == 10 })
    }

    @Test func trainValidationSplitIsDisjointAndSeeded() throws {
        let digits = try Digits.load()
        var rng = SplitMix64(seed: 2)
        let (train, validation) = digits.trainValidationSplit(validationFraction: 0.1, rng: &rng)
        #expect(validation.count == 180 && train.count == digits.count - 180)
        var rng2 = SplitMix64(seed: 2)
        #expect(digits.trainValidationSplit(validationFraction: 0.1, rng: &rng2).validation.pixels == validation.pixels)
    }
}
