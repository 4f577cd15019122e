// Adam and AdamW over a `LanguageModel`'s flat parameter vector (weeks 5-10): the moments m
// and v are two vectors of the same layout (one arena each, llm.c's m_memory / v_memory), and
// each step walks the model's tensors through `withParameterBuffers`. The update is PyTorch's,
// elementwise and in the same arithmetic as Shared/Kernels/AdamW.swift, so a model trained
// here moves exactly as it did with the per-tensor `Adam` of Optimizers.swift.
// Weight decay applies to the tensors whose layout says `decays` (matrices), not to biases
// and gains. Reference: https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which update rule `ParameterVectorAdam` applies.
public enum AdamVariant: String, CaseIterable {
    /// Adam; weight decay λ (if any) is L2, added to the gradient: g ← g + λ·θ.
    case adam
    /// AdamW; weight decay is decoupled: θ ← θ − lr·λ·θ, outside the adaptive step.
    case adamw
}

/// Adam / AdamW for one model's parameter vector.
///   m ← β₁·m + (1 − β₁)·g     v ← β₂·v + (1 − β₂)·g²     m̂ = m/(1 − β₁ᵗ)   v̂ = v/(1 − β₂ᵗ)
///   θ ← θ − lr · m̂ / (√v̂ + ε)
public final class ParameterVectorAdam {
    public let variant: AdamVariant
    public let layout: [ParameterTensorInfo]
    /// The learning rate of the next step (the trainer's schedule sets it before each step).
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    /// λ, applied to tensors with `decays` only.
    public let weightDecay: Float
    /// Steps taken (t of the bias correction; 0 before the first step).
    public var stepCount = 0
    /// m and v, laid out like the parameter vector.
    public private(set) var firstMoment: [Float]
    public private(set) var secondMoment: [Float]

    public var name: String { variant.rawValue }

    public init(layout: [ParameterTensorInfo], variant: AdamVariant, learningRate: Float, beta1: Float = 0.9,
                beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                     "Adam: betas must be in [0, 1), got \(beta1), \(beta2)")
        self.variant = variant
        self.layout = layout
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        firstMoment = [Float](repeating: 0, count: layout.scalarCount)
        secondMoment = [Float](repeating: 0, count: layout.scalarCount)
    }

    /// One update of every tensor of `model` from its gradient. Does not zero the gradients.
    public func step(_ model: any LanguageModel) {
        stepCount += 1
        let t = stepCount, lr = learningRate, beta1 = beta1, beta2 = beta2, eps = eps
        // bias corrections 1 − βᵗ, once per step (in Double, as the per-tensor kernel does)
        let correction1 = Float(1 - pow(Double(beta1), Double(t)))
        let correction2 = Float(1 - pow(Double(beta2), Double(t)))
        firstMoment.withUnsafeMutableBufferPointer { mb in
            secondMoment.withUnsafeMutableBufferPointer { vb in
                for (index, info) in layout.enumerated() {
                    let decay = info.decays ? weightDecay : 0
                    let decayFactor = variant == .adamw ? 1 - lr * decay : 1
                    let l2 = variant == .adamw ? 0 : decay
                    let m = mb.baseAddress! + info.offset, v = vb.baseAddress! + info.offset
                    model.withParameterBuffers(index) { values, gradients in
                        precondition(values.count == info.count && gradients.count == info.count,
                                     "Adam: tensor \(info.name) has \(values.count) values, the layout says \(info.count)")
                        let p = values.baseAddress!, g = UnsafePointer(gradients.baseAddress!)
                        // The loop of adamUpdate (Shared/Kernels/AdamW.swift), on this tensor's
                        // slice: plain pointers in constants, so it vectorises; split across threads.
                        parallelRanges(info.count) { range in
                            for i in range {
                                let gi = g[i] + l2 * p[i]
                                m[i] = beta1 * m[i] + (1 - beta1) * gi
                                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                                let mHat = m[i] / correction1
                                let vHat = v[i] / correction2
                                p[i] = p[i] * decayFactor - lr * mHat / (vHat.squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
    }

    /// m and v per tensor, named "optimizer.m.<name>" and "optimizer.v.<name>" (the names
    /// Optimizers.swift's Adam uses), for checkpoints.
    public func stateTensors() -> [NamedTensor] {
        func slices(_ kind: String, _ buffer: [Float]) -> [NamedTensor] {
            layout.map { NamedTensor(name: TrainingCheckpoint.optimizerPrefix + kind + "." + $0.name, shape: $0.shape,
                                     data: Array(buffer[$0.offset..<($0.offset + $0.count)])) }
        }
        return slices("m", firstMoment) + slices("v", secondMoment)
    }

    /// Restores what `stateTensors` wrote; one clear line for a missing or misshapen tensor.
    public func loadState(_ tensors: [String: NamedTensor]) throws {
        for (kind, isFirst) in [("m", true), ("v", false)] {
            for info in layout {
                let name = TrainingCheckpoint.optimizerPrefix + kind + "." + info.name
                guard let tensor = tensors[name] else {
                    throw WorkbookError("checkpoint has no optimizer state '\(name)' (was it saved by another optimizer?)")
                }
                guard tensor.shape == info.shape, tensor.data.count == info.count else {
                    throw WorkbookError("checkpoint optimizer state '\(name)' has shape \(tensor.shape), the model needs \(info.shape)")
                }
                if isFirst {
                    firstMoment.replaceSubrange(info.offset..<(info.offset + info.count), with: tensor.data)
                } else {
                    secondMoment.replaceSubrange(info.offset..<(info.offset + info.count), with: tensor.data)
                }
            }
        }
    }
}

extension LanguageModel {
    /// The global L2 norm of the gradient, √(Σ_tensors Σ_i g_i²), each tensor's sum in Double
    /// (`sumOfSquares`'s order), the tensors in layout order.
    public func gradientNorm() -> Double {
        var total = 0.0
        for index in parameterLayout.indices {
            total += withParameterBuffers(index) { _, gradients in sumOfSquares(slice: UnsafeBufferPointer(gradients)) }
        }
        return total.squareRoot()
    }

    /// Clipping by global norm (PyTorch's clip_grad_norm_): when the norm exceeds maxNorm,
    /// every gradient is scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Double {
        let norm = gradientNorm()
        let factor = clipScale(norm: norm, maxNorm: maxNorm)
        if factor < 1 {
            for index in parameterLayout.indices {
                withParameterBuffers(index) { _, gradients in
                    for i in gradients.indices { gradients[i] *= factor }
                }
            }
        }
        return norm
    }
}

/// Σ_i buffer_i² in Double, over a pointer: the same sixteen running sums, in the same order,
/// as the array form `sumOfSquares(_: [Float])` (Shared/Kernels/GradientNorm.swift), so the
/// norm, and with it every clipped step, is bit for bit the same.
private func sumOfSquares(slice b: UnsafeBufferPointer<Float>) -> Double {
    guard let p = b.baseAddress else { return 0 }
    var sums0 = SIMD8<Double>(), sums1 = SIMD8<Double>()
    var i = 0
    while i + 16 <= b.count {
        let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
        let low = SIMD8<Double>(v.lowHalf), high = SIMD8<Double>(v.highHalf)
        sums0 += low * low
        sums1 += high * high
        i += 16
    }
    var sum = (sums0 + sums1).sum()
    while i < b.count { sum += Double(p[i]) * Double(p[i]); i += 1 }
    return sum
}
