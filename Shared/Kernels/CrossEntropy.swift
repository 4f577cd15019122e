// Softmax and cross-entropy fused into one kernel: the loss of every classifier (weeks 2-4)
// and every language model (weeks 5-10). Fusing them gives the famous simple gradient
// dLogits = (p − onehot(y)) / N and computes the loss from the log-sum-exp, so it stays finite
// even when the softmax probability of the target underflows to 0.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-row loss_n = −log p[n, y_n] = logsumexp(z_n) − z_n[y_n]; writes probs; returns the
/// number of rows that count (targets not equal to ignoreIndex) and the sum of their losses
/// (in Double). rowLosses, when given, receives each row's loss (0 for ignored rows).
/// Row n of logits and probs starts n·ld values in.
private func crossEntropyRows(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                              targets: UnsafePointer<Int>, rowLosses: UnsafeMutablePointer<Float>?,
                              rows N: Int, classes C: Int, rowStride ld: Int,
                              ignoreIndex: Int?) -> (count: Int, sum: Double) {
    precondition(N >= 0, "softmaxCrossEntropyForward: negative row count \(N)")
    precondition(C > 0, "softmaxCrossEntropyForward: needs at least one class")
    precondition(ld >= C, "softmaxCrossEntropyForward: row stride \(ld) is smaller than \(C) classes")
    var count = 0
    var sum = 0.0
    for n in 0..<N {
        let z = logits + n * ld
        let y = targets[n]
        let ignored = y == ignoreIndex
        precondition(ignored || (y >= 0 && y < C),
                     "softmaxCrossEntropy: target \(y) in row \(n) is not a class in 0..<\(C)")
        // z_y is read before the softmax, so probs may overwrite logits in place.
        let targetLogit = ignored ? 0 : z[y]
        let logSumExp = softmaxRow(z, probs + n * ld, visible: C)
        if ignored { rowLosses?[n] = 0; continue }
        // −log p_y = −(z_y − logsumexp): finite even when p_y rounds to 0 in Float.
        let loss = logSumExp - targetLogit
        rowLosses?[n] = loss
        sum += Double(loss)
        count += 1
    }
    return (count, sum)
}

/// Fused softmax + cross-entropy, mean over rows.
///   logits: (N, C)   targets: (N), class indices in 0..<C   probs: (N, C), overwritten.
/// Returns mean_n −log softmax(logits[n])[targets[n]], summed in Double. Rows whose target
/// equals `ignoreIndex` (e.g. padding) add nothing and do not count in the mean; if every row
/// is ignored the loss is 0.
/// probs may be the logits buffer itself (computed in place). Row n of logits and probs
/// starts n·rowStride values in (default C); a stride above C leaves the padding columns alone
/// (a vocabulary padded to a round size, as llm.c's Vp). Targets are `Int`, the type token ids
/// have everywhere in Shared, so a batch's ids are passed without a conversion.
@discardableResult
public func softmaxCrossEntropyForward(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                       targets: UnsafePointer<Int>, rows N: Int, classes C: Int,
                                       ignoreIndex: Int? = nil, rowStride: Int? = nil) -> Double {
    let (count, sum) = crossEntropyRows(probs: probs, logits: logits, targets: targets, rowLosses: nil,
                                        rows: N, classes: C, rowStride: rowStride ?? C,
                                        ignoreIndex: ignoreIndex)
    return count == 0 ? 0 : sum / Double(count)
}

/// Array form of the mean `softmaxCrossEntropyForward`: logits, probs (N, C), targets (N).
@discardableResult
public func softmaxCrossEntropyForward(probs: inout [Float], logits: [Float], targets: [Int],
                                       rows N: Int, classes C: Int, ignoreIndex: Int? = nil) -> Double {
    requireCount(logits, N * C, "softmaxCrossEntropyForward: logits")
    requireCount(probs, N * C, "softmaxCrossEntropyForward: probs")
    precondition(targets.count == N, "softmaxCrossEntropyForward: \(targets.count) targets for \(N) rows")
    precondition(C > 0, "softmaxCrossEntropyForward: needs at least one class")
    return softmaxCrossEntropyForward(probs: &probs, logits: logits, targets: targets, rows: N,
                                      classes: C, ignoreIndex: ignoreIndex, rowStride: C)
}

