// Optimizer updates and gradient clipping: known answers worked out by hand.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct OptimizerTests {
    @Test func sgdStepsAgainstTheGradient() {
        var theta: [Float] = [1, -2]
        sgdUpdate(&theta, gradients: [0.5, 1], learningRate: 0.1)
        #expect(theta == [0.95, -2.1])
        // L2 weight decay folded into the gradient: 0.95 − 0.1·(0.5 + 0.1·0.95) = 0.8905
        sgdUpdate(&theta, gradients: [0.5, 1], learningRate: 0.1, weightDecay: 0.1)
        #expect(abs(theta[0] - 0.8905) < 1e-6 && abs(theta[1] - (-2.1 - 0.1 * (1 - 0.21))) < 1e-6)
    }

    @Test func momentumAndNesterovByHand() {
        // θ = 0, g = 1 twice, lr 0.1, μ 0.9.
        // plain:    v = 1,   θ = −0.1;    v = 1.9,   θ = −0.1 − 0.19 = −0.29
        // Nesterov: v = 1, step g + μv = 1.9, θ = −0.19;  v = 1.9, step 1 + 1.71 = 2.71, θ = −0.461
        var plain: [Float] = [0], plainVelocity: [Float] = [0]
        var nesterov: [Float] = [0], nesterovVelocity: [Float] = [0]
        var plainAfter: [Float] = [], nesterovAfter: [Float] = []
        for _ in 0..<2 {
            momentumUpdate(&plain, velocity: &plainVelocity, gradients: [1], learningRate: 0.1, momentum: 0.9)
            momentumUpdate(&nesterov, velocity: &nesterovVelocity, gradients: [1], learningRate: 0.1,
                           momentum: 0.9, nesterov: true)
            plainAfter.append(plain[0]); nesterovAfter.append(nesterov[0])
        }
        #expect(KernelCheck.maxDifference(plainAfter, [-0.1, -0.29]) < 1e-6)
        #expect(KernelCheck.maxDifference(nesterovAfter, [-0.19, -0.461]) < 1e-6)
        #expect(abs(plainVelocity[0] - 1.9) < 1e-6 && abs(nesterovVelocity[0] - 1.9) < 1e-6)
    }

    /// Three AdamW steps (lr 0.1, β₁ 0.9, β₂ 0.999, eps 1e-8, weight decay 0.1) on two weights,
    /// worked out by hand:
    ///   step 1, θ = 1, g = 0.5: decay θ → 0.99; m = 0.05, v = 0.00025; m̂ = 0.05/0.1 = 0.5,
    ///     v̂ = 0.00025/0.001 = 0.25; θ → 0.99 − 0.1·0.5/0.5 = 0.89 (Adam's first step is ≈ lr).
    ///   step 1, θ = −2, g = 0: m = v = 0, so only the decoupled decay acts: θ → −1.98.
    ///   step 2, g = −0.2 and 1; step 3, g = 0.1 and −3: the same formulas, with 1 − 0.9ᵗ and
    ///     1 − 0.999ᵗ as bias corrections (m̂ = 0.025/0.19 at step 2, for example).
    @Test func adamWThreeStepsMatchHandComputation() {
        var theta: [Float] = [1, -2], m: [Float] = [0, 0], v: [Float] = [0, 0]
        let gradients: [[Float]] = [[0.5, 0], [-0.2, 1], [0.1, -3]]
        let expectedTheta: [[Float]] = [[0.89, -1.98],
                                        [0.8465394181, -2.0346136813],
                                        [0.8001348466, -1.9718431980]]
        let expectedM: [[Float]] = [[0.05, 0], [0.025, 0.1], [0.0325, -0.21]]
        let expectedV: [[Float]] = [[0.00025, 0], [0.00028975, 0.001], [0.00029946025, 0.009999]]
        for t in 1...3 {
            adamWUpdate(&theta, firstMoment: &m, secondMoment: &v, gradients: gradients[t - 1], step: t,
                        learningRate: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1)
            #expect(KernelCheck.maxDifference(theta, expectedTheta[t - 1]) < 2e-6, "step \(t): \(theta)")
            #expect(KernelCheck.maxDifference(m, expectedM[t - 1]) < 1e-7, "step \(t)")
            // 1 − β₂ in Float32 is 0.000999987 (β₂ = 0.999 is not exact in binary), so v
            // carries a relative error of about 1e-5 against the decimal hand values.
            #expect(KernelCheck.maxDifference(v, expectedV[t - 1]) < 2e-7, "step \(t)")
        }
    }

    @Test func adamCouplesDecayThroughTheGradientAndEqualsAdamWWithoutDecay() {
        // Adam with L2 decay 0.1 at θ = 1, g = 0: the gradient becomes 0.1, and the first
        // bias-corrected step is lr·0.1/0.1 = lr, so θ = 0.9 (AdamW would give 0.99).
        var theta: [Float] = [1], m: [Float] = [0], v: [Float] = [0]
        adamUpdate(&theta, firstMoment: &m, secondMoment: &v, gradients: [0], step: 1,
                   learningRate: 0.1, weightDecay: 0.1)
        #expect(abs(theta[0] - 0.9) < 1e-6)
        // with no decay, Adam and AdamW are the same update, bit for bit
        var rng = SplitMix64(seed: 91)
        let start = rng.gaussians(37)
        var a = start, b = start, ma = KernelCheck.zeros(37), va = ma, mb = ma, vb = ma
        for t in 1...3 {
            let g = rng.gaussians(37)
            adamUpdate(&a, firstMoment: &ma, secondMoment: &va, gradients: g, step: t, learningRate: 0.01)
            adamWUpdate(&b, firstMoment: &mb, secondMoment: &vb, gradients: g, step: t, learningRate: 0.01,
                        weightDecay: 0)
        }
        #expect(a == b)
    }

    @Test func gradientNormAndClipping() {
        var gradients: [[Float]] = [[3], [4, 0]]            // joint norm √(9 + 16) = 5
        #expect(gradientNorm(gradients) == 5)
        let untouched = clipGradients(&gradients, maxNorm: 10)
        #expect(untouched == 5 && gradients == [[3], [4, 0]])
        let before = clipGradients(&gradients, maxNorm: 1)
        #expect(before == 5)
        #expect(abs(gradients[0][0] - 0.6) < 1e-6 && abs(gradients[1][0] - 0.8) < 1e-6)
        #expect(abs(gradientNorm(gradients) - 1) < 1e-5)    // direction kept, norm now maxNorm
        #expect(clipScale(norm: 0, maxNorm: 1) == 1)
    }

    @Test("sumOfSquares (16 running sums) matches a plain Double loop", arguments: [0, 1, 15, 16, 17, 33, 1000, 100_003])
    func sumOfSquaresMatchesNaive(count: Int) {
        var rng = SplitMix64(seed: UInt64(count) + 1)
        let values = rng.gaussians(count, std: 3)
        var want = 0.0
        for value in values { want += Double(value) * Double(value) }
        let got = sumOfSquares(values)
        #expect(abs(got - want) <= 1e-12 * max(want, 1), "count \(count): \(got) vs \(want)")
    }

    @Test func sameInputsGiveBitIdenticalUpdates() {
        var rng = SplitMix64(seed: 92)
        let start = rng.gaussians(100), g = rng.gaussians(100)
        var runs: [[Float]] = []
        for _ in 0..<2 {
            var theta = start, m = KernelCheck.zeros(100), v = KernelCheck.zeros(100)
            for t in 1...5 {
                adamWUpdate(&theta, firstMoment: &m, secondMoment: &v, gradients: g, step: t, learningRate: 1e-3)
            }
            runs.append(theta)
        }
        #expect(runs[0] == runs[1])
    }
}
