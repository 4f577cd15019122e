// Adam and AdamW over a `LanguageModel`'s flat parameter vector (weeks 5-10): the moments m
// and v are two vectors of the same layout (one arena each, llm.c's m_memory / v_memory), and
// each step walks the model's tensors through `withParameterBuffers` and applies the pointer
// kernels of Shared/Kernels/AdamW.swift to each tensor's slice, so a model trained here moves
// exactly as it did with the per-tensor `Adam` of Optimizers.swift.
// Weight decay applies to the tensors whose layout says `decays` (matrices), not to biases
// and gains. Reference: https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
import SharedKernels
import SharedTools
import SharedData
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
        firstMoment.withUnsafeMutableBufferPointer { mb in
            secondMoment.withUnsafeMutableBufferPointer { vb in
                for (index, info) in layout.enumerated() {
                    let decay = info.decays ? weightDecay : 0
                    let m = mb.baseAddress! + info.offset, v = vb.baseAddress! + info.offset
                    model.withParameterBuffers(index) { values, gradients in
                        precondition(values.count == info.count && gradients.count == info.count,
                                     "Adam: tensor \(info.name) has \(values.count) values, the layout says \(info.count)")
                        // The kernels of Shared/Kernels/AdamW.swift, on this tensor's slice of the arenas.
                        let p = values.baseAddress!, g = UnsafePointer(gradients.baseAddress!)
                        switch variant {
                        case .adamw:
                            adamWUpdate(p, firstMoment: m, secondMoment: v, gradients: g, count: info.count,
                                        step: stepCount, learningRate: learningRate, beta1: beta1, beta2: beta2,
                                        eps: eps, weightDecay: decay)
                        case .adam:
                            adamUpdate(p, firstMoment: m, secondMoment: v, gradients: g, count: info.count,
                                       step: stepCount, learningRate: learningRate, beta1: beta1, beta2: beta2,
                                       eps: eps, weightDecay: decay)
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
                    throw CheckpointMismatch("has no optimizer state '\(name)' (was it saved by another optimizer?)")
                }
                guard tensor.shape == info.shape, tensor.data.count == info.count else {
                    throw CheckpointMismatch("optimizer state '\(name)' has shape \(tensor.shape), the model needs \(info.shape)")
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
            total += withParameterBuffers(index) { _, gradients in
                gradients.isEmpty ? 0 : sumOfSquares(gradients.baseAddress!, count: gradients.count)
            }
        }
        return total.squareRoot()
    }

    /// Clipping by global norm (PyTorch's clip_grad_norm_): when the norm exceeds maxNorm,
    /// every gradient is scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Double {
        let norm = gradientNorm()
        let factor = clipScale(norm: norm, maxNorm: maxNorm)
        if factor < 1 { scaleGradients(by: factor) }
        return norm
    }

    /// Every gradient *= factor, in place.
    public func scaleGradients(by factor: Float) {
        for index in parameterLayout.indices {
            withParameterBuffers(index) { _, gradients in
                for i in gradients.indices { gradients[i] *= factor }
            }
        }
    }
}

