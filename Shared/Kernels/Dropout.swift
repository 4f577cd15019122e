// Inverted dropout: during training each value is zeroed with probability p and the survivors
// are scaled by 1/(1 − p), so the expected value is unchanged and evaluation needs no rescale.
// The mask is drawn from SplitMix64, so a seed fixes it (and the whole training run).
// Reference: Srivastava et al. 2014, https://jmlr.org/papers/v15/srivastava14a.html

/// Draws a mask without applying it: mask_i = 0 with probability p, 1/(1 − p) otherwise (one
/// uniform from `rng` per value, in order), the same draws as `dropoutForward`. For a mask that
/// is applied inside another kernel (attention's weights).   mask: (n values), overwritten.
public func dropoutMask(_ mask: UnsafeMutablePointer<Float>, count n: Int, probability p: Float,
                        rng: inout SplitMix64) {
    precondition(p >= 0 && p < 1, "dropoutMask: probability must be in [0, 1), got \(p)")
    let keptScale = 1 / (1 - p)
    for i in 0..<n { mask[i] = p == 0 || rng.uniform() >= p ? keptScale : 0 }
}

/// Draws a fresh mask and applies it: out = x ⊙ mask, with mask_i = 0 with probability p and
/// 1/(1 − p) otherwise (one uniform from `rng` per value, in order).
///   x, out, mask: (n values); out and mask overwritten (out may be x). p in [0, 1).
/// With p = 0 the mask is all ones and `rng` is not advanced.
public func dropoutForward(_ out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                           _ x: UnsafePointer<Float>, count n: Int, probability p: Float,
                           rng: inout SplitMix64) {
    precondition(p >= 0 && p < 1, "dropoutForward: probability must be in [0, 1), got \(p)")
    precondition(n >= 0, "dropoutForward: negative count \(n)")
    // keep when the uniform lands at or above p: probability 1 − p
    dropoutMask(mask, count: n, probability: p, rng: &rng)
    for i in 0..<n { out[i] = x[i] * mask[i] }
}

/// Array form of `dropoutForward`.
public func dropoutForward(_ out: inout [Float], mask: inout [Float], _ x: [Float],
                           probability p: Float, rng: inout SplitMix64) {
    precondition(p >= 0 && p < 1, "dropoutForward: probability must be in [0, 1), got \(p)")
    requireCount(out, x.count, "dropoutForward: out")
    requireCount(mask, x.count, "dropoutForward: mask")
    dropoutForward(&out, mask: &mask, x, count: x.count, probability: p, rng: &rng)
}

/// Backward of `dropoutForward`. Adds into dX. forward: out = x ⊙ mask, so
///   dX += dOut ⊙ mask     (the same mask: dropped values get no gradient)
///   dX, dOut, mask: (n values).
public func dropoutBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                            mask: UnsafePointer<Float>, count n: Int) {
    precondition(n >= 0, "dropoutBackward: negative count \(n)")
    accumulate16(dX, dOut, mask, count: n) { dOut, mask in dOut * mask }
}

/// Array form of `dropoutBackward`.
public func dropoutBackward(dX: inout [Float], dOut: [Float], mask: [Float]) {
    requireCount(dX, mask.count, "dropoutBackward: dX")
    requireCount(dOut, mask.count, "dropoutBackward: dOut")
    dropoutBackward(dX: &dX, dOut: dOut, mask: mask, count: mask.count)
}
