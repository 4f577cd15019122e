// Gradient checks of backpropagation through time (weeks 5-6): the hand-written BPTT of a
// recurrent core, and of the whole language model, against centred finite differences on
// the real code path (DESIGN.md "Numerics": L = Σ out ⊙ dOut, ‖a − n‖ / (‖a‖ + ‖n‖) < 1e-3).
// The week programs run them before training; the tests assert on them.
import SharedKernels
import SharedTools
import SharedData

/// Checks a core's BPTT over T steps: every entry of every parameter and of the initial state.
/// The scalar is L = Σ_t Σ h_t ⊙ dOut_t + Σ finalState ⊙ dFinal with seeded random dOut
/// (T, B, H) and dFinal (B, stateSize), so both ways gradient enters a chunk (from the
/// head at every step, and from the next chunk through the final state) are exercised.
/// The initial state is random too (a zero state would hide terms like dh_0·Whh).
public func checkRecurrentBackward(core: any RecurrentCore, batch B: Int, steps T: Int,
                                   seed: UInt64, tolerance: Double = 1e-3) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let H = core.hiddenSize, S = core.stateSize
    let ids = (0..<(T * B)).map { _ in rng.int(below: core.inputSize) }
    var initialState = rng.gaussians(B * S, std: 0.5)
    let dOut = rng.gaussians(T * B * H), dFinal = rng.gaussians(B * S)
    let w = core.makeWorkspace(batch: B, steps: T)

    func lossValue() -> Double {
        w.setInitialState(initialState)
        core.forward(ids: ids, workspace: w)
        return projected(Array(w.outputs), onto: dOut) + projected(w.finalState, onto: dFinal)
    }

    // analytic: one forward, one backward
    core.parameters.forEach { $0.zeroGrad() }
    _ = lossValue()
    w.dHidden = dOut
    w.dFinalState = dFinal
    core.backward(workspace: w)
    var results: [GradientCheckResult] = []
    for parameter in core.parameters {
        let numeric = numericGradient(count: parameter.count, get: { parameter.value[$0] },
                                      set: { parameter.value[$0] = $1 }, loss: lossValue)
        results.append(checkGradient(parameter.name, analytic: parameter.grad, numeric: numeric,
                                     tolerance: tolerance))
    }
    let dInitial = w.dInitialState
    let numeric = numericGradient(count: initialState.count, get: { initialState[$0] },
                                  set: { initialState[$0] = $1 }, loss: lossValue)
    results.append(checkGradient("initial state", analytic: dInitial, numeric: numeric, tolerance: tolerance))
    return results
}

/// Checks the whole language model (core + head + softmax cross-entropy) on one batch of
/// random characters: every parameter, at most `maxEntries` sampled entries each.
/// The step is h = 1e-2, not 1e-3: the loss is a mean over T·B characters, so each weight's
/// gradient is small (1e-4 to 1e-3 here) while the Float32 loss is only good to ~1e-7 of its
/// value, and at h = 1e-3 that rounding shows in the finite difference (measured on the
/// LSTM: 1.3e-2 at h = 1e-3, 3e-4 to 8e-4 at h = 1e-2). The core check above, with an O(1)
/// projected loss, passes at h = 1e-3.
public func checkLanguageModelBackward(_ model: RecurrentLanguageModel, batch B: Int, steps T: Int,
                                       seed: UInt64, maxEntries: Int = 1000, step h: Float = 1e-2,
                                       tolerance: Double = 1e-3) -> [GradientCheckResult] {
    var rng = SplitMix64(seed: seed)
    let V = model.vocabularySize
    let inputs = (0..<(B * T)).map { _ in rng.int(below: V) }
    let targets = (0..<(B * T)).map { _ in rng.int(below: V) }
    let w = model.makeWorkspace(batch: B, steps: T)
    model.parameters.forEach { $0.zeroGrad() }
    model.loss(inputs: inputs, targets: targets, workspace: w)
    model.backward(w)
    return model.parameters.map { parameter in
        let indices = sampledIndices(maxEntries, of: parameter.count, rng: &rng)
        let numeric = numericGradient(count: parameter.count, get: { parameter.value[$0] },
                                      set: { parameter.value[$0] = $1 },
                                      loss: { model.loss(inputs: inputs, targets: targets, workspace: w) },
                                      step: h, indices: indices)
        return checkGradient(parameter.name, analytic: parameter.grad, numeric: numeric,
                             indices: indices, tolerance: tolerance)
    }
}