/// Fused softmax + cross-entropy without reduction ("none"): one loss per row.
///   losses: (N), overwritten (0 for ignored rows)   probs: (N, C), overwritten.
///   logits: (N, C)   targets: (N)   (probs may be logits; rows rowStride apart, default C)
public func softmaxCrossEntropyForward(losses: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                                       logits: UnsafePointer<Float>, targets: UnsafePointer<Int>,
                                       rows N: Int, classes C: Int, ignoreIndex: Int? = nil,
                                       rowStride: Int? = nil) {
    _ = crossEntropyRows(probs: probs, logits: logits, targets: targets, rowLosses: losses,
                         rows: N, classes: C, rowStride: rowStride ?? C, ignoreIndex: ignoreIndex)
}

/// Array form of the per-row `softmaxCrossEntropyForward`.
public func softmaxCrossEntropyForward(losses: inout [Float], probs: inout [Float], logits: [Float],
                                       targets: [Int], rows N: Int, classes C: Int,
                                       ignoreIndex: Int? = nil) {
    requireCount(losses, N, "softmaxCrossEntropyForward: losses")
    requireCount(logits, N * C, "softmaxCrossEntropyForward: logits")
    requireCount(probs, N * C, "softmaxCrossEntropyForward: probs")
    precondition(targets.count == N, "softmaxCrossEntropyForward: \(targets.count) targets for \(N) rows")
    precondition(C > 0, "softmaxCrossEntropyForward: needs at least one class")
    softmaxCrossEntropyForward(losses: &losses, probs: &probs, logits: logits, targets: targets,
                               rows: N, classes: C, ignoreIndex: ignoreIndex, rowStride: C)
}

/// Backward of the mean `softmaxCrossEntropyForward`. Adds into dLogits.
/// forward: L = (1/N′) Σ_n (logsumexp(z_n) − z_n[y_n]), N′ = rows not ignored. Since
/// ∂logsumexp/∂z = p and ∂z_y/∂z = onehot(y):
///   dLogits[n, :] += (p[n, :] − onehot(y_n)) / N′      (0 for ignored rows)
///   dLogits, probs: (N, C), rows rowStride apart (default C); probs from the forward.
///   targets: (N). lossScale multiplies the whole gradient (the backward of lossScale × L, for
///   micro-batches whose gradients are summed).
public func softmaxCrossEntropyBackward(dLogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>,
                                        targets: UnsafePointer<Int>, rows N: Int, classes C: Int,
                                        ignoreIndex: Int? = nil, rowStride: Int? = nil, lossScale: Float = 1) {
    precondition(N >= 0, "softmaxCrossEntropyBackward: negative row count \(N)")
    var count = 0
    for n in 0..<N where targets[n] != ignoreIndex { count += 1 }
    if count == 0 { return }
    // Every counted row has the same upstream gradient lossScale/N′ (no per-row buffer).
    let scale = lossScale / Float(count)
    crossEntropyBackwardRows(dLogits, probs: probs, targets: targets, rows: N, classes: C,
                             rowStride: rowStride ?? C, ignoreIndex: ignoreIndex) { _ in scale }
}

/// Array form of the mean `softmaxCrossEntropyBackward`.
public func softmaxCrossEntropyBackward(dLogits: inout [Float], probs: [Float], targets: [Int],
                                        rows N: Int, classes C: Int, ignoreIndex: Int? = nil) {
    precondition(targets.count == N, "softmaxCrossEntropyBackward: \(targets.count) targets for \(N) rows")
    requireCount(dLogits, N * C, "softmaxCrossEntropyBackward: dLogits")
    requireCount(probs, N * C, "softmaxCrossEntropyBackward: probs")
    softmaxCrossEntropyBackward(dLogits: &dLogits, probs: probs, targets: targets, rows: N,
                                classes: C, ignoreIndex: ignoreIndex, rowStride: C)
}

