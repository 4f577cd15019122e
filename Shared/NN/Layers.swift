// The layers of week 4 as modules: Linear, the activations ReLU / GELU / Tanh, and inverted
// Dropout. Each is a thin wrapper over the forward/backward kernels of Shared/Kernels that
// keeps its cache between the two calls. Used by week 4 on (the RNN, LSTM and GPT reuse them).
// Reference: https://pytorch.org/docs/stable/nn.html (Linear, ReLU, GELU, Tanh, Dropout)
import SharedKernels
import SharedTools
import SharedData

/// How a Linear layer's weights start (biases always start at 0).
public enum WeightInitialization: String, CaseIterable {
    /// N(0, 2/fanIn) (He et al. 2015): keeps the variance of ReLU/GELU activations constant
    /// from layer to layer.
    case he
    /// N(0, 1/fanIn) (LeCun / Glorot in fan-in form): for tanh and sigmoid.
    case xavier
}

// MARK: - Linear

/// out = x·W + b.   x: (N, inFeatures)   weight: (inFeatures, outFeatures)   bias: (outFeatures)
/// The weight is stored (in, out), so forward is a plain x·W (CS231n's layout; PyTorch
/// stores Wᵀ). Its parameters are named "<name>.weight" and "<name>.bias"; the bias does
/// not take weight decay.
public final class Linear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter
    public var isTraining = true
    /// The cache: the last forward input (N, inFeatures) and N.
    private var input: [Float] = []
    private var rows = 0

    public init(_ inFeatures: Int, _ outFeatures: Int, name: String,
                initialization: WeightInitialization = .he, rng: inout SplitMix64) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear \(name): sizes must be positive, got \(inFeatures)x\(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let variance: Float = initialization == .he ? 2 / Float(inFeatures) : 1 / Float(inFeatures)
        weight = Parameter(name + ".weight", shape: [inFeatures, outFeatures],
                           value: rng.gaussians(inFeatures * outFeatures, std: variance.squareRoot()))
        bias = Parameter(name + ".bias", shape: [outFeatures],
                         value: [Float](repeating: 0, count: outFeatures), decays: false)
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// out = x·W + b  (N, outFeatures).
    public func forward(_ x: [Float], rows N: Int) -> [Float] {
        precondition(x.count == N * inFeatures, "Linear \(weight.name): input has \(x.count) values, expected \(N)x\(inFeatures)")
        var out = [Float](repeating: 0, count: N * outFeatures)
        linearForward(&out, x, weight: weight.value, bias: bias.value, rows: N, inFeatures: inFeatures,
                      outFeatures: outFeatures)
        input = x
        rows = N
        return out
    }

    /// forward was out = x·W + b, so
    ///   dW += xᵀ·dOut (in, out)     db += Σ_rows dOut (out)     dX = dOut·Wᵀ (N, in)
    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        let N = rows
        precondition(dOut.count == N * outFeatures, "Linear \(weight.name): dOut has \(dOut.count) values, expected \(N)x\(outFeatures)")
        guard needsInputGradient else {
            // dW and db only: the third matmul (dX) is a third of the layer's backward work.
            matmul(&weight.grad, input, dOut, m: inFeatures, n: outFeatures, k: N, transposeA: true, beta: 1)
            biasBackward(dBias: &bias.grad, dOut: dOut, rows: N, cols: outFeatures)
            return []
        }
        var dX = [Float](repeating: 0, count: N * inFeatures)
        linearBackward(dX: &dX, dWeight: &weight.grad, dBias: &bias.grad, dOut: dOut, x: input,
                       weight: weight.value, rows: N, inFeatures: inFeatures, outFeatures: outFeatures)
        return dX
    }
}

// MARK: - Activations

/// out = max(0, x), elementwise. backward: dX = dOut ⊙ [x > 0].
public final class ReLU: Module {
    public var isTraining = true
    private var input: [Float] = []
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        reluForward(&out, x)
        input = x
        return out
    }

    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        guard needsInputGradient else { return [] }
        var dX = [Float](repeating: 0, count: dOut.count)
        reluBackward(dX: &dX, dOut: dOut, x: input)
        return dX
    }
}

/// out = GELU(x) (tanh approximation, as GPT-2), elementwise. backward: dX = dOut ⊙ GELU'(x).
public final class GELU: Module {
    public var isTraining = true
    private var input: [Float] = []
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        geluForward(&out, x)
        input = x
        return out
    }

    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        guard needsInputGradient else { return [] }
        var dX = [Float](repeating: 0, count: dOut.count)
        geluBackward(dX: &dX, dOut: dOut, x: input)
        return dX
    }
}

/// out = tanh(x), elementwise. backward: dX = dOut ⊙ (1 − out²) (needs the output, not x).
public final class Tanh: Module {
    public var isTraining = true
    private var output: [Float] = []
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        tanhForward(&out, x)
        output = out
        return out
    }

    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        guard needsInputGradient else { return [] }
        var dX = [Float](repeating: 0, count: dOut.count)
        tanhBackward(dX: &dX, dOut: dOut, out: output)
        return dX
    }
}

// MARK: - Dropout

/// Inverted dropout (Srivastava et al. 2014). In training mode each value is zeroed with
/// probability p and the survivors are scaled by 1/(1 − p):  out = x ⊙ mask. In evaluation
/// mode it is the identity, and because of the 1/(1 − p) scale the expected activations are
/// the same in both modes, so nothing needs rescaling at test time.
/// backward: dX = dOut ⊙ mask (the same mask: a dropped unit passes no gradient).
///
/// The layer owns its random generator (seeded), so a seed fixes every mask and a checkpoint
/// can store `rng.state` to resume with the same masks.
public final class Dropout: Module {
    public let probability: Float
    public var isTraining = true
    public var rng: SplitMix64
    /// When set (gradient checks), used instead of drawing a fresh mask: (N·features) values,
    /// each 0 or 1/(1 − p).
    public var fixedMask: [Float]?
    /// The mask of the last training-mode forward, nil when the last forward was the identity.
    public private(set) var mask: [Float]?

    public init(probability p: Float, seed: UInt64) {
        precondition(p >= 0 && p < 1, "Dropout: probability must be in [0, 1), got \(p)")
        probability = p
        rng = SplitMix64(seed: seed)
    }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        guard isTraining && (probability > 0 || fixedMask != nil) else {
            mask = nil
            return x
        }
        var out = [Float](repeating: 0, count: x.count)
        if let fixedMask {
            precondition(fixedMask.count == x.count, "Dropout: fixed mask has \(fixedMask.count) values for \(x.count)")
            for i in 0..<x.count { out[i] = x[i] * fixedMask[i] }
            mask = fixedMask
        } else {
            var drawn = [Float](repeating: 0, count: x.count)
            dropoutForward(&out, mask: &drawn, x, probability: probability, rng: &rng)
            mask = drawn
        }
        return out
    }

    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        guard needsInputGradient else { return [] }
        guard let mask else { return dOut }   // the forward was the identity
        var dX = [Float](repeating: 0, count: dOut.count)
        dropoutBackward(dX: &dX, dOut: dOut, mask: mask)
        return dX
    }
}
