// Losses for module-based training (week 4 on).
//
// Why a loss is NOT a Module here: a module maps a batch of rows to a batch of rows and
// takes dOut from the layer after it. A loss is the end of the chain: it takes targets as
// well as the input, returns one number, has no parameters and no train/eval difference,
// and its backward starts the chain (its "dOut" is dL/dL = 1). Forcing it into the Module
// shape would mean smuggling the targets in through a side door and returning a 1-element
// array. So it is a small type of its own with the same forward-then-backward rhythm
// (PyTorch does the same: nn.CrossEntropyLoss takes (input, target) and returns a scalar).
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
import SharedKernels
import SharedTools
import SharedData

/// Mean softmax cross-entropy over the rows, fused with the softmax (numerically stable,
/// and the backward is simply (p − onehot(y)) / N).
///   logits: (N, C)   targets: (N), class indices in 0..<C
public final class CrossEntropyLoss {
    /// The cache: softmax probabilities (N, C) of the last forward, and its targets.
    public private(set) var probabilities: [Float] = []
    private var targets: [Int] = []
    private var rows = 0
    private var classes = 0

    public init() {}

    /// Mean over rows of −log softmax(logits[n])[targets[n]], summed in Double.
    public func forward(_ logits: [Float], targets: [Int], rows N: Int, classes C: Int) -> Double {
        precondition(logits.count == N * C, "CrossEntropyLoss: \(logits.count) logits for \(N)x\(C)")
        if probabilities.count != N * C { probabilities = [Float](repeating: 0, count: N * C) }
        self.targets = targets
        rows = N
        classes = C
        return softmaxCrossEntropyForward(probs: &probabilities, logits: logits, targets: targets,
                                          rows: N, classes: C)
    }

    /// dLoss/dlogits = (p − onehot(y)) / N, (N, C), for the last forward.
    public func backward() -> [Float] {
        var dLogits = [Float](repeating: 0, count: rows * classes)
        softmaxCrossEntropyBackward(dLogits: &dLogits, probs: probabilities, targets: targets,
                                    rows: rows, classes: classes)
        return dLogits
    }

    /// How many rows of the last forward have their target as the most probable class.
    public func correctCount() -> Int {
        var correct = 0
        for n in 0..<rows {
            var best = 0
            for c in 1..<classes where probabilities[n * classes + c] > probabilities[n * classes + best] { best = c }
            if best == targets[n] { correct += 1 }
        }
        return correct
    }
}