/// Backward of the per-row ("none") `softmaxCrossEntropyForward`. Adds into dLogits.
///   dLogits[n, :] += dLosses[n] · (p[n, :] − onehot(y_n))      (0 for ignored rows)
///   dLogits, probs: (N, C), rows rowStride apart (default C)   dLosses, targets: (N)
public func softmaxCrossEntropyBackward(dLogits: UnsafeMutablePointer<Float>, dLosses: UnsafePointer<Float>,
                                        probs: UnsafePointer<Float>, targets: UnsafePointer<Int>,
                                        rows N: Int, classes C: Int, ignoreIndex: Int? = nil,
                                        rowStride: Int? = nil) {
    precondition(N >= 0, "softmaxCrossEntropyBackward: negative row count \(N)")
    crossEntropyBackwardRows(dLogits, probs: probs, targets: targets, rows: N, classes: C,
                             rowStride: rowStride ?? C, ignoreIndex: ignoreIndex) { n in dLosses[n] }
}

/// Array form of the per-row `softmaxCrossEntropyBackward`.
public func softmaxCrossEntropyBackward(dLogits: inout [Float], dLosses: [Float], probs: [Float],
                                        targets: [Int], rows N: Int, classes C: Int,
                                        ignoreIndex: Int? = nil) {
    requireCount(dLogits, N * C, "softmaxCrossEntropyBackward: dLogits")
    requireCount(probs, N * C, "softmaxCrossEntropyBackward: probs")
    requireCount(dLosses, N, "softmaxCrossEntropyBackward: dLosses")
    precondition(targets.count == N, "softmaxCrossEntropyBackward: \(targets.count) targets for \(N) rows")
    softmaxCrossEntropyBackward(dLogits: &dLogits, dLosses: dLosses, probs: probs, targets: targets,
                                rows: N, classes: C, ignoreIndex: ignoreIndex, rowStride: C)
}

/// The loop both backwards share: dLogits[n, :] += g_n · (p[n, :] − onehot(y_n)) for every row
/// whose target is not ignored, with g_n = rowGradient(n) (1/N′ for the mean, dLosses[n] for
/// the per-row form). Row n of dLogits and probs starts n·ld values in.
private func crossEntropyBackwardRows(_ dLogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>,
                                      targets: UnsafePointer<Int>, rows N: Int, classes C: Int,
                                      rowStride ld: Int, ignoreIndex: Int?,
                                      rowGradient: (Int) -> Float) {
    if N == 0 || C == 0 { return }
    precondition(ld >= C, "softmaxCrossEntropyBackward: row stride \(ld) is smaller than \(C) classes")
    for n in 0..<N {
        let y = targets[n]
        if y == ignoreIndex { continue }
        precondition(y >= 0 && y < C, "softmaxCrossEntropyBackward: target \(y) in row \(n) is not a class in 0..<\(C)")
        let g = rowGradient(n), p = probs + n * ld, dz = dLogits + n * ld
        for j in 0..<C { dz[j] += g * p[j] }   // the ∂logsumexp/∂z = p part
        dz[y] -= g                             // the −z_y part
    }
}

/// The reference: −log of the naive softmax, in Double, mean over rows (no ignore index).
public func softmaxCrossEntropyForwardNaive(logits: [Float], targets: [Int],
                                            rows N: Int, classes C: Int) -> Double {
    var probs = [Float](repeating: 0, count: N * C)
    softmaxForwardNaive(&probs, logits, rows: N, cols: C)
    var sum = 0.0
    for n in 0..<N { sum -= log(Double(probs[n * C + targets[n]])) }
    return sum / Double(N)
}
