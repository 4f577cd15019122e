// Synthetic sequence tasks for the attention week (7): copy, reverse and sort a random
// sequence of tokens. An RNN has to squeeze the sequence through its hidden state; attention
// can look back at any position, which is what these tasks reward.
// Reference: minGPT's SortDataset (https://github.com/karpathy/minGPT, demo.ipynb).
import SharedKernels
import SharedTools

public enum SequenceTask: String, CaseIterable {
    /// target = source
    case copy
    /// target = source reversed
    case reverse
    /// target = source sorted ascending
    case sort

    /// The answer for one source sequence.
    public func target(for source: [Int]) -> [Int] {
        switch self {
        case .copy: return source
        case .reverse: return source.reversed()
        case .sort: return source.sorted()
        }
    }
}

/// A batch of sequence-task examples, row-major.
/// inputs (B, T), targets (B, T); a target of `SequenceTasks.ignoreIndex` (-1) marks a
/// position the loss must skip.
public struct SequenceBatch {
    public var inputs: [Int]
    public var targets: [Int]
    public let batchSize: Int
    public let length: Int
}

public enum SequenceTasks {
    /// Target value meaning "no loss here" (PyTorch's ignore_index, minGPT uses -1 too).
    public static let ignoreIndex = -1

    /// B random sources of `length` tokens, each uniform in 0..<vocabularySize.
    /// Returns (B, length).
    public static func randomSources(batchSize B: Int, length L: Int, vocabularySize V: Int,
                                     rng: inout SplitMix64) -> [Int] {
        precondition(B >= 0 && L >= 1 && V >= 1, "randomSources: need B >= 0, length >= 1, vocabulary >= 1")
        return (0..<(B * L)).map { _ in rng.int(below: V) }
    }

    /// Position-wise form, for a model that reads the whole source and emits one token per
    /// position (an encoder, or attention without a causal mask):
    /// inputs (B, L) = sources, targets (B, L) = task.target(for: source) row by row.
    public static func alignedBatch(_ task: SequenceTask, batchSize B: Int, length L: Int,
                                    vocabularySize V: Int, rng: inout SplitMix64) -> SequenceBatch {
        let sources = randomSources(batchSize: B, length: L, vocabularySize: V, rng: &rng)
        var targets: [Int] = []
        targets.reserveCapacity(B * L)
        for b in 0..<B { targets += task.target(for: Array(sources[(b * L)..<((b + 1) * L)])) }
        return SequenceBatch(inputs: sources, targets: targets, batchSize: B, length: L)
    }

    /// Next-token form, for a causal (GPT-style) model, as minGPT's sort demo:
    /// the row is source ++ answer (2L tokens); inputs are its first 2L-1 tokens and targets
    /// its last 2L-1, with the first L-1 targets set to `ignoreIndex` (predicting the random
    /// source is impossible, only the answer counts).
    /// inputs (B, 2L-1), targets (B, 2L-1).
    /// Example, sort, L = 3, source 2 0 1:  inputs 2 0 1 0 1   targets -1 -1 0 1 2.
    public static func nextTokenBatch(_ task: SequenceTask, batchSize B: Int, length L: Int,
                                      vocabularySize V: Int, rng: inout SplitMix64) -> SequenceBatch {
        let sources = randomSources(batchSize: B, length: L, vocabularySize: V, rng: &rng)
        let T = 2 * L - 1
        var inputs: [Int] = [], targets: [Int] = []
        inputs.reserveCapacity(B * T)
        targets.reserveCapacity(B * T)
        for b in 0..<B {
            let source = Array(sources[(b * L)..<((b + 1) * L)])
            let row = source + task.target(for: source)  // (2L)
            inputs += row[0..<T]
            var shifted = Array(row[1...])
            for t in 0..<(L - 1) { shifted[t] = ignoreIndex }
            targets += shifted
        }
        return SequenceBatch(inputs: inputs, targets: targets, batchSize: B, length: T)
    }
}
