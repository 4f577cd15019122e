// Plain stochastic gradient descent, the update of weeks 1-3: step against the gradient.
// Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html

/// θ ← θ − lr · (g + λ·θ), elementwise over n values.
///   parameters, gradients: (n values), e.g. slices of flat arenas.   weightDecay λ: L2 penalty
///   folded into the gradient (PyTorch's SGD weight_decay); 0 for none.
public func sgdUpdate(_ p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                      count n: Int, learningRate: Float, weightDecay: Float = 0) {
    precondition(n >= 0, "sgdUpdate: negative count \(n)")
    // Plain pointers in constants, so the loop below vectorises; large buffers are split
    // across threads (see parallelRanges).
    parallelRanges(n) { range in
        for i in range { p[i] -= learningRate * (g[i] + weightDecay * p[i]) }
    }
}

/// Array form of `sgdUpdate`: parameters and gradients the same count.
public func sgdUpdate(_ parameters: inout [Float], gradients: [Float], learningRate: Float,
                      weightDecay: Float = 0) {
    requireCount(gradients, parameters.count, "sgdUpdate: gradients")
    sgdUpdate(&parameters, gradients: gradients, count: parameters.count,
              learningRate: learningRate, weightDecay: weightDecay)
}
