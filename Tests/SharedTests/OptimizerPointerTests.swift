// Adam, AdamW, SGD, momentum, the sum of squares and scaling over pointer ranges: against the
// array forms (the same bits) and the formulas in Double; AdamW on slices of one flat arena.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct OptimizerPointerTests {
    @Test func adamAndAdamWOnArenaSlicesMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 308)
        for n in KernelCheck.pointerSizes + [70_001] {
            let theta = rng.gaussians(n), m0 = rng.gaussians(n, std: 0.1)
            let v0 = rng.uniforms(n, 0, 0.1), g = rng.gaussians(n)
            for decoupled in [true, false] {
                var p = theta, m = m0, v = v0
                let (lr, b1, b2, eps, decay, t): (Float, Float, Float, Float, Float, Int) = (0.01, 0.9, 0.95, 1e-8, 0.1, 3)
                if decoupled {
                    adamWUpdate(&p, firstMoment: &m, secondMoment: &v, gradients: g, step: t,
                                learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: decay)
                } else {
                    adamUpdate(&p, firstMoment: &m, secondMoment: &v, gradients: g, step: t,
                               learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: decay)
                }
                let arena = GuardedArena()
                let pp = arena.floats(theta), pm = arena.floats(m0), pv = arena.floats(v0)
                let pg = arena.floats(g)
                if decoupled {
                    adamWUpdate(pp, firstMoment: pm, secondMoment: pv, gradients: pg, count: n, step: t,
                                learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: decay)
                } else {
                    adamUpdate(pp, firstMoment: pm, secondMoment: pv, gradients: pg, count: n, step: t,
                               learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: decay)
                }
                #expect(KernelCheck.sameBits(values(pp, n), p), "n \(n) decoupled \(decoupled)")
                #expect(KernelCheck.sameBits(values(pm, n), m) && KernelCheck.sameBits(values(pv, n), v))
                #expect(arena.guardsIntact)
                // naive: PyTorch's formulas in Double
                let c1 = 1 - pow(Double(b1), Double(t)), c2 = 1 - pow(Double(b2), Double(t))
                let expected = (0..<n).map { i -> Float in
                    let th = Double(theta[i])
                    let gi = Double(g[i]) + (decoupled ? 0 : Double(decay) * th)
                    let mi = Double(b1) * Double(m0[i]) + (1 - Double(b1)) * gi
                    let vi = Double(b2) * Double(v0[i]) + (1 - Double(b2)) * gi * gi
                    let decayed = decoupled ? th * (1 - Double(lr) * Double(decay)) : th
                    return Float(decayed - Double(lr) * (mi / c1) / ((vi / c2).squareRoot() + Double(eps)))
                }
                #expect(KernelCheck.maxDifference(p, expected) < 1e-5, "n \(n) decoupled \(decoupled)")
            }
        }
    }

    @Test func adamWPerSliceDecayTouchesOnlyItsSlice() {
        // One flat arena [matrix | bias]: decay on the matrix slice, none on the bias slice,
        // the same numbers as two separate arrays updated with their own decay.
        var rng = SplitMix64(seed: 309)
        let (matrix, bias) = (45, 9)
        let theta = rng.gaussians(matrix + bias), grads = rng.gaussians(matrix + bias)
        var w = Array(theta[0..<matrix]), b = Array(theta[matrix...])
        var mw = KernelCheck.zeros(matrix), vw = mw, mb = KernelCheck.zeros(bias), vb = mb
        adamWUpdate(&w, firstMoment: &mw, secondMoment: &vw, gradients: Array(grads[0..<matrix]),
                    step: 1, learningRate: 0.1, weightDecay: 0.5)
        adamWUpdate(&b, firstMoment: &mb, secondMoment: &vb, gradients: Array(grads[matrix...]),
                    step: 1, learningRate: 0.1, weightDecay: 0)
        let arena = GuardedArena()
        let p = arena.floats(theta), g = arena.floats(grads)
        let m = arena.zeros(matrix + bias), v = arena.zeros(matrix + bias)
        adamWUpdate(p, firstMoment: m, secondMoment: v, gradients: g, count: matrix,
                    step: 1, learningRate: 0.1, weightDecay: 0.5)
        adamWUpdate(p + matrix, firstMoment: m + matrix, secondMoment: v + matrix, gradients: g + matrix,
                    count: bias, step: 1, learningRate: 0.1, weightDecay: 0)
        #expect(KernelCheck.sameBits(values(p, matrix + bias), w + b))
        #expect(KernelCheck.sameBits(values(m, matrix + bias), mw + mb) && arena.guardsIntact)
    }

    @Test func sgdAndMomentumPointerFormsMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 310)
        for n in KernelCheck.pointerSizes + [70_001] {
            let theta = rng.gaussians(n), g = rng.gaussians(n), velocity0 = rng.gaussians(n)
            var p = theta
            sgdUpdate(&p, gradients: g, learningRate: 0.1, weightDecay: 0.01)
            var q = theta, velocity = velocity0
            momentumUpdate(&q, velocity: &velocity, gradients: g, learningRate: 0.1, momentum: 0.9,
                           nesterov: true, weightDecay: 0.01)
            let arena = GuardedArena()
            let pp = arena.floats(theta), pq = arena.floats(theta), pv = arena.floats(velocity0)
            let pg = arena.floats(g)
            sgdUpdate(pp, gradients: pg, count: n, learningRate: 0.1, weightDecay: 0.01)
            momentumUpdate(pq, velocity: pv, gradients: pg, count: n, learningRate: 0.1, momentum: 0.9,
                           nesterov: true, weightDecay: 0.01)
            #expect(KernelCheck.sameBits(values(pp, n), p) && KernelCheck.sameBits(values(pq, n), q), "n \(n)")
            #expect(KernelCheck.sameBits(values(pv, n), velocity) && arena.guardsIntact, "n \(n)")
            let expectedSGD = (0..<n).map { theta[$0] - 0.1 * (g[$0] + 0.01 * theta[$0]) }
            let expectedMomentum = (0..<n).map { i -> Float in
                let gi = g[i] + 0.01 * theta[i], vi = 0.9 * velocity0[i] + gi
                return theta[i] - 0.1 * (gi + 0.9 * vi)
            }
            #expect(KernelCheck.maxDifference(p, expectedSGD) < 1e-6)
            #expect(KernelCheck.maxDifference(q, expectedMomentum) < 1e-5)
        }
    }

    @Test func sumOfSquaresAndScaleOnSlicesMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 311)
        for n in KernelCheck.pointerSizes {
            let g = rng.gaussians(n)
            let arena = GuardedArena()
            let pg = arena.floats(g)
            #expect(sumOfSquares(pg, count: n).bitPattern == sumOfSquares(g).bitPattern, "n \(n)")
            let expected = g.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(sumOfSquares(g) - expected) <= 1e-12 * max(1, expected), "n \(n)")
            var scaled = g
            scaleBuffer(&scaled, by: 0.37)
            scaleBuffer(pg, count: n, by: 0.37)
            #expect(KernelCheck.sameBits(values(pg, n), scaled) && arena.guardsIntact)
            #expect(scaled == g.map { $0 * 0.37 })
        }
    }
}
