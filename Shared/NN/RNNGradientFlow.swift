// The vanishing/exploding-gradient picture (week 5, compared in week 6): how much of the loss
// at the last step of a chunk reaches the hidden state t steps earlier. BPTT multiplies the
// gradient by Whhᵀ·diag(tanh') once per step back, so its norm shrinks (or grows) roughly
// geometrically; the LSTM's additive cell path lets it travel further.
import SharedKernels
import SharedTools
import SharedData

/// ‖∂L_T/∂h_{T−k}‖ for k = 0 … T−1 steps back, where L_T is the cross-entropy at the last
/// position of each sequence only (mean over the batch); each norm is the mean over the B
/// sequences.   inputs, targets: (B, T) batch-major, as `TextChunks` gives them.
/// Leaves the parameters' grads zeroed.
public func hiddenGradientNorms(_ model: RecurrentLanguageModel, inputs: [Int], targets: [Int],
                                batch B: Int, steps T: Int) -> [Double] {
    let w = model.makeWorkspace(batch: B, steps: T)
    model.loss(inputs: inputs, targets: targets, workspace: w)
    // only the last step's B rows of the (T·B) time-major rows carry loss, each with weight 1/B
    for row in 0..<(T * B) { w.rowWeights[row] = row >= (T - 1) * B ? 1 / Float(B) : 0 }
    w.recurrent.recordsGradientNorms = true
    model.parameters.forEach { $0.zeroGrad() }
    model.backward(w)
    model.parameters.forEach { $0.zeroGrad() }
    return (0..<T).map { k in w.recurrent.gradientNorms[T - 1 - k] }
}

/// `hiddenGradientNorms` on the first B validation windows of T characters: the same batch
/// before and after training (or for two models), so the curves are comparable.
///   validation: (N) character ids. Returns (T) norms, index k = steps back from the loss.
public func measureGradientFlow(_ model: RecurrentLanguageModel, validation: [Int], batch B: Int,
                                steps T: Int) throws -> [Double] {
    let chunks = try TextChunks(ids: validation, context: T)
    let starts = Array(chunks.sequentialStarts.prefix(B))
    let batch = chunks.batch(starts: starts)
    return hiddenGradientNorms(model, inputs: batch.inputs, targets: batch.targets, batch: starts.count, steps: T)
}
