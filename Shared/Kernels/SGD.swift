// Plain stochastic gradient descent, the update of weeks 1-3: step against the gradient.
// Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html

/// θ ← θ − lr · (g + λ·θ), elementwise over a flat buffer.
///   parameters, gradients: (n values).   weightDecay λ: L2 penalty folded into the gradient
///   (PyTorch's SGD weight_decay); 0 for none.
public func sgdUpdate(_ parameters: inout [Float], gradients: [Float], learningRate: Float,
                      weightDecay: Float = 0) {
    requireCount(gradients, parameters.count, "sgdUpdate: gradients")
    parameters.withUnsafeMutableBufferPointer { pb in
        gradients.withUnsafeBufferPointer { gb in
            // Plain pointers in constants, so the loop below vectorises; large buffers are
            // split across threads (see parallelRanges).
            let p = pb.baseAddress!, g = gb.baseAddress!
            parallelRanges(pb.count) { range in
                for i in range { p[i] -= learningRate * (g[i] + weightDecay * p[i]) }
            }
        }
    }
}
