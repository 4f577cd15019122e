// Optimizers over a `[Parameter]` list (week 4 on): plain SGD, SGD with momentum (and
// Nesterov), Adam and AdamW. Each is a small type that owns its state (velocity, moments,
// step count) and calls the update kernel of Shared/Kernels once per parameter tensor.
// The state is saved with the model, so a resumed run continues bit for bit.
// Reference: https://pytorch.org/docs/stable/optim.html (same formulas and defaults).
import SharedKernels
import SharedTools
import SharedData

/// What every optimizer offers the training loop: a step over the parameters' gradients, a
/// learning rate a schedule may change between steps, and its state for checkpoints.
///
/// Weight decay touches only parameters with `decays == true` (matrices, not biases), the
/// usual practice (nanoGPT's AdamW groups). How it is applied is the optimizer's business:
/// SGD, SGDMomentum and Adam add λ·θ to the gradient (L2 in the loss); AdamW shrinks the
/// weights directly (decoupled). The two agree for plain SGD and differ for Adam.
public protocol Optimizer: AnyObject {
    /// The tensors this optimizer updates, in a fixed order.
    var parameters: [Parameter] { get }
    /// The learning rate of the next `step()`. Schedules set it before each step.
    var learningRate: Float { get set }
    /// Steps taken so far (Adam's bias correction uses it; 0 before the first step).
    var stepCount: Int { get set }
    /// Short name for logs and checkpoints: "sgd", "momentum", "nesterov", "adam", "adamw".
    var name: String { get }
    /// One update of every parameter from its `grad`. Does not zero the gradients.
    func step()
    /// The per-parameter state buffers (velocities, moments) as named tensors, prefixed by
    /// `prefix` (e.g. "optimizer.m.fc1.weight"). Empty for plain SGD.
    func stateTensors(prefix: String) -> [NamedTensor]
    /// Restores the buffers written by `stateTensors(prefix:)`. Throws one clear line when a
    /// tensor is missing or has the wrong shape. `stepCount` is restored separately.
    func loadState(_ tensors: [String: NamedTensor], prefix: String) throws
}

extension Optimizer {
    /// Clears every parameter's gradient (once per training step, before backward).
    public func zeroGrad() { parameters.zeroGrad() }
}

/// Reads the state buffer `prefix + kind + "." + parameter.name` of `parameter`'s shape.
func stateBuffer(_ tensors: [String: NamedTensor], _ name: String, for parameter: Parameter) throws -> [Float] {
    guard let tensor = tensors[name] else {
        throw CheckpointMismatch("has no optimizer state '\(name)' (was it saved by a different optimizer?)")
    }
    guard tensor.shape == parameter.shape else {
        throw CheckpointMismatch("optimizer state '\(name)' has shape \(tensor.shape), the model needs \(parameter.shape)")
    }
    return tensor.data
}

/// The zero buffers an optimizer keeps per parameter (velocity, moments).
func zeroBuffers(like parameters: [Parameter]) -> [[Float]] {
    parameters.map { [Float](repeating: 0, count: $0.count) }
}

// MARK: - SGD

/// Plain stochastic gradient descent:  θ ← θ − lr·(g + λ·θ).
/// The weight decay λ here is L2 in the loss (its gradient λ·θ is added to g). With
/// `decoupled` the weights are shrunk directly instead, θ ← θ − lr·λ·θ, then θ ← θ − lr·g:
/// for plain SGD the two are the same update (up to rounding), which is why "weight decay"
/// and "L2 regularization" were long used as synonyms. Under Adam they are not (see Adam).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let weightDecay: Float
    public let decoupled: Bool
    public var stepCount = 0
    public var name: String { "sgd" }

    public init(_ parameters: [Parameter], learningRate: Float, weightDecay: Float = 0, decoupled: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public func step() {
        stepCount += 1
        for p in parameters {
            let decay = p.decays ? weightDecay : 0
            if decoupled {
                if decay != 0 { scaleBuffer(&p.value, by: 1 - learningRate * decay) }
                sgdUpdate(&p.value, gradients: p.grad, learningRate: learningRate)
            } else {
                sgdUpdate(&p.value, gradients: p.grad, learningRate: learningRate, weightDecay: decay)
            }
        }
    }

    public func stateTensors(prefix: String) -> [NamedTensor] { [] }
    public func loadState(_ tensors: [String: NamedTensor], prefix: String) throws {}
}

// MARK: - SGD with momentum

