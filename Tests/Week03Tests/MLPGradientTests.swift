// Gradient checks of the whole MLP backward (Weeks/Week03MLP/MLP.swift): every weight and bias
// of a small network against centered finite differences through the real forward pass.
import Testing
import Shared
@testable import Week03MLP

@Suite struct Week03MLPGradientTests {
    @Test(arguments: Activation.allCases)
    func backwardFromCrossEntropyMatchesNumericGradient(_ activation: Activation) {
        // 7-6-5-4 on 3 examples: non-square layers and a batch > 1 catch transposes.
        let results = checkMLPBackward(activation: activation, seed: 42)
        #expect(results.count == 6)   // dW and db of 3 layers
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func deeperNetworkWithOtherShapesMatchesNumericGradient() {
        let results = checkMLPBackward(activation: .tanh, layerSizes: [5, 9, 3, 4, 2], rows: 4, seed: 5)
        #expect(results.count == 8)
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test(arguments: Activation.allCases)
    func backwardFromSeededDOutMatchesNumericGradient(_ activation: Activation) {
        // L = Σ logits ⊙ dOut for a seeded random dOut: checks the layers without the loss.
        let sizes = [7, 6, 5, 4], rows = 3
        var rng = SplitMix64(seed: 7)
        let model = MLP(layerSizes: sizes, activation: activation,
                        initialization: activation == .relu ? .he : .xavier, rng: &rng)
        for l in 0..<model.layerCount { model.biases[l] = rng.gaussians(model.biases[l].count, std: 0.1) }
        let workspace = MLPWorkspace(rows: rows, layerSizes: sizes)
        workspace.input = rng.gaussians(rows * sizes[0])
        let dOut = rng.gaussians(rows * sizes.last!)
        mlpForward(model, workspace)
        workspace.dPreActivations[model.layerCount - 1] = dOut
        mlpBackward(model, workspace)
        let loss = { () -> Double in
            mlpForward(model, workspace)
            return projected(workspace.logits, onto: dOut)
        }
        for l in 0..<model.layerCount {
            let numericWeight = numericGradient(count: model.weights[l].count, get: { model.weights[l][$0] },
                                                set: { model.weights[l][$0] = $1 }, loss: loss)
            let weightCheck = checkGradient("dW\(l + 1)", analytic: model.dWeights[l], numeric: numericWeight)
            #expect(weightCheck.passed, "\(weightCheck)")
            let numericBias = numericGradient(count: model.biases[l].count, get: { model.biases[l][$0] },
                                              set: { model.biases[l][$0] = $1 }, loss: loss)
            let biasCheck = checkGradient("db\(l + 1)", analytic: model.dBiases[l], numeric: numericBias)
            #expect(biasCheck.passed, "\(biasCheck)")
        }
    }

    @Test func backwardOverwritesGradients() {
        // NumPy style: a second backward pass over the same batch gives the same gradients,
        // not twice them, even when they held garbage before.
        let sizes = [4, 3, 2]
        var rng = SplitMix64(seed: 3)
        let model = MLP(layerSizes: sizes, activation: .tanh, initialization: .xavier, rng: &rng)
        let workspace = MLPWorkspace(rows: 2, layerSizes: sizes)
        workspace.input = rng.gaussians(2 * 4)
        workspace.labels = [1, 0]
        mlpForward(model, workspace)
        _ = mlpLoss(model, workspace)
        mlpLossBackward(model, workspace)
        mlpBackward(model, workspace)
        let once = (model.dWeights, model.dBiases)
        #expect(once.0.allSatisfy { $0.contains { $0 != 0 } })
        for l in 0..<model.layerCount {
            model.dWeights[l] = [Float](repeating: .nan, count: model.dWeights[l].count)
            model.dBiases[l] = [Float](repeating: 7, count: model.dBiases[l].count)
        }
        mlpLossBackward(model, workspace)
        mlpBackward(model, workspace)
        #expect(model.dWeights == once.0)
        #expect(model.dBiases == once.1)
    }

    @Test func zeroInitialisationKeepsHiddenUnitsIdentical() {
        // Symmetry: with zero weights every hidden unit gets the same gradient, so after SGD
        // steps they are still equal (spread 0), while a He-initialised net's units differ.
        var rng = SplitMix64(seed: 1)
        let sizes = [6, 5, 4, 3]
        let zero = MLP(layerSizes: sizes, activation: .sigmoid, initialization: .zero, rng: &rng)
        let workspace = MLPWorkspace(rows: 4, layerSizes: sizes)
        workspace.input = rng.gaussians(4 * 6)
        workspace.labels = [0, 1, 2, 1]
        for _ in 0..<5 {
            mlpForward(zero, workspace)
            _ = mlpLoss(zero, workspace)
            mlpLossBackward(zero, workspace)
            mlpBackward(zero, workspace)
            mlpUpdate(zero, learningRate: 0.5, momentum: 0.9)
        }
        #expect(hiddenUnitSpread(zero) == 0)
        #expect(zero.weights[1].contains { $0 != 0 })   // they did learn, all the same thing
        let he = MLP(layerSizes: sizes, activation: .relu, initialization: .he, rng: &rng)
        #expect(hiddenUnitSpread(he) > 0.1)
    }
}
