// Correctness against week 3: the module-based MLP (Sequential of Linear/ReLU, CrossEntropyLoss,
// SGD) and week 3's explicit MLP (mlpForward/mlpBackward/mlpUpdate) start from the same seed,
// see the same batches in the same order and take plain SGD steps. Their loss histories must
// agree to 1e-5 at every step: the abstractions change how the code reads, not what it computes.
import Testing
import Shared
@testable import Week03MLP
@testable import Week04Training

@Suite struct Week04MatchesWeek03Tests {
    @Test func moduleMLPFollowsTheExplicitMLPStepForStep() throws {
        let sizes = [64, 32, 16, 10], seed: UInt64 = 11, lr: Float = 0.1
        // The same seed draws the same He weights in the same order.
        var rng3 = SplitMix64(seed: seed)
        let explicit = MLP(layerSizes: sizes, activation: .relu, initialization: .he, rng: &rng3)
        var rng4 = SplitMix64(seed: seed)
        let modules = makeMLP(sizes: sizes, activation: "relu", dropout: 0, rng: &rng4, dropoutSeed: 0)
        let linears = modules.layers.compactMap { $0 as? Linear }
        #expect(linears.map(\.weight.value) == explicit.weights)

        let digits = try Digits.load()
        let loader = DataLoader(digits, batchSize: 50, shuffle: true)   // 1797 = 35 × 50 + 47: a smaller last batch too
        let optimizer = SGD(modules.parameters, learningRate: lr)
        let criterion = CrossEntropyLoss()
        let pool = WorkspacePool(layerSizes: sizes)
        var order = SplitMix64(seed: 5)
        var explicitLosses: [Double] = [], moduleLosses: [Double] = []
        for _ in 0..<3 {
            for batch in loader.epoch(rng: &order) {
                // Week 3: gather, forward, loss, backward (which overwrites the gradients), update.
                let workspace = pool.workspace(rows: batch.rows)
                workspace.gather(batch.indices[...], pixels: digits.pixels, labels: digits.labels, features: sizes[0])
                mlpForward(explicit, workspace)
                explicitLosses.append(mlpLoss(explicit, workspace))
                mlpLossBackward(explicit, workspace)
                mlpBackward(explicit, workspace)
                mlpUpdate(explicit, learningRate: lr, momentum: 0)
                // Week 4: the same step with modules.
                optimizer.zeroGrad()
                let logits = modules.forward(batch.inputs, rows: batch.rows)
                moduleLosses.append(criterion.forward(logits, targets: batch.labels, rows: batch.rows, classes: 10))
                modules.backward(criterion.backward(), needsInputGradient: false)
                optimizer.step()
            }
        }
        #expect(moduleLosses.count == 3 * 36)
        let worst = zip(explicitLosses, moduleLosses).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5, "largest per-step loss difference \(worst)")
        #expect(moduleLosses.last! < 0.5 * moduleLosses.first!)   // and it did learn
        for (linear, l) in zip(linears, 0...) {
            let difference = zip(linear.weight.value, explicit.weights[l]).map { abs($0 - $1) }.max()!
            #expect(difference <= 1e-5, "layer \(l + 1) weights differ by \(difference)")
        }
    }
}
