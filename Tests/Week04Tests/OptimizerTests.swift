// Three steps of each optimizer (Shared/NN/Optimizers.swift) on a tiny problem, against
// values worked out by hand (constant gradient: closed forms) and against an independent
// Double-precision loop (a gradient that depends on θ). Also the schedules and the
// L2-vs-decoupled weight decay comparison of Regularization.swift.
import Foundation
import Testing
import Shared
@testable import Week04Training

@Suite struct Week04OptimizerTests {
    /// θ₀ and a constant gradient g for the closed forms.
    let start: [Float] = [1, -1]
    let gradient: [Float] = [0.5, -2]

    /// Runs `steps` steps of `optimizer` on a parameter with a constant gradient.
    func runConstant(_ make: ([Parameter]) -> Optimizer, steps: Int = 3) -> [Float] {
        let theta = Parameter("theta", shape: [2], value: start)
        let optimizer = make([theta])
        for _ in 0..<steps {
            optimizer.zeroGrad()
            for i in 0..<2 { theta.grad[i] += gradient[i] }
            optimizer.step()
        }
        #expect(optimizer.stepCount == steps)
        return theta.value
    }

    func expectClose(_ actual: [Float], _ expected: [Double], tolerance: Double = 1e-6, _ what: String) {
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) {
            #expect(abs(Double(a) - e) <= tolerance * max(1, abs(e)), "\(what): got \(actual), expected \(expected)")
        }
    }

    @Test func sgdTakesThreeStepsOfLearningRateTimesGradient() {
        // θ₃ = θ₀ − 3·lr·g = [1 − 0.15, −1 + 0.6]
        expectClose(runConstant { SGD($0, learningRate: 0.1) }, [0.85, -0.4], "sgd")
    }

    @Test func momentumAccumulatesVelocity() {
        // v₁ = g, v₂ = (1 + μ)g, v₃ = (1 + μ + μ²)g, so θ₃ = θ₀ − lr·g·(3 + 2μ + μ²) = θ₀ − 0.561·g
        let factor = 0.1 * (3 + 2 * 0.9 + 0.81)
        expectClose(runConstant { SGDMomentum($0, learningRate: 0.1, momentum: 0.9) },
                    [1 - factor * 0.5, -1 + factor * 2], "momentum")
    }

    @Test func nesterovLooksAheadAlongTheVelocity() {
        // step_t = g + μ·v_t:  (1 + μ)g, (1 + μ + μ²)g, (1 + μ + μ² + μ³)g
        //   θ₃ = θ₀ − lr·g·(3 + 3μ + 2μ² + μ³)
        let factor = 0.1 * (3 + 3 * 0.9 + 2 * 0.81 + 0.729)
        expectClose(runConstant { SGDMomentum($0, learningRate: 0.1, momentum: 0.9, nesterov: true) },
                    [1 - factor * 0.5, -1 + factor * 2], "nesterov")
    }

    @Test func adamBiasCorrectionMakesEachStepTheLearningRate() {
        // Constant g: m_t = (1 − β₁ᵗ)·g and v_t = (1 − β₂ᵗ)·g², so after bias correction
        // m̂ = g and v̂ = g² exactly and every step is lr·g/(|g| + ε) ≈ lr·sign(g).
        // Without the correction the first step would be lr·0.1/√0.001 ≈ 3.16·lr.
        let lr = 0.01, eps = 1e-8
        let expected = zip(start, gradient).map { θ, g in
            Double(θ) - 3 * lr * Double(g) / (abs(Double(g)) + eps)
        }
        expectClose(runConstant { Adam($0, learningRate: 0.01) }, expected, "adam")
        // First step alone: exactly lr·sign(g), not 3.16·lr.
        expectClose(runConstant({ Adam($0, learningRate: 0.01) }, steps: 1), [0.99, -0.99], "adam step 1")
    }

    @Test func adamWDecaysTheWeightsOutsideTheAdaptiveStep() {
        // θ_t = θ_{t−1}·(1 − lr·λ) − lr·sign(g)   (m̂/√v̂ = sign(g) as above)
        let lr = 0.01, λ = 0.5
        var expected = start.map(Double.init)
        for _ in 0..<3 {
            for i in 0..<2 {
                expected[i] = expected[i] * (1 - lr * λ) - lr * Double(gradient[i]) / (abs(Double(gradient[i])) + 1e-8)
            }
        }
        expectClose(runConstant { AdamW($0, learningRate: 0.01, weightDecay: 0.5) }, expected, "adamw")
        // A parameter with decays == false (a bias) is not decayed: plain Adam.
        let bias = Parameter("bias", shape: [2], value: start, decays: false)
        let optimizer = AdamW([bias], learningRate: 0.01, weightDecay: 0.5)
        for _ in 0..<3 {
            bias.zeroGrad()
            for i in 0..<2 { bias.grad[i] += gradient[i] }
            optimizer.step()
        }
        expectClose(bias.value, [0.97, -0.97], "adamw on a non-decaying bias")
    }

    /// The reference: SGD / momentum / Adam / AdamW in Double, written from the papers'
    /// formulas, on L(θ) = ½ Σ c_i θ_i² − Σ t_i θ_i, gradient g = c ⊙ θ − t (depends on θ).
    func reference(_ kind: String, steps: Int, lr: Double, λ: Double) -> [Double] {
        let c = [3.0, 0.2, 1.0], t = [0.5, -1.0, 0.25]
        var θ = [1.0, -2.0, 0.5], m = [0.0, 0.0, 0.0], v = [0.0, 0.0, 0.0]
        let β1 = 0.9, β2 = 0.999, ε = 1e-8, μ = 0.9
        for step in 1...steps {
            for i in 0..<3 {
                var g = c[i] * θ[i] - t[i]
                switch kind {
                case "sgd":
                    θ[i] -= lr * (g + λ * θ[i])
                case "momentum":
                    g += λ * θ[i]
                    m[i] = μ * m[i] + g
                    θ[i] -= lr * m[i]
                default:   // adam (L2 in the gradient) or adamw (decoupled)
                    if kind == "adam" { g += λ * θ[i] } else { θ[i] *= 1 - lr * λ }
                    m[i] = β1 * m[i] + (1 - β1) * g
                    v[i] = β2 * v[i] + (1 - β2) * g * g
                    let mHat = m[i] / (1 - pow(β1, Double(step))), vHat = v[i] / (1 - pow(β2, Double(step)))
                    θ[i] -= lr * mHat / (vHat.squareRoot() + ε)
                }
            }
        }
        return θ
    }

    @Test(arguments: ["sgd", "momentum", "adam", "adamw"])
    func threeStepsMatchAnIndependentDoubleComputation(_ kind: String) {
        let c: [Float] = [3, 0.2, 1], t: [Float] = [0.5, -1, 0.25]
        let theta = Parameter("theta", shape: [3], value: [1, -2, 0.5])
        let lr: Float = 0.05, λ: Float = 0.1
        let optimizer: Optimizer
        switch kind {
        case "sgd": optimizer = SGD([theta], learningRate: lr, weightDecay: λ)
        case "momentum": optimizer = SGDMomentum([theta], learningRate: lr, momentum: 0.9, weightDecay: λ)
        case "adam": optimizer = Adam([theta], learningRate: lr, weightDecay: λ)
        default: optimizer = AdamW([theta], learningRate: lr, weightDecay: λ)
        }
        for _ in 0..<3 {
            optimizer.zeroGrad()
            for i in 0..<3 { theta.grad[i] += c[i] * theta.value[i] - t[i] }
            optimizer.step()
        }
        expectClose(theta.value, reference(kind, steps: 3, lr: Double(lr), λ: Double(λ)), tolerance: 2e-6, kind)
    }

    @Test func weightDecayAsL2AgreesUnderSGDAndDiffersUnderAdam() {
        let comparison = compareWeightDecay()
        #expect(comparison.sgdDifference < 1e-5, "SGD L2 vs decoupled: \(comparison.sgdDifference)")
        #expect(comparison.adamDifference > 0.05, "Adam+L2 vs AdamW: \(comparison.adamDifference)")
    }

    @Test func optimizerStateRoundTripsThroughNamedTensors() throws {
        let theta = Parameter("theta", shape: [2], value: start)
        let first = AdamW([theta], learningRate: 0.01)
        for _ in 0..<2 {
            first.zeroGrad()
            for i in 0..<2 { theta.grad[i] += gradient[i] }
            first.step()
        }
        let tensors = Dictionary(uniqueKeysWithValues: first.stateTensors(prefix: "opt.").map { ($0.name, $0) })
        #expect(Set(tensors.keys) == ["opt.m.theta", "opt.v.theta"])
        let second = AdamW([theta], learningRate: 0.01)
        try second.loadState(tensors, prefix: "opt.")
        #expect(second.firstMoments == first.firstMoments && second.secondMoments == first.secondMoments)
        // A state saved by another optimizer is refused with one clear line.
        #expect(throws: CheckpointMismatch.self) { try SGDMomentum([theta], learningRate: 0.1).loadState(tensors, prefix: "opt.") }
    }

    @Test func schedulesHitTheirKnownValues() {
        let step = LearningRateSchedule.stepDecay(lr: 0.1, every: 10, factor: 0.5)
        #expect(step.learningRate(step: 0) == 0.1 && step.learningRate(step: 9) == 0.1)
        #expect(abs(step.learningRate(step: 10) - 0.05) < 1e-9 && abs(step.learningRate(step: 25) - 0.025) < 1e-9)
        let cosine = LearningRateSchedule.cosine(lr: 1, minLR: 0.1, totalSteps: 100)
        #expect(cosine.learningRate(step: 0) == 1)
        #expect(abs(cosine.learningRate(step: 50) - 0.55) < 1e-6)      // halfway: the mean of lr and minLR
        #expect(abs(cosine.learningRate(step: 100) - 0.1) < 1e-6 && abs(cosine.learningRate(step: 500) - 0.1) < 1e-6)
        let warm = LearningRateSchedule.warmupCosine(lr: 1, minLR: 0, warmupSteps: 4, totalSteps: 104)
        #expect(warm.learningRate(step: 0) == 0.25 && warm.learningRate(step: 1) == 0.5 && warm.learningRate(step: 3) == 1)
        #expect(warm.learningRate(step: 4) == 1)                        // the cosine starts at the peak
        #expect(abs(warm.learningRate(step: 54) - 0.5) < 1e-6)          // halfway through the decay
        #expect(abs(warm.learningRate(step: 104)) < 1e-6)
    }

    @Test func clippingScalesAllGradientsByTheGlobalNorm() {
        let a = Parameter("a", shape: [2], value: [0, 0]), b = Parameter("b", shape: [1], value: [0])
        a.grad = [3, 0]
        b.grad = [4]
        let norm = [a, b].clipGradients(maxNorm: 1)
        #expect(norm == 5)
        #expect(abs([a, b].gradientNorm() - 1) < 1e-5)
        #expect(abs(a.grad[0] - 0.6) < 1e-5 && abs(b.grad[0] - 0.8) < 1e-5)
    }
}
