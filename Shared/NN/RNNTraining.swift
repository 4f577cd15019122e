// One training step of a character-level recurrent language model with a per-tensor
// `Optimizer` (Optimizers.swift) on an explicit workspace: what `Bench rnn` / `Bench lstm`
// time. The weeks train through the shared loop of LanguageModelTraining.swift, which does the
// same arithmetic over the model's flat parameter vector (the same losses, bit for bit).
import SharedKernels
import SharedTools
import SharedData

/// One training step on one batch: forward, loss, BPTT, clip, optimizer update.
/// Returns the batch loss (nats/char) and the gradient norm before clipping.
/// The state in `workspace` is reset first unless `carry` (then it continues from the
/// previous step's final state).
@discardableResult
public func trainingStep(_ model: RecurrentLanguageModel, optimizer: Optimizer,
                         workspace: RecurrentLanguageModel.Workspace, batch: TextBatch,
                         carry: Bool, clip: Float?) -> (loss: Double, gradientNorm: Double) {
    if carry { workspace.recurrent.carryState() } else { workspace.recurrent.resetState() }
    optimizer.zeroGrad()
    let loss = model.loss(inputs: batch.inputs, targets: batch.targets, workspace: workspace)
    model.backward(workspace)
    let parameters = optimizer.parameters
    let norm = clip.map { parameters.clipGradients(maxNorm: $0) } ?? parameters.gradientNorm()
    optimizer.step()
    return (loss, norm)
}
