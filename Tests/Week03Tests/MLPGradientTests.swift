// Gradient checks of the whole MLP backward (Weeks/Week03MLP/MLP.swift): every weight and bias
// of a small network against centered finite differences through the real forward pass.
import Testing
import Shared
@testable import Week03MLP

@Suite struct Week03MLPGradientTests {
    /// A 7-6-5-4 network on 3 examples: non-square layers and a batch > 1 catch transposes.
    static let sizes = [7, 6, 5, 4]
    static let rows = 3

    /// Builds the model and a workspace holding seeded inputs and labels. Biases get small
    /// random values too, so their gradients are not trivially symmetric.
    func makeNetwork(_ activation: Activation, seed: UInt64) -> (MLP, MLPWorkspace) {
        var rng = SplitMix64(seed: seed)
        let model = MLP(layerSizes: Self.sizes, activation: activation,
                        initialization: activation == .relu ? .he : .xavier, rng: &rng)
        for l in 0..<model.layerCount {
            model.biases[l] = rng.gaussians(model.biases[l].count, std: 0.1)
        }
        let workspace = MLPWorkspace(rows: Self.rows, layerSizes: Self.sizes)
        workspace.input = rng.gaussians(Self.rows * Self.sizes[0])
        for r in 0..<Self.rows { workspace.labels[r] = rng.int(below: Self.sizes.last!) }
        return (model, workspace)
    }

    /// Checks dW and db of every layer against numeric gradients of `loss`.
    func checkEveryParameter(_ model: MLP, loss: () -> Double) -> [GradientCheckResult] {
        var results: [GradientCheckResult] = []
        for l in 0..<model.layerCount {
            let numericWeight = numericGradient(count: model.weights[l].count,
                                                get: { model.weights[l][$0] },
                                                set: { model.weights[l][$0] = $1 }, loss: loss)
            results.append(checkGradient("dW\(l)", analytic: model.dWeights[l], numeric: numericWeight))
            let numericBias = numericGradient(count: model.biases[l].count,
                                              get: { model.biases[l][$0] },
                                              set: { model.biases[l][$0] = $1 }, loss: loss)
            results.append(checkGradient("db\(l)", analytic: model.dBiases[l], numeric: numericBias))
        }
        return results
    }

    @Test(arguments: Activation.allCases)
    func backwardFromCrossEntropyMatchesNumericGradient(_ activation: Activation) {
        let (model, workspace) = makeNetwork(activation, seed: 42)
        model.zeroGradients()
        mlpForward(model, workspace)
        _ = mlpLoss(model, workspace)
        mlpLossBackward(model, workspace)
        mlpBackward(model, workspace)
        let results = checkEveryParameter(model) {
            mlpForward(model, workspace)
            return mlpLoss(model, workspace)
        }
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test(arguments: Activation.allCases)
    func backwardFromSeededDOutMatchesNumericGradient(_ activation: Activation) {
        // L = Σ logits ⊙ dOut for a seeded random dOut: checks the layers without the loss.
        let (model, workspace) = makeNetwork(activation, seed: 7)
        var rng = SplitMix64(seed: 99)
        let dOut = rng.gaussians(Self.rows * Self.sizes.last!)
        model.zeroGradients()
        mlpForward(model, workspace)
        workspace.dPreActivations[model.layerCount - 1] = dOut
        mlpBackward(model, workspace)
        let results = checkEveryParameter(model) {
            mlpForward(model, workspace)
            return projected(workspace.logits, onto: dOut)
        }
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func backwardAddsIntoGradients() {
        // Two backward passes without zeroing give exactly twice the gradient.
        let (model, workspace) = makeNetwork(.tanh, seed: 3)
        model.zeroGradients()
        mlpForward(model, workspace)
        _ = mlpLoss(model, workspace)
        mlpLossBackward(model, workspace)
        mlpBackward(model, workspace)
        let once = model.dWeights
        mlpLossBackward(model, workspace)
        mlpBackward(model, workspace)
        for l in 0..<model.layerCount {
            for i in once[l].indices { #expect(model.dWeights[l][i] == 2 * once[l][i]) }
        }
    }
}
