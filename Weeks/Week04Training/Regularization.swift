// Week 04: weight decay as an L2 term in the loss vs decoupled weight decay.
//
//   L2 in the loss:  L' = L + ½λ‖θ‖²  ->  g' = g + λ·θ, and the optimizer sees g'.
//   Decoupled:       θ ← θ − lr·λ·θ, next to (not inside) the optimizer's step on g.
//
// For plain SGD both give θ ← θ(1 − lr·λ) − lr·g: the same update. Adam divides the gradient
// by √v̂ per weight, so in "Adam + L2" the decay term λ·θ is divided too: weights with large
// gradients are hardly decayed and weights with tiny gradients are decayed very hard. AdamW
// (Loshchilov & Hutter 2017) keeps the decay outside, so every weight shrinks by the same
// factor (1 − lr·λ) per step. `compareWeightDecay` measures both on a toy problem.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// How far apart the two forms of weight decay end up, as ‖θ_L2 − θ_decoupled‖ / ‖θ_L2‖.
struct WeightDecayComparison {
    var steps: Int
    /// SGD with L2 in the gradient vs SGD with decoupled decay: rounding only (~1e-7).
    var sgdDifference: Double
    /// Adam with L2 vs AdamW: a real difference (order 0.1 to 1).
    var adamDifference: Double

    var line: String {
        "weight decay, L2 vs decoupled, \(steps) steps on a toy problem: SGD differ by \(formatScientific(sgdDifference)) (the same update), Adam vs AdamW by \(formatScientific(adamDifference)) (not the same)"
    }
}

/// A toy quadratic L(θ) = ½ Σ_i c_i (θ_i − t_i)² with curvatures c_i spanning 1e-3 to 10,
/// so some weights get large gradients and some tiny ones. Runs `steps` steps of each pair
/// of optimizers from the same start with the same λ and learning rate.
func compareWeightDecay(steps: Int = 50, weightDecay λ: Float = 0.1, seed: UInt64 = 7) -> WeightDecayComparison {
    var rng = SplitMix64(seed: seed)
    let n = 16
    let curvature = (0..<n).map { i in Float(1e-3) * Float(pow(10, Double(i) / Double(n - 1) * 4)) }   // 1e-3 ... 10
    let target = rng.gaussians(n)
    let start = rng.gaussians(n)

    /// Runs `steps` steps of the optimizer `make` builds and returns the final θ.
    func run(_ make: ([Parameter]) -> Optimizer) -> [Float] {
        let theta = Parameter("theta", shape: [n], value: start)
        let optimizer = make([theta])
        for _ in 0..<steps {
            theta.zeroGrad()
            for i in 0..<n { theta.grad[i] += curvature[i] * (theta.value[i] - target[i]) }   // dL/dθ_i
            optimizer.step()
        }
        return theta.value
    }
    func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        var diff = 0.0, norm = 0.0
        for i in 0..<a.count {
            diff += Double(a[i] - b[i]) * Double(a[i] - b[i])
            norm += Double(a[i]) * Double(a[i])
        }
        return (diff / max(norm, 1e-30)).squareRoot()
    }
    let sgdL2 = run { SGD($0, learningRate: 0.1, weightDecay: λ) }
    let sgdDecoupled = run { SGD($0, learningRate: 0.1, weightDecay: λ, decoupled: true) }
    let adamL2 = run { Adam($0, learningRate: 0.1, weightDecay: λ) }
    let adamW = run { AdamW($0, learningRate: 0.1, weightDecay: λ) }
    return WeightDecayComparison(steps: steps, sgdDifference: relativeDifference(sgdL2, sgdDecoupled),
                                 adamDifference: relativeDifference(adamL2, adamW))
}

