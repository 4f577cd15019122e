// Mean squared error, the regression loss (week 2's linear regression, autoencoders):
//   L = (1/n) Σ_i (prediction_i − target_i)²
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html

/// Mean of (prediction − target)² over n values, summed in Double.
///   prediction, target: (n values), same layout.
public func mseForward(_ prediction: UnsafePointer<Float>, _ target: UnsafePointer<Float>,
                       count n: Int) -> Double {
    precondition(n >= 0, "mseForward: negative count \(n)")
    if n == 0 { return 0 }
    var sum = 0.0
    for i in 0..<n {
        let diff = Double(prediction[i]) - Double(target[i])
        sum += diff * diff
    }
    return sum / Double(n)
}

/// Array form of `mseForward`.
public func mseForward(_ prediction: [Float], _ target: [Float]) -> Double {
    requireCount(target, prediction.count, "mseForward: target")
    return mseForward(prediction, target, count: prediction.count)
}

/// Backward of `mseForward`. Adds into dPrediction.
/// forward: L = (1/n) Σ (p − t)², so ∂L/∂p_i = 2(p_i − t_i)/n.
///   dPrediction, prediction, target: (n values).   dLoss: ∂(final loss)/∂L, 1 when L is the loss.
public func mseBackward(dPrediction: UnsafeMutablePointer<Float>, prediction: UnsafePointer<Float>,
                        target: UnsafePointer<Float>, count n: Int, dLoss: Float = 1) {
    precondition(n >= 0, "mseBackward: negative count \(n)")
    if n == 0 { return }
    let scale = 2 * dLoss / Float(n)
    for i in 0..<n { dPrediction[i] += scale * (prediction[i] - target[i]) }
}

/// Array form of `mseBackward`.
public func mseBackward(dPrediction: inout [Float], prediction: [Float], target: [Float],
                        dLoss: Float = 1) {
    requireCount(dPrediction, prediction.count, "mseBackward: dPrediction")
    requireCount(target, prediction.count, "mseBackward: target")
    mseBackward(dPrediction: &dPrediction, prediction: prediction, target: target,
                count: prediction.count, dLoss: dLoss)
}
