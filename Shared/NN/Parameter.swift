// A trainable tensor and its gradient (micrograd's `parameters()` idea, without autograd).
// Layers hold their weights as Parameters; optimizers, gradient zeroing, parameter counts and
// checkpoints all walk a `[Parameter]` list. Used from week 4 on.
import SharedKernels
import SharedTools
import SharedData

/// A named weight tensor with its gradient, both flat row-major `[Float]` of `shape`.
/// A class, so a layer and the optimizer updating it share the same storage.
public final class Parameter {
    public let name: String
    public let shape: [Int]
    /// The weights, (shape) row-major.
    public var value: [Float]
    /// dLoss/dvalue, same shape. Backward passes ADD into it; `zeroGrad` clears it once a step.
    public var grad: [Float]
    /// Whether weight decay applies (matrices yes; biases and norm gains usually not).
    public var decays: Bool

    public init(_ name: String, shape: [Int], value: [Float], decays: Bool = true) {
        let count = shape.reduce(1, *)
        precondition(value.count == count, "Parameter \(name): \(value.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.value = value
        self.grad = [Float](repeating: 0, count: count)
        self.decays = decays
    }

    /// Number of scalars in this tensor.
    public var count: Int { value.count }

    /// Clear the gradient before the next backward pass.
    public func zeroGrad() {
        for i in 0..<grad.count { grad[i] = 0 }
    }
}

extension Array where Element == Parameter {
    /// Total number of trainable scalars.
    public var scalarCount: Int { reduce(0) { $0 + $1.count } }

    public func zeroGrad() { forEach { $0.zeroGrad() } }
}
