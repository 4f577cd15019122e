// Plain stochastic gradient descent, the update of weeks 1-3: step against the gradient.
// Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html

/// θ ← θ − lr · (g + λ·θ), elementwise over a flat buffer.
///   parameters, gradients: (n values).   weightDecay λ: L2 penalty folded into the gradient
///   (PyTorch's SGD weight_decay); 0 for none.
public func sgdUpdate(_ parameters: inout [Float], gradients: [Float], learningRate: Float,
                      weightDecay: Float = 0) {
    requireCount(gradients, parameters.count, "sgdUpdate: gradients")
    parameters.withUnsafeMutableBufferPointer { p in
        gradients.withUnsafeBufferPointer { g in
            for i in 0..<p.count { p[i] -= learningRate * (g[i] + weightDecay * p[i]) }
        }
    }
}
