// Week 04's model: the week 3 MLP rebuilt from modules (Shared/NN/Module.swift, Layers.swift),
// and the gradient checks of every module type and of the whole stack.
//   Linear(in, h1) → act → Dropout → Linear(h1, h2) → act → Dropout → ... → Linear(hL, classes)
import Shared

/// The MLP as a Sequential of modules. Weights are drawn from `rng` layer by layer in the
/// same order as week 3's `MLP` (He for relu/gelu, Xavier for tanh), so with the same seed the
/// two start from identical weights. Each Dropout gets its own seeded generator.
///   sizes: [inputs, hidden..., classes]
func makeMLP(sizes: [Int], activation: String, dropout: Float, rng: inout SplitMix64,
             dropoutSeed: UInt64) -> Sequential {
    precondition(sizes.count >= 2, "makeMLP: needs at least input and output sizes, got \(sizes)")
    let initialization: WeightInitialization = activation == "tanh" ? .xavier : .he
    var layers: [Module] = []
    for l in 0..<(sizes.count - 1) {
        layers.append(Linear(sizes[l], sizes[l + 1], name: "fc\(l + 1)", initialization: initialization, rng: &rng))
        guard l < sizes.count - 2 else { break }   // the logits stay linear
        switch activation {
        case "gelu": layers.append(GELU())
        case "tanh": layers.append(Tanh())
        default: layers.append(ReLU())
        }
        if dropout > 0 { layers.append(Dropout(probability: dropout, seed: dropoutSeed &+ UInt64(l))) }
    }
    return Sequential(layers)
}

/// The Dropout layers of a model, in order (their generators go into checkpoints).
func dropoutLayers(_ model: Sequential) -> [Dropout] {
    model.layers.compactMap { $0 as? Dropout }
}

// MARK: - Gradient checks

/// Checks `module.backward` against centered finite differences of `module.forward`, with
/// the scalar L = Σ out ⊙ dOut for a seeded random dOut: dX and every parameter gradient.
/// The module must be deterministic between calls (Dropout: set `fixedMask`).
///   x: (rows, inFeatures)
func checkModule(_ name: String, _ module: Module, x: [Float], rows: Int, outCount: Int,
                 seed: UInt64, step h: Float = 1e-3) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let dOut = rng.gaussians(outCount)
    module.zeroGrad()
    _ = module.forward(x, rows: rows)
    let dX = module.backward(dOut)
    var results = [checkGradient("\(name) dX",
                                 analytic: dX,
                                 numeric: numericGradient(of: { projected(module.forward($0, rows: rows), onto: dOut) },
                                                          at: x, step: h))]
    let loss = { projected(module.forward(x, rows: rows), onto: dOut) }
    for p in module.parameters {
        let numeric = numericGradient(count: p.count, get: { p.value[$0] }, set: { p.value[$0] = $1 },
                                      loss: loss, step: h)
        results.append(checkGradient("\(name) d\(p.name)", analytic: p.grad, numeric: numeric))
    }
    return results
}

/// Gradient checks of every module type (Linear, ReLU, GELU, Tanh, Dropout with a fixed
/// mask) and of a whole Sequential MLP through the cross-entropy loss, on tiny shapes
/// (3 rows; 5 → 4 features) so every entry is checked.
func checkWeek04Modules(seed: UInt64) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let rows = 3, inFeatures = 5, outFeatures = 4
    var results: [GradientCheckResult] = []

    let linear = Linear(inFeatures, outFeatures, name: "linear", rng: &rng)
    linear.bias.value = rng.gaussians(outFeatures, std: 0.1)
    results += checkModule("Linear", linear, x: rng.gaussians(rows * inFeatures), rows: rows,
                           outCount: rows * outFeatures, seed: seed &+ 1)

    // Activations: inputs kept at least 0.1 away from ReLU's kink at 0.
    var awayFromZero = rng.gaussians(rows * inFeatures)
    for i in awayFromZero.indices where abs(awayFromZero[i]) < 0.1 { awayFromZero[i] += awayFromZero[i] < 0 ? -0.2 : 0.2 }
    for (name, module) in [("ReLU", ReLU() as Module), ("GELU", GELU()), ("Tanh", Tanh())] {
        results += checkModule(name, module, x: awayFromZero, rows: rows, outCount: rows * inFeatures, seed: seed &+ 2)
    }

    // Dropout with a fixed mask: p = 0.5, so kept values are scaled by 2.
    let dropout = Dropout(probability: 0.5, seed: seed)
    dropout.fixedMask = (0..<(rows * inFeatures)).map { $0 % 3 == 0 ? 0 : 2 }
    results += checkModule("Dropout", dropout, x: awayFromZero, rows: rows, outCount: rows * inFeatures, seed: seed &+ 3)

    // The whole stack, Linear → ReLU → Dropout(fixed) → Linear → Tanh → Linear, through the
    // loss: L = cross-entropy(logits, labels). Small random biases move ReLU inputs off 0.
    var modelRNG = SplitMix64(seed: seed &+ 4)
    let sizes = [7, 6, 5, 4]
    let first = Linear(sizes[0], sizes[1], name: "fc1", rng: &modelRNG)
    let middle = Linear(sizes[1], sizes[2], name: "fc2", rng: &modelRNG)
    let last = Linear(sizes[2], sizes[3], name: "fc3", initialization: .xavier, rng: &modelRNG)
    for layer in [first, middle, last] { layer.bias.value = modelRNG.gaussians(layer.outFeatures, std: 0.1) }
    let stackDropout = Dropout(probability: 0.25, seed: seed)
    stackDropout.fixedMask = (0..<(rows * sizes[1])).map { $0 % 4 == 1 ? 0 : 4 / 3 }
    let model = Sequential([first, ReLU(), stackDropout, middle, Tanh(), last])
    let x = modelRNG.gaussians(rows * sizes[0])
    let labels = (0..<rows).map { _ in modelRNG.int(below: sizes[3]) }
    let criterion = CrossEntropyLoss()
    let loss = { () -> Double in
        criterion.forward(model.forward(x, rows: rows), targets: labels, rows: rows, classes: sizes[3])
    }
    model.zeroGrad()
    _ = loss()
    let dX = model.backward(criterion.backward())
    results.append(checkGradient("Sequential dX", analytic: dX,
                                 numeric: numericGradient(of: { input in
                                     criterion.forward(model.forward(input, rows: rows), targets: labels,
                                                       rows: rows, classes: sizes[3])
                                 }, at: x)))
    for p in model.parameters {
        let numeric = numericGradient(count: p.count, get: { p.value[$0] }, set: { p.value[$0] = $1 }, loss: loss)
        results.append(checkGradient("Sequential d\(p.name)", analytic: p.grad, numeric: numeric))
    }
    return results
}
