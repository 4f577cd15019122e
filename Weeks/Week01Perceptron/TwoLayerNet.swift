// A two-layer network: one hidden layer with a tanh nonlinearity, then a logistic output.
// It solves XOR, which no single line can. Week 1's bridge to week 3 (the MLP), where the
// same forward/backward pattern is written with matrix kernels. Read after Perceptron.swift.
// Reference: Rumelhart, Hinton, Williams, "Learning representations by back-propagating errors" (1986).
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// x (N, 2) → h = tanh(x·W1 + b1) (N, H) → z = h·w2 + b2 (N) → p = σ(z), the probability of class 1.
/// Trained by minimising the mean binary cross-entropy of p against the labels,
///   L = (1/N) Σ −[y·log p + (1 − y)·log(1 − p)],   whose gradient at the logits is (p − y)/N
/// (Shared/Kernels/BinaryCrossEntropy.swift). Written with explicit loops: this is lesson one;
/// week 3 writes the same thing with matrix kernels.
struct TwoLayerNet {
    let inputs: Int, hidden: Int
    /// W1: (D, H), row-major: W1[d, j] at d*H + j.
    var w1: [Float]
    /// b1: (H).
    var b1: [Float]
    /// w2: (H): one output unit, so the second weight matrix is a column.
    var w2: [Float]
    /// b2: the output bias.
    var b2: Float

    /// Random weights, W1 ~ N(0, 1/D) and w2 ~ N(0, 1/H) (so pre-activations start near unit
    /// scale and tanh is not saturated), biases at zero.
    init(inputs D: Int, hidden H: Int, rng: inout SplitMix64) {
        inputs = D
        hidden = H
        w1 = rng.gaussians(D * H, std: 1 / Float(D).squareRoot())
        b1 = [Float](repeating: 0, count: H)
        w2 = rng.gaussians(H, std: 1 / Float(H).squareRoot())
        b2 = 0
    }

    /// What backward needs from forward.
    struct Cache {
        /// x: (N, D), the input.
        let x: [Float]
        /// h: (N, H), the hidden activations after tanh.
        let hidden: [Float]
        let rows: Int
    }

    /// The gradients of the loss with respect to every parameter, same shapes as the parameters.
    struct Gradients {
        var dW1: [Float], dB1: [Float], dW2: [Float], dB2: Float
    }

    /// Forward pass.   x: (N, D)  →  logits z: (N).
    func forward(_ x: [Float], rows N: Int) -> (logits: [Float], cache: Cache) {
        let D = inputs, H = hidden
        precondition(x.count == N * D, "TwoLayerNet.forward: \(x.count) values for \(N) rows of \(D)")
        var h = [Float](repeating: 0, count: N * H)
        var z = [Float](repeating: 0, count: N)
        for n in 0..<N {
            // layer 1: h[n, j] = tanh(Σ_d x[n, d]·W1[d, j] + b1[j])
            for j in 0..<H {
                var a = b1[j]
                for d in 0..<D { a += x[n * D + d] * w1[d * H + j] }
                h[n * H + j] = tanh(a)
            }
            // layer 2: z[n] = Σ_j h[n, j]·w2[j] + b2
            var sum = b2
            for j in 0..<H { sum += h[n * H + j] * w2[j] }
            z[n] = sum
        }
        return (z, Cache(x: x, hidden: h, rows: N))
    }

    /// Backward pass from dZ = ∂L/∂z: (N) to every parameter. Fresh gradient buffers (this
    /// small model keeps no gradient state between steps).
    ///   z = h·w2 + b2        →  dW2 = hᵀ·dZ (H),   dB2 = Σ_n dZ[n],   dH = dZ·w2ᵀ (N, H)
    ///   h = tanh(a)          →  dA = dH ⊙ (1 − h²)          (tanh' = 1 − tanh², from the cached h)
    ///   a = x·W1 + b1        →  dW1 = xᵀ·dA (D, H),  dB1 = Σ_n dA[n, :] (H)
    func backward(_ dZ: [Float], cache: Cache) -> Gradients {
        let D = inputs, H = hidden, N = cache.rows
        var g = Gradients(dW1: [Float](repeating: 0, count: D * H), dB1: [Float](repeating: 0, count: H),
                          dW2: [Float](repeating: 0, count: H), dB2: 0)
        for n in 0..<N {
            g.dB2 += dZ[n]
            for j in 0..<H {
                let h = cache.hidden[n * H + j]
                g.dW2[j] += h * dZ[n]
                // in the forward pass this was h = tanh(a): walk back through it
                let dA = dZ[n] * w2[j] * (1 - h * h)
                g.dB1[j] += dA
                for d in 0..<D { g.dW1[d * H + j] += cache.x[n * D + d] * dA }
            }
        }
        return g
    }

    /// Class 1 when z > 0 (p > 0.5), for each row of x: (N, D).
    func predict(_ x: [Float], rows N: Int) -> [Int] {
        forward(x, rows: N).logits.map { $0 > 0 ? 1 : 0 }
    }

    /// One step of gradient descent: θ −= η·∂L/∂θ for every parameter.
    mutating func step(_ g: Gradients, learningRate lr: Float) {
        for i in 0..<w1.count { w1[i] -= lr * g.dW1[i] }
        for i in 0..<b1.count { b1[i] -= lr * g.dB1[i] }
        for i in 0..<w2.count { w2[i] -= lr * g.dW2[i] }
        b2 -= lr * g.dB2
    }
}

/// What training the two-layer net did.
struct TwoLayerNetRun {
    var net: TwoLayerNet
    /// Loss and accuracy every `recordEvery` steps, with the step they were taken at.
    var steps: [Int], losses: [Double], accuracies: [Double]
    /// First step at which every training point was classified right (nil if never).
    var solvedAtStep: Int?
}

/// Full-batch gradient descent on (x, y) for `steps` steps.   x: (N, D)   y: (N) in {0, 1}.
func trainTwoLayerNet(_ net: TwoLayerNet, x: [Float], y: [Int], steps: Int, learningRate: Float,
                      recordEvery: Int = 10) -> TwoLayerNetRun {
    var net = net
    let N = y.count
    let targets = y.map { Float($0) }
    var run = TwoLayerNetRun(net: net, steps: [], losses: [], accuracies: [], solvedAtStep: nil)
    for step in 0...steps {
        let (logits, cache) = net.forward(x, rows: N)
        // Mean binary cross-entropy of σ(z) against y, and ∂L/∂z = (σ(z) − y)/N (week 2 derives it).
        let loss = binaryCrossEntropyWithLogitsForward(logits, targets)
        var dLogits = [Float](repeating: 0, count: N)
        binaryCrossEntropyWithLogitsBackward(dLogits: &dLogits, logits: logits, targets: targets)
        var correct = 0
        for n in 0..<N where (logits[n] > 0 ? 1 : 0) == y[n] { correct += 1 }
        if correct == N && run.solvedAtStep == nil { run.solvedAtStep = step }
        if step % recordEvery == 0 || step == steps {
            run.steps.append(step)
            run.losses.append(loss)
            run.accuracies.append(Double(correct) / Double(N))
        }
        if step == steps { break }
        net.step(net.backward(dLogits, cache: cache), learningRate: learningRate)
    }
    run.net = net
    return run
}
