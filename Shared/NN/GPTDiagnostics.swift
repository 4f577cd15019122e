// Looking inside the GPT of weeks 8-10: the attention weights of a forward pass, the machine's
// peak float throughput (the denominator of MFU, model FLOPs utilisation), and the whole
// model's backward against finite differences. The GPT trains through the shared loop,
// LanguageModelTraining.swift.
import SharedKernels
import SharedTools
import SharedData
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Attention maps

extension GPT {
    /// The attention weights of block `layer`, head `head` from the last forward with batch
    /// row 0: (T, T), row t = query position, column s = key position (0 for s > t).
    public func attentionMap(layer: Int, head: Int) -> [Float] {
        let T = lastLength
        let probs = blockActivations[layer].attnProbs + head * T * T
        return Array(UnsafeBufferPointer(start: probs, count: T * T))
    }
}

// MARK: - The machine's peak, for MFU

/// Measures this machine's peak float throughput (FLOP/s) on `threads` threads: each runs 16
/// independent chains of 16-wide fused multiply-adds (enough in flight to cover the FMA
/// latency), for about `seconds`. MFU = a model's achieved FLOP/s divided by this.
public func measuredPeakFLOPS(threads: Int = Threads.count, seconds: Double = 0.05) -> Double {
    let repetitions = 20_000
    func chains() -> Float {
        var a = (SIMD16<Float>(repeating: 1), SIMD16<Float>(repeating: 1.1), SIMD16<Float>(repeating: 1.2),
                 SIMD16<Float>(repeating: 1.3), SIMD16<Float>(repeating: 1.4), SIMD16<Float>(repeating: 1.5),
                 SIMD16<Float>(repeating: 1.6), SIMD16<Float>(repeating: 1.7))
        var b = a
        let x = SIMD16<Float>(repeating: 0.999_999), y = SIMD16<Float>(repeating: 1e-7)
        for _ in 0..<repetitions {
            a.0 = a.0 * x + y; a.1 = a.1 * x + y; a.2 = a.2 * x + y; a.3 = a.3 * x + y
            a.4 = a.4 * x + y; a.5 = a.5 * x + y; a.6 = a.6 * x + y; a.7 = a.7 * x + y
            b.0 = b.0 * x + y; b.1 = b.1 * x + y; b.2 = b.2 * x + y; b.3 = b.3 * x + y
            b.4 = b.4 * x + y; b.5 = b.5 * x + y; b.6 = b.6 * x + y; b.7 = b.7 * x + y
        }
        let total = a.0 + a.1 + a.2 + a.3 + a.4 + a.5 + a.6 + a.7 + b.0 + b.1 + b.2 + b.3 + b.4 + b.5 + b.6 + b.7
        return total.sum()
    }
    let flopsPerCall = Double(repetitions) * 16 * 16 * 2
    var best = 0.0
    let deadline = monotonicSeconds() + seconds
    var sink: Float = 0
    repeat {
        let start = monotonicSeconds()
        var results = [Float](repeating: 0, count: threads)
        results.withUnsafeMutableBufferPointer { r in
            let r = r.baseAddress!
            parallelFor(threads, threads: threads) { worker in r[worker] = chains() }
        }
        sink += results.reduce(0, +)
        best = max(best, Double(threads) * flopsPerCall / (monotonicSeconds() - start))
    } while monotonicSeconds() < deadline
    return sink.isNaN ? best * 0.999 : best
}

// MARK: - Gradient check of the whole model

extension GPT {
    /// Checks backward against centred finite differences of the mean loss on one batch
    /// (B·T = inputs.count, T = length), on `perTensor` sampled entries of every parameter
    /// tensor. training: dropout on, with the same masks at every evaluation (seeded afresh).
    /// The step is 1e-2 by default: the loss is a Float32 sum, and a smaller step drowns the
    /// difference in rounding (1e-3 where a ReLU's kink is near).
    /// With ReLU, a perturbation that flips the sign of an MLP unit's input crosses the kink at
    /// 0, and the difference quotient then measures neither one-sided slope. Such samples are
    /// left out (kinks are avoided by the inputs, not by a looser tolerance); the result's name
    /// says how many.
    public func gradientCheck(inputs: [Int], targets: [Int], length T: Int, training: Bool = false,
                              step h: Float = 1e-2, perTensor: Int = 6, seed: UInt64 = 5) -> GradientCheckResult {
        let B = inputs.count / T
        func loss() -> Double {
            var rng = SplitMix64(seed: seed &+ 1)
            return forward(inputs: inputs, targets: targets, batch: B, length: T, training: training, rng: &rng) ?? .nan
        }
        /// Which MLP units are active (input > 0), over every block: the ReLU pattern.
        func reluPattern() -> [Bool] {
            guard config.activation == .relu else { return [] }
            let unitsPerBlock = B * T * 4 * config.width
            return blockActivations.flatMap { block in (0..<unitsPerBlock).map { block.fcPre[$0] > 0 } }
        }
        zeroGradients()
        _ = loss()
        let basePattern = reluPattern()
        backward()
        let analytic = Array(UnsafeBufferPointer(start: gradients, count: parameterCount))
        var rng = SplitMix64(seed: seed)
        var indices: [Int] = []
        for view in views { indices += sampledIndices(perTensor, of: view.count, rng: &rng).map { $0 + view.offset } }
        // The shared finite differences; `set` says which parameter the next loss() perturbs, so
        // a loss that sees a changed ReLU pattern can mark that sample.
        var perturbed = -1
        var acrossKink: Set<Int> = []
        let numeric = numericGradient(count: parameterCount, get: { self.parameters[$0] },
                                      set: { perturbed = $0; self.parameters[$0] = $1 },
                                      loss: {
                                          let value = loss()
                                          if reluPattern() != basePattern { acrossKink.insert(perturbed) }
                                          return value
                                      }, step: h, indices: indices)
        let kept = indices.filter { !acrossKink.contains($0) }
        let note = acrossKink.isEmpty ? "" : ", \(acrossKink.count) across a ReLU kink left out"
        return checkGradient("GPT (\(kept.count) sampled parameters\(note))", analytic: analytic, numeric: numeric,
                             indices: kept)
    }
}
