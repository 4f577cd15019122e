// Week 03: a multi-layer perceptron, forward and backward written out layer by layer.
// Every layer is  z = h·W + b,  h' = act(z);  the last layer's z are the logits that go into
// softmax cross-entropy. Backward walks the same layers in reverse with the chain rule.
// Reference: CS231n "Neural Networks Part 1-3"; the NumPy anchor mlp_numpy.py does the same math.
import Shared

/// The nonlinearity between layers (never after the last one: the logits stay linear).
enum Activation: String, CaseIterable {
    case relu, tanh, sigmoid
}

/// How the weights start. Biases always start at zero.
enum Initialization: String, CaseIterable {
    /// N(0, 2/fanIn): keeps the variance of ReLU activations constant from layer to layer
    /// (He et al. 2015). The right choice for ReLU.
    case he
    /// N(0, 1/fanIn) (Glorot & Bengio 2010 in LeCun's fan-in form): for tanh and sigmoid.
    case xavier
    /// All zeros: every hidden unit computes the same thing and gets the same gradient, so
    /// they stay identical forever (the symmetry experiment).
    case zero
}

/// The network's parameters, their gradients and the momentum buffers.
/// Layer l maps sizes[l] features to sizes[l+1]:
///   weights[l]: (sizes[l], sizes[l+1])    biases[l]: (sizes[l+1])
/// A class, so the training loop updates the buffers in place (no copies per batch).
final class MLP {
    let layerSizes: [Int]
    let activation: Activation
    var weights: [[Float]]
    var biases: [[Float]]
    /// dLoss/dW and dLoss/db of the last batch, same shapes as the parameters. Backward
    /// overwrites them, as `dW = h.T @ dz` does in NumPy (week 4's modules accumulate instead).
    var dWeights: [[Float]]
    var dBiases: [[Float]]
    /// Momentum buffers v (same shapes), used when momentum > 0.
    var weightVelocities: [[Float]]
    var biasVelocities: [[Float]]

    var layerCount: Int { layerSizes.count - 1 }
    var parameterCount: Int { weights.reduce(0) { $0 + $1.count } + biases.reduce(0) { $0 + $1.count } }

    init(layerSizes: [Int], activation: Activation, initialization: Initialization,
         rng: inout SplitMix64) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 > 0 },
                     "MLP needs at least an input and an output size, all positive: \(layerSizes)")
        self.layerSizes = layerSizes
        self.activation = activation
        var weights: [[Float]] = []
        for l in 0..<(layerSizes.count - 1) {
            let fanIn = layerSizes[l], fanOut = layerSizes[l + 1]
            switch initialization {
            case .he: weights.append(rng.gaussians(fanIn * fanOut, std: (2 / Float(fanIn)).squareRoot()))
            case .xavier: weights.append(rng.gaussians(fanIn * fanOut, std: (1 / Float(fanIn)).squareRoot()))
            case .zero: weights.append([Float](repeating: 0, count: fanIn * fanOut))
            }
        }
        self.weights = weights
        self.biases = layerSizes.dropFirst().map { [Float](repeating: 0, count: $0) }
        self.dWeights = weights.map { [Float](repeating: 0, count: $0.count) }
        self.dBiases = biases.map { [Float](repeating: 0, count: $0.count) }
        self.weightVelocities = dWeights
        self.biasVelocities = dBiases
    }
}

/// Everything one forward/backward pass over `rows` examples needs, allocated once.
/// The training loop keeps one workspace for the batch size (and one for the smaller last
/// batch of an epoch), so nothing is allocated per batch.
///   input: (B, sizes[0])                      the gathered batch
///   preActivations[l]: (B, sizes[l+1])        z = h·W + b (the last one holds the logits)
///   activations[l]: (B, sizes[l+1])           act(z), for hidden layers (l < L-1)
///   dPreActivations[l], dActivations[l]       gradients of the same shapes
final class MLPWorkspace {
    let rows: Int
    var input: [Float]
    var labels: [Int]
    var preActivations: [[Float]]
    var activations: [[Float]]
    var dPreActivations: [[Float]]
    var dActivations: [[Float]]
    /// Softmax probabilities of the logits, (B, classes), filled by the loss.
    var probabilities: [Float]

    init(rows B: Int, layerSizes: [Int]) {
        rows = B
        input = [Float](repeating: 0, count: B * layerSizes[0])
        labels = [Int](repeating: 0, count: B)
        preActivations = layerSizes.dropFirst().map { [Float](repeating: 0, count: B * $0) }
        activations = preActivations
        dPreActivations = preActivations
        dActivations = preActivations
        probabilities = [Float](repeating: 0, count: B * layerSizes.last!)
    }

    /// The logits of the last forward pass, (B, classes).
    var logits: [Float] { preActivations[preActivations.count - 1] }

