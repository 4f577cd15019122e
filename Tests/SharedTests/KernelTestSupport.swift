// What the kernel tests share: the awkward sizes every kernel is run at, comparisons against
// naive references, and the finite-difference gradient check on the real kernel code path.
import Testing
@testable import Shared

enum KernelCheck {
    /// Sizes that exercise SIMD tails and odd shapes (1, 7, 33, 127) plus a round one.
    static let sizes = [1, 7, 33, 127, 256]

    /// Largest |a_i − b_i|; infinity when the counts differ.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i])) }
        return worst
    }

    /// Gradient check of one input: `analytic` (what the backward added into a zeroed buffer)
    /// against centered differences of L = Σ forward(x) ⊙ dOut around `x`.
    static func check(_ name: String, analytic: [Float], at x: [Float], dOut: [Float],
                      step: Float = 1e-3, forward: ([Float]) -> [Float]) -> GradientCheckResult {
        let numeric = numericGradient(of: { projected(forward($0), onto: dOut) }, at: x, step: step)
        return checkGradient(name, analytic: analytic, numeric: numeric)
    }

    /// Gradient check of a scalar function (a loss) of `x`.
    static func checkScalar(_ name: String, analytic: [Float], at x: [Float], step: Float = 1e-3,
                            loss: ([Float]) -> Double) -> GradientCheckResult {
        let numeric = numericGradient(of: loss, at: x, step: step)
        return checkGradient(name, analytic: analytic, numeric: numeric)
    }

    /// Values in ±[0.1, 1.1] with random sign: away from ReLU's kink at 0.
    static func awayFromZero(_ count: Int, rng: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in
            let magnitude = rng.uniform(0.1, 1.1)
            return rng.uniform() < 0.5 ? -magnitude : magnitude
        }
    }

    static func zeros(_ count: Int) -> [Float] { [Float](repeating: 0, count: count) }
}