/// SGD with momentum (PyTorch's form, no dampening):
///   g ← g + λ·θ     v ← μ·v + g     θ ← θ − lr·v
/// With `nesterov` the step looks ahead along the velocity:  θ ← θ − lr·(g + μ·v).
/// The velocity v averages recent gradients: consistent directions speed up (by up to
/// 1/(1 − μ), 10x for μ = 0.9), oscillating ones cancel.
public final class SGDMomentum: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var stepCount = 0
    /// v per parameter, same shapes, starting at 0.
    public private(set) var velocities: [[Float]]
    public var name: String { nesterov ? "nesterov" : "momentum" }

    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0.9,
                nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(momentum >= 0 && momentum < 1, "SGDMomentum: momentum must be in [0, 1), got \(momentum)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.velocities = zeroBuffers(like: parameters)
    }

    public func step() {
        stepCount += 1
        for (i, p) in parameters.enumerated() {
            momentumUpdate(&p.value, velocity: &velocities[i], gradients: p.grad, learningRate: learningRate,
                           momentum: momentum, nesterov: nesterov, weightDecay: p.decays ? weightDecay : 0)
        }
    }

    public func stateTensors(prefix: String) -> [NamedTensor] {
        zip(parameters, velocities).map { NamedTensor(name: prefix + "velocity." + $0.name, shape: $0.shape, data: $1) }
    }

    public func loadState(_ tensors: [String: NamedTensor], prefix: String) throws {
        for (i, p) in parameters.enumerated() {
            velocities[i] = try stateBuffer(tensors, prefix + "velocity." + p.name, for: p)
        }
    }
}

// MARK: - Adam and AdamW

/// Adam (Kingma & Ba 2014), and AdamW when `decoupled` (Loshchilov & Hutter 2017):
///   m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²        (running moments, start 0)
///   m̂ = m / (1 − β₁ᵗ)              v̂ = v / (1 − β₂ᵗ)             (bias correction, t = step)
///   θ ← θ − lr · m̂ / (√v̂ + ε)
/// Weight decay λ:
///   Adam (L2):          g ← g + λ·θ before the moments. The decay term is then divided by
///                       √v̂ like the rest of the gradient: weights with large gradients
///                       are barely decayed, weights with tiny gradients are decayed hard.
///   AdamW (decoupled):  θ ← θ − lr·λ·θ, outside the adaptive step: every weight shrinks by
///                       the same factor (1 − lr·λ), as weight decay was meant to.
/// `AdamW` is this class with `decoupled` set (a subclass that only changes the defaults).
public class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    /// true: AdamW (decay the weights directly); false: Adam (decay through the gradient).
    public let decoupled: Bool
    public var stepCount = 0
    /// m and v per parameter, same shapes, starting at 0.
    public private(set) var firstMoments: [[Float]]
    public private(set) var secondMoments: [[Float]]
    public var name: String { decoupled ? "adamw" : "adam" }

    /// Adam with optional L2 weight decay (added to the gradient), PyTorch's torch.optim.Adam.
    public convenience init(_ parameters: [Parameter], learningRate: Float, beta1: Float = 0.9,
                            beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                  weightDecay: weightDecay, decoupled: false)
    }

    init(_ parameters: [Parameter], learningRate: Float, beta1: Float, beta2: Float,
         eps: Float, weightDecay: Float, decoupled: Bool) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                     "Adam: betas must be in [0, 1), got \(beta1), \(beta2)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        self.firstMoments = zeroBuffers(like: parameters)
        self.secondMoments = zeroBuffers(like: parameters)
    }

    public func step() {
        stepCount += 1
        for (i, p) in parameters.enumerated() {
            let decay = p.decays ? weightDecay : 0
            if decoupled {
                adamWUpdate(&p.value, firstMoment: &firstMoments[i], secondMoment: &secondMoments[i],
                            gradients: p.grad, step: stepCount, learningRate: learningRate,
                            beta1: beta1, beta2: beta2, eps: eps, weightDecay: decay)
            } else {
                adamUpdate(&p.value, firstMoment: &firstMoments[i], secondMoment: &secondMoments[i],
                           gradients: p.grad, step: stepCount, learningRate: learningRate,
                           beta1: beta1, beta2: beta2, eps: eps, weightDecay: decay)
            }
        }
    }

    public func stateTensors(prefix: String) -> [NamedTensor] {
        zip(parameters, firstMoments).map { NamedTensor(name: prefix + "m." + $0.name, shape: $0.shape, data: $1) }
            + zip(parameters, secondMoments).map { NamedTensor(name: prefix + "v." + $0.name, shape: $0.shape, data: $1) }
    }

    public func loadState(_ tensors: [String: NamedTensor], prefix: String) throws {
        for (i, p) in parameters.enumerated() {
            firstMoments[i] = try stateBuffer(tensors, prefix + "m." + p.name, for: p)
            secondMoments[i] = try stateBuffer(tensors, prefix + "v." + p.name, for: p)
        }
    }
}

/// AdamW: Adam with decoupled weight decay, PyTorch's torch.optim.AdamW (default λ = 0.01).
public final class AdamW: Adam {
    public init(_ parameters: [Parameter], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01) {
        super.init(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                   weightDecay: weightDecay, decoupled: true)
    }
}

// MARK: - Gradient norm and clipping over parameters

extension Array where Element == Parameter {
    /// The global L2 norm of all gradients taken as one vector: √(Σ_params Σ_i g_i²).
    public func gradientNorm() -> Double {
        reduce(0.0) { $0 + sumOfSquares($1.grad) }.squareRoot()
    }

    /// Clips by global norm (PyTorch's clip_grad_norm_): when the norm exceeds maxNorm, every
    /// gradient is scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Double {
        let norm = gradientNorm()
        let factor = clipScale(norm: norm, maxNorm: maxNorm)
        if factor < 1 { for p in self { scaleBuffer(&p.grad, by: factor) } }
        return norm
    }
}
