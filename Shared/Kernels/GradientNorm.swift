// The global gradient norm and clipping by it (weeks 5-10): RNNs and transformers
// occasionally produce a huge gradient; scaling all gradients down together when their joint
// norm exceeds a bound keeps one bad batch from wrecking the weights, without changing the
// update's direction. Reference: https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html

/// Σ_i buffer_i² over n values, summed in Double.   buffer: (n values), e.g. one slice of a
/// gradient arena (the global norm of an arena is √ of the sum over its slices).
public func sumOfSquares(_ p: UnsafePointer<Float>, count n: Int) -> Double {
    precondition(n >= 0, "sumOfSquares: negative count \(n)")
    // Sixteen running sums in two vectors, combined at the end: a single `sum += x·x` would be
    // one chain of dependent Double adds (one add per 4 cycles) that the compiler may not
    // reorder, since that changes the rounding.
    var sums0 = SIMD8<Double>(), sums1 = SIMD8<Double>()
    var i = 0
    while i + 16 <= n {
        let v = load16(p + i)
        let low = SIMD8<Double>(v.lowHalf), high = SIMD8<Double>(v.highHalf)
        sums0 += low * low
        sums1 += high * high
        i += 16
    }
    var sum = (sums0 + sums1).sum()
    while i < n { sum += Double(p[i]) * Double(p[i]); i += 1 }
    return sum
}

/// Array form of `sumOfSquares`.
public func sumOfSquares(_ buffer: [Float]) -> Double {
    sumOfSquares(buffer, count: buffer.count)
}

/// The global L2 norm of several buffers taken as one long vector: √(Σ_buffers Σ_i g_i²).
///   gradients: one flat buffer per parameter, any sizes.
public func gradientNorm(_ gradients: [[Float]]) -> Double {
    var total = 0.0
    for gradient in gradients { total += sumOfSquares(gradient) }
    return total.squareRoot()
}

/// The factor clipping multiplies every gradient by: maxNorm / (norm + 1e-6) when the norm is
/// above maxNorm, else 1 (PyTorch's clip_grad_norm_; the 1e-6 guards a zero norm).
public func clipScale(norm: Double, maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipScale: maxNorm must be positive, got \(maxNorm)")
    let factor = Double(maxNorm) / (norm + 1e-6)
    return factor < 1 ? Float(factor) : 1
}

/// buffer *= factor, in place, over n values (a gradient slice when clipping).
public func scaleBuffer(_ buffer: UnsafeMutablePointer<Float>, count n: Int, by factor: Float) {
    precondition(n >= 0, "scaleBuffer: negative count \(n)")
    for i in 0..<n { buffer[i] *= factor }
}

/// Array form of `scaleBuffer`.
public func scaleBuffer(_ buffer: inout [Float], by factor: Float) {
    scaleBuffer(&buffer, count: buffer.count, by: factor)
}

/// Clips by global norm: if √(Σ all g²) > maxNorm, every gradient is scaled by
/// maxNorm / (norm + 1e-6), so the joint norm becomes maxNorm and the direction is unchanged.
///   gradients: one flat buffer per parameter, scaled in place.
/// Returns the norm before clipping (worth logging: spikes show instability).
@discardableResult
public func clipGradients(_ gradients: inout [[Float]], maxNorm: Float) -> Double {
    let norm = gradientNorm(gradients)
    let factor = clipScale(norm: norm, maxNorm: maxNorm)
    if factor < 1 {
        for i in gradients.indices { scaleBuffer(&gradients[i], by: factor) }
    }
    return norm
}