    /// Copies examples `indices` of `pixels` (count, features) into `input` and their labels
    /// into `labels`: the shuffled mini-batch, gathered into a preallocated buffer.
    func gather(_ indices: ArraySlice<Int>, pixels: [Float], labels allLabels: [Int], features D: Int) {
        precondition(indices.count == rows, "gather: \(indices.count) indices for a workspace of \(rows) rows")
        pixels.withUnsafeBufferPointer { source in
            input.withUnsafeMutableBufferPointer { destination in
                gatherRows(from: source.baseAddress!, sourceRows: source.count / D, width: D,
                           indices: indices, into: destination.baseAddress!)
            }
        }
        for (row, example) in indices.enumerated() { labels[row] = allLabels[example] }
    }
}

// MARK: - Forward

/// Forward pass over the rows in `workspace.input`, (B, sizes[0]).
/// For each layer l:  z_l = h_{l-1}·W_l + b_l   (h_{-1} is the input),
///                    h_l = act(z_l)            for every layer but the last.
/// Leaves the logits (B, classes) in `workspace.preActivations[L-1]`.
func mlpForward(_ model: MLP, _ workspace: MLPWorkspace) {
    let B = workspace.rows
    for l in 0..<model.layerCount {
        let inFeatures = model.layerSizes[l], outFeatures = model.layerSizes[l + 1]
        // z = h·W  (B, in)·(in, out) -> (B, out), then + b on every row.
        if l == 0 {
            matmul(&workspace.preActivations[l], workspace.input, model.weights[l],
                   m: B, n: outFeatures, k: inFeatures)
        } else {
            matmul(&workspace.preActivations[l], workspace.activations[l - 1], model.weights[l],
                   m: B, n: outFeatures, k: inFeatures)
        }
        biasAddForward(&workspace.preActivations[l], model.biases[l], rows: B, cols: outFeatures)
        // h = act(z), except after the last layer: the logits stay linear.
        if l < model.layerCount - 1 {
            activationForward(model.activation, &workspace.activations[l], workspace.preActivations[l])
        }
    }
}

/// Mean softmax cross-entropy of the logits in `workspace` against `workspace.labels`,
/// summed in Double. Also fills `workspace.probabilities` (B, classes).
func mlpLoss(_ model: MLP, _ workspace: MLPWorkspace) -> Double {
    softmaxCrossEntropyForward(probs: &workspace.probabilities, logits: workspace.logits,
                               targets: workspace.labels, rows: workspace.rows,
                               classes: model.layerSizes.last!)
}

// MARK: - Backward

/// Backward pass, given dLoss/dlogits (B, classes) in `workspace.dPreActivations[L-1]`.
/// Overwrites model.dWeights / model.dBiases. Walks the layers of `mlpForward` in reverse:
///   forward  z_l = h_{l-1}·W_l + b_l   ->  dW_l = h_{l-1}ᵀ·dz_l       (in, out)
///                                          db_l = Σ_rows dz_l         (out)
///                                          dh_{l-1} = dz_l·W_lᵀ       (B, in)
///   forward  h_l = act(z_l)            ->  dz_l = dh_l ⊙ act'(z_l)
///            relu' = [z > 0],  tanh' = 1 − h²,  sigmoid' = h(1 − h)
/// The gradient with respect to the input images is never needed, so the first layer stops
/// at dW and db (saving a third of that layer's work).
func mlpBackward(_ model: MLP, _ workspace: MLPWorkspace) {
    let B = workspace.rows
    for l in stride(from: model.layerCount - 1, through: 0, by: -1) {
        let inFeatures = model.layerSizes[l], outFeatures = model.layerSizes[l + 1]
        // In the forward pass this was z_l = h_{l-1}·W_l + b_l.
        // dW_l = h_{l-1}ᵀ·dz_l : (in, B)·(B, out), overwriting (beta = 0).
        if l == 0 {
            matmul(&model.dWeights[l], workspace.input, workspace.dPreActivations[l],
                   m: inFeatures, n: outFeatures, k: B, transposeA: true)
        } else {
            matmul(&model.dWeights[l], workspace.activations[l - 1], workspace.dPreActivations[l],
                   m: inFeatures, n: outFeatures, k: B, transposeA: true)
        }
        // db_l = column sums of dz_l (the kernel adds, so clear first).
        setToZero(&model.dBiases[l])
        biasBackward(dBias: &model.dBiases[l], dOut: workspace.dPreActivations[l], rows: B, cols: outFeatures)
        guard l > 0 else { break }
        // dh_{l-1} = dz_l·W_lᵀ : (B, out)·(out, in). Overwrites (beta = 0): h_{l-1} has one consumer.
        matmul(&workspace.dActivations[l - 1], workspace.dPreActivations[l], model.weights[l],
               m: B, n: inFeatures, k: outFeatures, transposeB: true)
        // In the forward pass this was h_{l-1} = act(z_{l-1}): dz = dh ⊙ act'.
        activationBackward(model.activation, dPreActivation: &workspace.dPreActivations[l - 1],
                           dOut: workspace.dActivations[l - 1],
                           preActivation: workspace.preActivations[l - 1],
                           activation: workspace.activations[l - 1])
    }
}

