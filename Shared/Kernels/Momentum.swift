// SGD with momentum (week 4): a velocity that averages recent gradients smooths the path and
// speeds up along consistent directions. Nesterov's variant looks one step ahead.
// Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html (same formulas,
// dampening 0), Sutskever et al. 2013.

/// One momentum step, elementwise over n values (PyTorch's form):
///   g ← g + λ·θ                   (weightDecay λ, L2; 0 for none)
///   v ← μ·v + g
///   θ ← θ − lr · v                or, with nesterov,  θ ← θ − lr · (g + μ·v)
///   parameters, velocity, gradients: (n values), e.g. slices of flat arenas; velocity starts
///   at 0 and is updated in place.
public func momentumUpdate(_ p: UnsafeMutablePointer<Float>, velocity v: UnsafeMutablePointer<Float>,
                           gradients gb: UnsafePointer<Float>, count n: Int, learningRate: Float,
                           momentum: Float, nesterov: Bool = false, weightDecay: Float = 0) {
    precondition(n >= 0, "momentumUpdate: negative count \(n)")
    // Plain pointers in constants, so the loop vectorises; large buffers are split across
    // threads (see parallelRanges).
    parallelRanges(n) { range in
        for i in range {
            let g = gb[i] + weightDecay * p[i]
            v[i] = momentum * v[i] + g
            let step = nesterov ? g + momentum * v[i] : v[i]
            p[i] -= learningRate * step
        }
    }
}

/// Array form of `momentumUpdate`: all three arrays the same count.
public func momentumUpdate(_ parameters: inout [Float], velocity: inout [Float], gradients: [Float],
                           learningRate: Float, momentum: Float, nesterov: Bool = false,
                           weightDecay: Float = 0) {
    requireCount(velocity, parameters.count, "momentumUpdate: velocity")
    requireCount(gradients, parameters.count, "momentumUpdate: gradients")
    momentumUpdate(&parameters, velocity: &velocity, gradients: gradients, count: parameters.count,
                   learningRate: learningRate, momentum: momentum, nesterov: nesterov,
                   weightDecay: weightDecay)
}
