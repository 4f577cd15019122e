// Gradient descent and its variants on one problem (linear regression): full batch, SGD,
// mini-batch, momentum; the learning rate's stability limit; divergence detection.
// Week 2; read after the three models. Week 4 moves optimizers into Shared/NN.
// Reference: CS231n optimization notes, https://cs231n.github.io/optimization-1/ and neural-networks-3/
import Shared

/// How to take a step: the batch size decides which examples the gradient is averaged over,
/// momentum (heavy ball) decides how past gradients carry over:
///   v ← μ·v + g,     θ ← θ − η·v          (μ = 0: plain gradient descent, θ ← θ − η·g)
struct OptimizerSetting {
    var name: String
    /// Examples per gradient: N (full batch), 1 (SGD) or in between (mini-batch).
    var batchSize: Int
    var learningRate: Float
    var momentum: Float = 0
}

/// Per-parameter-buffer velocity for momentum, one buffer for the weight and one for the bias.
struct MomentumState {
    var weightVelocity: [Float]
    var biasVelocity: [Float]

    init(weightCount: Int, biasCount: Int) {
        weightVelocity = [Float](repeating: 0, count: weightCount)
        biasVelocity = [Float](repeating: 0, count: biasCount)
    }

    /// v ← μ·v + g,  θ ← θ − η·v, for the weight and the bias. With μ = 0 this is exactly
    /// θ ← θ − η·g. weight, dWeight: (P)   bias, dBias: (Q).
    mutating func step(weight: inout [Float], bias: inout [Float], gradients g: ModelGradients,
                       learningRate lr: Float, momentum mu: Float) {
        // Shared/Kernels/Momentum.swift: v ← μ·v + g;  θ ← θ − η·v
        momentumUpdate(&weight, velocity: &weightVelocity, gradients: g.dWeight, learningRate: lr, momentum: mu)
        momentumUpdate(&bias, velocity: &biasVelocity, gradients: g.dBias, learningRate: lr, momentum: mu)
    }
}

/// A training loss is "diverged" when it is no longer a finite number or has grown this many
/// times above where it started: gradient descent with too large a step overshoots further
/// every step, so the loss grows geometrically and reaches inf, then NaN, within a few hundred
/// steps. We stop there and report it instead of printing NaN.
let divergenceFactor = 1e6

/// True if `loss` counts as diverged relative to the loss at the start of training.
func hasDiverged(_ loss: Double, initialLoss: Double) -> Bool {
    !loss.isFinite || loss > divergenceFactor * max(initialLoss, 1e-12)
}

/// One optimizer's run on the regression problem: the loss on the whole training set, recorded
/// every `recordEvery` steps, against the step and against the number of examples seen.
struct OptimizerRun {
    var setting: OptimizerSetting
    var steps: [Int] = [], examplesSeen: [Int] = [], losses: [Double] = []
    /// Step at which the loss diverged (training stopped there), nil if it did not.
    var divergedAtStep: Int?
    var model: LinearRegression
    /// The full-data loss at the end (the last finite value recorded when it diverged).
    var finalLoss: Double { losses.last ?? .nan }
}

/// Trains linear regression on x: (N, D), y: (N) for `steps` steps with `setting`, shuffling
/// the examples every pass (epoch) for SGD and mini-batches. Stops early on divergence.
func trainLinearRegression(x: [Float], y: [Float], rows N: Int, features D: Int,
                           setting: OptimizerSetting, steps: Int, recordEvery: Int,
                           rng: inout SplitMix64) -> OptimizerRun {
    var model = LinearRegression(features: D)
    var state = MomentumState(weightCount: D, biasCount: 1)
    var run = OptimizerRun(setting: setting, model: model)
    let initialLoss = model.loss(x, targets: y, rows: N)
    let B = min(setting.batchSize, N)
    var order = Array(0..<N), position = N               // position == N: reshuffle first
    for step in 0...steps {
        if step % recordEvery == 0 || step == steps {
            let loss = model.loss(x, targets: y, rows: N)
            if hasDiverged(loss, initialLoss: initialLoss) {
                run.divergedAtStep = step
                break
            }
            run.steps.append(step)
            run.examplesSeen.append(step * B)
            run.losses.append(loss)
        }
        if step == steps { break }
        // The batch: everything (full batch), or the next B examples of a shuffled pass.
        let g: ModelGradients
        if B == N {
            g = model.lossAndGradients(x, targets: y, rows: N)
        } else {
            if position + B > N { rng.shuffle(&order); position = 0 }
            let batch = Array(order[position ..< position + B])
            position += B
            g = model.lossAndGradients(gatherRows(x, rows: batch, width: D), targets: batch.map { y[$0] }, rows: B)
        }
        if hasDiverged(g.loss, initialLoss: initialLoss) {
            run.divergedAtStep = step
            break
        }
        state.step(weight: &model.weight, bias: &model.bias, gradients: g,
                   learningRate: setting.learningRate, momentum: setting.momentum)
    }
    run.model = model
    return run
}

/// The largest eigenvalue of the MSE loss's Hessian, H = (2/N)·[x 1]ᵀ[x 1] ((D+1)×(D+1)), by
/// power iteration in Double. Full-batch gradient descent on this quadratic converges exactly
/// when η < 2/λ_max: along the top eigenvector each step multiplies the error by (1 − η·λ_max),
/// whose size exceeds 1 beyond that limit. That is the "too large" learning rate, made precise.
func largestHessianEigenvalue(_ x: [Float], rows N: Int, features D: Int, iterations: Int = 100) -> Double {
    let P = D + 1
    func feature(_ n: Int, _ d: Int) -> Double { d == D ? 1 : Double(x[n * D + d]) }
    var H = [Double](repeating: 0, count: P * P)
    for n in 0..<N {
        for i in 0..<P { for j in 0..<P { H[i * P + j] += 2 * feature(n, i) * feature(n, j) / Double(N) } }
    }
    var v = [Double](repeating: 1, count: P), lambda = 0.0
    for _ in 0..<iterations {
        var hv = [Double](repeating: 0, count: P)
        for i in 0..<P { for j in 0..<P { hv[i] += H[i * P + j] * v[j] } }
        let norm = hv.reduce(0) { $0 + $1 * $1 }.squareRoot()
        lambda = norm / v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = hv.map { $0 / norm }
    }
    return lambda
}