/// Gradient of the mean cross-entropy with respect to the logits: (p − onehot(y)) / B,
/// written into `workspace.dPreActivations[L-1]`. Call after `mlpLoss`.
func mlpLossBackward(_ model: MLP, _ workspace: MLPWorkspace) {
    // The kernel adds into dLogits, so clear them first.
    let last = model.layerCount - 1
    setToZero(&workspace.dPreActivations[last])
    softmaxCrossEntropyBackward(dLogits: &workspace.dPreActivations[last],
                                probs: workspace.probabilities, targets: workspace.labels,
                                rows: workspace.rows, classes: model.layerSizes.last!)
}

// MARK: - Update

/// One step of mini-batch SGD, with momentum when `momentum` > 0:
///   v = μ·v + g,   w = w − lr·v        (PyTorch's form; μ = 0 is plain SGD: w −= lr·g)
func mlpUpdate(_ model: MLP, learningRate: Float, momentum: Float) {
    for l in 0..<model.layerCount {
        if momentum > 0 {
            momentumUpdate(&model.weights[l], velocity: &model.weightVelocities[l],
                           gradients: model.dWeights[l], learningRate: learningRate, momentum: momentum)
            momentumUpdate(&model.biases[l], velocity: &model.biasVelocities[l],
                           gradients: model.dBiases[l], learningRate: learningRate, momentum: momentum)
        } else {
            sgdUpdate(&model.weights[l], gradients: model.dWeights[l], learningRate: learningRate)
            sgdUpdate(&model.biases[l], gradients: model.dBiases[l], learningRate: learningRate)
        }
    }
}

// MARK: - Activations

/// h = act(z), elementwise.   z, h: (n values); h is overwritten.
func activationForward(_ activation: Activation, _ h: inout [Float], _ z: [Float]) {
    switch activation {
    case .relu: reluForward(&h, z)
    case .tanh: tanhForward(&h, z)
    case .sigmoid: sigmoidForward(&h, z)
    }
}

/// dz = dh ⊙ act'(z), overwriting dz.   All (n values), same layout.
///   relu' = [z > 0] (needs z),   tanh' = 1 − h² and sigmoid' = h(1 − h) (need h).
func activationBackward(_ activation: Activation, dPreActivation dZ: inout [Float], dOut dH: [Float],
                        preActivation z: [Float], activation h: [Float]) {
    setToZero(&dZ)   // the kernels add into dX
    switch activation {
    case .relu: reluBackward(dX: &dZ, dOut: dH, x: z)
    case .tanh: tanhBackward(dX: &dZ, dOut: dH, out: h)
    case .sigmoid: sigmoidBackward(dX: &dZ, dOut: dH, out: h)
    }
}

/// buffer[i] = 0 for every i, in place (no allocation).
func setToZero(_ buffer: inout [Float]) {
    buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
}

// MARK: - Gradient check

/// Checks `mlpBackward` + `mlpLossBackward` on a tiny network (default 7-6-5-4, 3 examples,
/// seeded inputs, labels and small random biases): every weight and bias gradient against
/// centered finite differences of the real forward pass and loss. One result per tensor.
/// Step h = 1e-2 for the smooth tanh and sigmoid (their small gradients drown in Float32
/// rounding at 1e-3), 1e-3 for ReLU (a larger step could jump across its kink at 0).
func checkMLPBackward(activation: Activation, layerSizes: [Int] = [7, 6, 5, 4], rows: Int = 3,
                      seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let model = MLP(layerSizes: layerSizes, activation: activation,
                    initialization: activation == .relu ? .he : .xavier, rng: &rng)
    for l in 0..<model.layerCount { model.biases[l] = rng.gaussians(model.biases[l].count, std: 0.1) }
    let workspace = MLPWorkspace(rows: rows, layerSizes: layerSizes)
    workspace.input = rng.gaussians(rows * layerSizes[0])
    for r in 0..<rows { workspace.labels[r] = rng.int(below: layerSizes.last!) }
    let loss = { () -> Double in
        mlpForward(model, workspace)
        return mlpLoss(model, workspace)
    }
    // Analytic gradients: one forward, then backward from the loss.
    _ = loss()
    mlpLossBackward(model, workspace)
    mlpBackward(model, workspace)
    let h: Float = activation == .relu ? 1e-3 : 1e-2
    var results: [GradientCheckResult] = []
    for l in 0..<model.layerCount {
        let numericWeight = numericGradient(count: model.weights[l].count, get: { model.weights[l][$0] },
                                            set: { model.weights[l][$0] = $1 }, loss: loss, step: h)
        results.append(checkGradient("dW\(l + 1)", analytic: model.dWeights[l], numeric: numericWeight))
        let numericBias = numericGradient(count: model.biases[l].count, get: { model.biases[l][$0] },
                                          set: { model.biases[l][$0] = $1 }, loss: loss, step: h)
        results.append(checkGradient("db\(l + 1)", analytic: model.dBiases[l], numeric: numericBias))
    }
    return results
}
