// The module abstraction of week 4 (PyTorch's nn.Module, without autograd): a layer runs its
// forward pass and keeps what its backward needs, its backward returns the input gradient
// and ADDS into its parameters' gradients, and it lists its parameters for the optimizer.
// Every later network (RNN, LSTM, attention, the GPT) is built from modules like these.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Module.html, CS231n layers.py
import SharedKernels
import SharedTools
import SharedData

/// A layer (or a stack of layers) mapping a batch of rows to a batch of rows:
///   forward:  x (N, inFeatures) -> out (N, outFeatures)
///   backward: dOut (N, outFeatures) -> dX (N, inFeatures), dParameters += ...
///
/// A module is a class: it remembers its last forward input (its cache) so `backward` can be
/// called with dOut alone, like `loss.backward()` in PyTorch. The price is that forward and
/// backward must alternate (forward, backward, forward, backward...); a second forward
/// before the backward overwrites the cache. Every layer of this workbook is used that way.
public protocol Module: AnyObject {
    /// Runs the layer on `rows` examples and keeps the cache for `backward`.
    ///   x: (rows, inFeatures) -> (rows, outFeatures)
    func forward(_ x: [Float], rows: Int) -> [Float]
    /// Backward of the last `forward`: adds dLoss/dθ into every parameter's `grad` and
    /// returns dLoss/dx (rows, inFeatures). With `needsInputGradient` false it skips dX and
    /// returns [] (the first layer of a network: nobody needs the gradient of the images;
    /// PyTorch skips it too, since the input does not require grad).
    @discardableResult
    func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float]
    /// The trainable tensors, in a fixed order (optimizers, zeroing, counting, saving).
    var parameters: [Parameter] { get }
    /// Training mode (dropout active) or evaluation mode (dropout is the identity).
    var isTraining: Bool { get set }
}

extension Module {
    /// Backward that returns the input gradient dX.
    @discardableResult
    public func backward(_ dOut: [Float]) -> [Float] { backward(dOut, needsInputGradient: true) }

    /// Switch to training mode (PyTorch's model.train()).
    public func train() { isTraining = true }

    /// Switch to evaluation mode (PyTorch's model.eval()): dropout off.
    public func eval() { isTraining = false }

    /// Clears every parameter gradient.
    public func zeroGrad() { parameters.zeroGrad() }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.scalarCount }
}

/// Layers applied one after the other: out = f_L(... f_2(f_1(x))).
/// Backward runs them in reverse, feeding each one's dX to the layer before it (the chain
/// rule); the first layer skips its dX unless the caller asks for it.
public final class Sequential: Module {
    public let layers: [Module]

    public init(_ layers: [Module]) {
        self.layers = layers
    }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        var h = x
        for layer in layers { h = layer.forward(h, rows: rows) }
        return h
    }

    @discardableResult
    public func backward(_ dOut: [Float], needsInputGradient: Bool) -> [Float] {
        var gradient = dOut
        for (index, layer) in layers.enumerated().reversed() {
            gradient = layer.backward(gradient, needsInputGradient: index > 0 || needsInputGradient)
        }
        return gradient
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { for layer in layers { layer.isTraining = newValue } }
    }
}

extension Array where Element == Parameter {
    /// The parameters as checkpoint tensors, named by `Parameter.name`.
    public func namedTensors() -> [NamedTensor] {
        map { NamedTensor(name: $0.name, shape: $0.shape, data: $0.value) }
    }

    /// Copies values from checkpoint tensors with the same names and shapes. Throws one clear
    /// line when a tensor is missing or has another shape (a checkpoint of another model).
    public func load(_ tensors: [String: NamedTensor]) throws {
        for p in self {
            guard let tensor = tensors[p.name] else {
                throw CheckpointMismatch("has no tensor '\(p.name)': it was saved for a different model")
            }
            guard tensor.shape == p.shape else {
                throw CheckpointMismatch("tensor '\(p.name)' has shape \(tensor.shape), this model needs \(p.shape)")
            }
            p.value = tensor.data
        }
    }

    /// A copy of every value (e.g. the best weights so far, for early stopping).
    public func snapshot() -> [[Float]] { map(\.value) }

    /// Puts back values taken by `snapshot()`.
    public func restore(_ values: [[Float]]) {
        precondition(values.count == count, "restore: \(values.count) tensors for \(count) parameters")
        for (p, value) in zip(self, values) {
            precondition(value.count == p.count, "restore: \(p.name) has \(p.count) values, got \(value.count)")
            p.value = value
        }
    }
}
