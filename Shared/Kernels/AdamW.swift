// Adam and AdamW (weeks 4-10): per-parameter step sizes from running averages of the
// gradient (m) and its square (v), bias-corrected for their zero start. AdamW applies weight
// decay directly to the weights ("decoupled") instead of through the gradient.
// Reference: Kingma & Ba https://arxiv.org/abs/1412.6980, Loshchilov & Hutter
// https://arxiv.org/abs/1711.05101, https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One AdamW step, elementwise over n values (PyTorch's AdamW):
///   θ ← θ − lr·λ·θ                                (decoupled weight decay λ)
///   m ← β₁·m + (1 − β₁)·g                         v ← β₂·v + (1 − β₂)·g²
///   m̂ = m / (1 − β₁ᵗ)     v̂ = v / (1 − β₂ᵗ)        (bias correction: m, v start at 0)
///   θ ← θ − lr · m̂ / (√v̂ + eps)
///   parameters, firstMoment m, secondMoment v, gradients: (n values); m and v start at 0 and
///   are updated in place.   step t: 1 on the first update.
/// The four pointers may be slices of flat arenas (parameters, gradients and moments laid
/// out alike): call it once per slice with that slice's weightDecay, e.g. λ for the matrices
/// and 0 for gains and biases. Every value is updated on its own, so slicing changes nothing.
public func adamWUpdate(_ parameters: UnsafeMutablePointer<Float>, firstMoment: UnsafeMutablePointer<Float>,
                        secondMoment: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                        count n: Int, step t: Int, learningRate: Float, beta1: Float = 0.9,
                        beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) {
    adamStep(parameters, firstMoment, secondMoment, gradients, count: n, step: t,
             learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
             weightDecay: weightDecay, decoupled: true)
}

/// Array form of `adamWUpdate`: all four arrays the same count.
public func adamWUpdate(_ parameters: inout [Float], firstMoment: inout [Float],
                        secondMoment: inout [Float], gradients: [Float], step t: Int,
                        learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                        eps: Float = 1e-8, weightDecay: Float = 0.01) {
    requireAdamCounts(parameters, firstMoment, secondMoment, gradients)
    adamWUpdate(&parameters, firstMoment: &firstMoment, secondMoment: &secondMoment,
                gradients: gradients, count: parameters.count, step: t, learningRate: learningRate,
                beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
}

/// One Adam step (PyTorch's Adam): as `adamWUpdate`, except that weight decay λ is an L2
/// penalty added to the gradient (g ← g + λ·θ) before the moments. weightDecay 0 (the
/// default) is plain Adam, identical to AdamW with weightDecay 0.
///   parameters, firstMoment, secondMoment, gradients: (n values), as `adamWUpdate`.
public func adamUpdate(_ parameters: UnsafeMutablePointer<Float>, firstMoment: UnsafeMutablePointer<Float>,
                       secondMoment: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                       count n: Int, step t: Int, learningRate: Float, beta1: Float = 0.9,
                       beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
    adamStep(parameters, firstMoment, secondMoment, gradients, count: n, step: t,
             learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
             weightDecay: weightDecay, decoupled: false)
}

/// Array form of `adamUpdate`: all four arrays the same count.
public func adamUpdate(_ parameters: inout [Float], firstMoment: inout [Float],
                       secondMoment: inout [Float], gradients: [Float], step t: Int,
                       learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                       eps: Float = 1e-8, weightDecay: Float = 0) {
    requireAdamCounts(parameters, firstMoment, secondMoment, gradients)
    adamUpdate(&parameters, firstMoment: &firstMoment, secondMoment: &secondMoment,
               gradients: gradients, count: parameters.count, step: t, learningRate: learningRate,
               beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
}

private func requireAdamCounts(_ parameters: [Float], _ firstMoment: [Float],
                               _ secondMoment: [Float], _ gradients: [Float]) {
    requireCount(firstMoment, parameters.count, "adamUpdate: firstMoment")
    requireCount(secondMoment, parameters.count, "adamUpdate: secondMoment")
    requireCount(gradients, parameters.count, "adamUpdate: gradients")
}

private func adamStep(_ p: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                      _ v: UnsafeMutablePointer<Float>, _ gb: UnsafePointer<Float>, count n: Int,
                      step t: Int, learningRate lr: Float, beta1: Float, beta2: Float, eps: Float,
                      weightDecay: Float, decoupled: Bool) {
    precondition(t >= 1, "adamUpdate: step counts from 1, got \(t)")
    precondition(n >= 0, "adamUpdate: negative count \(n)")
    // bias corrections 1 − βᵗ, once per step (in Double: βᵗ for large t is fine either way)
    let correction1 = Float(1 - pow(Double(beta1), Double(t)))
    let correction2 = Float(1 - pow(Double(beta2), Double(t)))
    let decayFactor = decoupled ? 1 - lr * weightDecay : 1
    let l2 = decoupled ? 0 : weightDecay
    // A plain loop over plain pointers held in constants: the compiler vectorises it (square
    // roots included, thanks to -fno-math-errno in Package.swift). Large buffers are split
    // across threads (parallelRanges).
    parallelRanges(n) { range in
        for i in range {
            let g = gb[i] + l2 * p[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            let mHat = m[i] / correction1
            let vHat = v[i] / correction2
            p[i] = p[i] * decayFactor - lr * mHat / (vHat.squareRoot() + eps)
        }
    }
}
