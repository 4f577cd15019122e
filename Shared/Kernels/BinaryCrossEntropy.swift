// Binary cross-entropy on logits: logistic regression's loss (week 2). Taking logits rather
// than probabilities lets us use the stable form, which never takes log(0):
//   −[y·log σ(z) + (1 − y)·log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^−|z|)
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Mean binary cross-entropy of logits z against targets y in [0, 1] over n values, summed in
/// Double.   logits, targets: (n values), same layout.
/// Each term uses the stable form max(z, 0) − z·y + log(1 + e^−|z|): e^−|z| <= 1, so nothing
/// overflows, and log1p keeps precision when e^−|z| is tiny.
public func binaryCrossEntropyWithLogitsForward(_ logits: UnsafePointer<Float>,
                                                _ targets: UnsafePointer<Float>, count n: Int) -> Double {
    precondition(n >= 0, "binaryCrossEntropyWithLogitsForward: negative count \(n)")
    if n == 0 { return 0 }
    var sum = 0.0
    for i in 0..<n {
        let z = Double(logits[i]), y = Double(targets[i])
        sum += max(z, 0) - z * y + log1p(exp(-abs(z)))
    }
    return sum / Double(n)
}

/// Array form of `binaryCrossEntropyWithLogitsForward`.
public func binaryCrossEntropyWithLogitsForward(_ logits: [Float], _ targets: [Float]) -> Double {
    requireCount(targets, logits.count, "binaryCrossEntropyWithLogitsForward: targets")
    return binaryCrossEntropyWithLogitsForward(logits, targets, count: logits.count)
}

/// Backward of `binaryCrossEntropyWithLogitsForward`. Adds into dLogits.
/// forward: L = (1/n) Σ_i [max(z_i, 0) − z_i·y_i + log(1 + e^−|z_i|)], whose derivative in
/// both branches (z ≥ 0 and z < 0) simplifies to σ(z) − y, so
///   dLogits_i += dLoss · (σ(z_i) − y_i) / n
///   dLogits, logits, targets: (n values).   dLoss: 1 when L is the loss.
public func binaryCrossEntropyWithLogitsBackward(dLogits: UnsafeMutablePointer<Float>,
                                                 logits: UnsafePointer<Float>,
                                                 targets: UnsafePointer<Float>, count n: Int,
                                                 dLoss: Float = 1) {
    precondition(n >= 0, "binaryCrossEntropyWithLogitsBackward: negative count \(n)")
    if n == 0 { return }
    let scale = dLoss / Float(n)
    for i in 0..<n { dLogits[i] += scale * (sigmoid(logits[i]) - targets[i]) }
}

/// Array form of `binaryCrossEntropyWithLogitsBackward`.
public func binaryCrossEntropyWithLogitsBackward(dLogits: inout [Float], logits: [Float],
                                                 targets: [Float], dLoss: Float = 1) {
    requireCount(dLogits, logits.count, "binaryCrossEntropyWithLogitsBackward: dLogits")
    requireCount(targets, logits.count, "binaryCrossEntropyWithLogitsBackward: targets")
    binaryCrossEntropyWithLogitsBackward(dLogits: &dLogits, logits: logits, targets: targets,
                                         count: logits.count, dLoss: dLoss)
}
