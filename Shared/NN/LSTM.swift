// The LSTM (week 6) and its backward pass through time, by hand. A cell state c_t, changed
// only by elementwise gating, carries information (and gradient) across many steps; the
// hidden state h_t is a gated read-out of it. Reference: Hochreiter & Schmidhuber (1997);
// Gers et al. (2000) for the forget gate; https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html
//
// Same layout and tricks as RNN.swift: time-major (T, B, ·) buffers, the one-hot input
// projection as a gather, and the four gates fused into one (B, H)x(H, 4H) gemm per step.
// Gate order along the 4H axis is PyTorch's: input i, forget f, candidate g, output o.
import SharedKernels
import SharedTools
import SharedData

/// A single-layer LSTM over one-hot character inputs.
///   inputWeight Wxh: (V, 4H)   hiddenWeight Whh: (H, 4H)   bias b: (4H), columns [i | f | g | o]
///   z_t = x_t·Wxh + h_{t−1}·Whh + b                       (B, 4H)
///   i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
///   c_t = f ⊙ c_{t−1} + i ⊙ g        h_t = o ⊙ tanh(c_t)
/// Initialisation: uniform ±1/√H (PyTorch's), except the forget-gate bias, which starts at 1
/// so that f ≈ 0.73 and the cell remembers by default early in training (Gers et al., 2000;
/// Jozefowicz et al., 2015). `inputBound` overrides Wxh's bound. A one-hot input picks one row
/// of Wxh, so at ±1/√H each gate gets an input push of std 1/√(3H), tiny next to h·Whh. ±1 gives
/// std 1/√3: the same as PyTorch's usual embedding (width H, N(0, 1)) feeding nn.LSTM, and
/// what week 7's seq2seq needs for the digits to register from the first steps.
public final class LSTM: RecurrentCore {
    public let inputSize: Int
    public let hiddenSize: Int
    public let inputWeight: Parameter
    public let hiddenWeight: Parameter
    public let bias: Parameter

    public init(inputSize V: Int, hiddenSize H: Int, forgetBias: Float = 1, inputBound: Float? = nil,
                rng: inout SplitMix64) {
        precondition(V >= 1 && H >= 1, "LSTM: sizes must be positive, got V \(V), H \(H)")
        inputSize = V
        hiddenSize = H
        let bound = 1 / Float(H).squareRoot()
        let inputLimit = inputBound ?? bound
        inputWeight = Parameter("lstm.input_weight", shape: [V, 4 * H],
                                value: rng.uniforms(V * 4 * H, -inputLimit, inputLimit))
        hiddenWeight = Parameter("lstm.hidden_weight", shape: [H, 4 * H], value: rng.uniforms(H * 4 * H, -bound, bound))
        var b = rng.uniforms(4 * H, -bound, bound)
        for j in H..<(2 * H) { b[j] = forgetBias }
        bias = Parameter("lstm.bias", shape: [4 * H], value: b, decays: false)
    }

    public var parameters: [Parameter] { [inputWeight, hiddenWeight, bias] }
    public var kind: String { "lstm" }

    /// Whh (H, 4H) and Whhᵀ (4H, H) in the gemm's panel order, packed once per pass and
    /// multiplied T times (see `PackedMatrix`).
    private lazy var packedHiddenWeight = PackedMatrix(rows: hiddenSize, columns: 4 * hiddenSize)
    private lazy var packedHiddenWeightTransposed = PackedMatrix(rows: 4 * hiddenSize, columns: hiddenSize)

    /// The LSTM carries h and c: state width 2H.
    public var stateSize: Int { 2 * hiddenSize }

    public func makeWorkspace(batch: Int, steps: Int) -> RecurrentWorkspace {
        RecurrentWorkspace(batch: batch, steps: steps, hiddenSize: hiddenSize, stateSize: 2 * hiddenSize,
                           gateWidth: 4 * hiddenSize, withCells: true)
    }

    /// Whh packed for `gemm` now, for a generation's one-token forwards (see RecurrentCore).
    public func makePackedHiddenWeight() -> PackedMatrix {
        let packed = PackedMatrix(rows: hiddenSize, columns: 4 * hiddenSize)
        packed.pack(hiddenWeight.value)
        return packed
    }

    /// Runs T steps from the initial state (block 0 of workspace.hidden and workspace.cells).
    ///   ids: (T, B) time-major, each in 0..<V.
    /// Writes hidden and cells (T+1, B, H), gates (T, B, 4H) (the activations i, f, g, o) and
    /// tanhCells (T, B, H): everything the backward pass needs.
    public func forward(ids: [Int], workspace w: RecurrentWorkspace, packedHiddenWeight: PackedMatrix?) {
        let T = w.steps, B = w.batch, H = hiddenSize, V = inputSize, G = 4 * H
        precondition(ids.count == T * B, "LSTM.forward: \(ids.count) ids for T \(T) x B \(B)")
        w.ids = ids
        let whh: PackedMatrix
        if let packedHiddenWeight {
            whh = packedHiddenWeight
        } else {
            whh = self.packedHiddenWeight
            whh.pack(hiddenWeight.value)
        }
        inputWeight.value.withUnsafeBufferPointer { wxh in
        bias.value.withUnsafeBufferPointer { b in
        w.hidden.withUnsafeMutableBufferPointer { hb in
        w.cells.withUnsafeMutableBufferPointer { cb in
        w.gates.withUnsafeMutableBufferPointer { zb in
        w.tanhCells.withUnsafeMutableBufferPointer { tb in
            let h = hb.baseAddress!, c = cb.baseAddress!, z = zb.baseAddress!, tanhC = tb.baseAddress!
            // pass 1: z_t = x_t·Wxh + b for all steps: a gather of rows of Wxh
            for n in 0..<(T * B) {
                let id = ids[n]
                precondition(id >= 0 && id < V, "LSTM.forward: id \(id) outside 0..<\(V)")
                let row = z + n * G, weights = wxh.baseAddress! + id * G
                for j in 0..<G { row[j] = weights[j] + b[j] }
            }
            for t in 0..<T {
                let zt = z + t * B * G
                let hPrevious = h + t * B * H, cPrevious = c + t * B * H
                let hNext = h + (t + 1) * B * H, cNext = c + (t + 1) * B * H, tanhCt = tanhC + t * B * H
                // pass 2: z_t += h_{t−1}·Whh, all four gates in one (B, H)x(H, 4H) gemm
                gemm(m: B, a: hPrevious, lda: H, packedB: whh, beta: 1, c: zt, ldc: G)
                // passes 3-5, row by row (the B sequences are independent, so the rows are
                // split across threads when B is large enough)
                parallelRanges(B, minimumPerThread: 8) { rows in
                    for r in rows {
                        let gate = zt + r * G
                        // pass 3: nonlinearities in place: σ on i and f (contiguous), tanh on g, σ on o
                        map16(gate, gate, count: 2 * H, sigmoid16)
                        map16(gate + 2 * H, gate + 2 * H, count: H, tanh16)
                        map16(gate + 3 * H, gate + 3 * H, count: H, sigmoid16)
                        // pass 4: c_t = f ⊙ c_{t−1} + i ⊙ g
                        let i = gate, f = gate + H, g = gate + 2 * H, o = gate + 3 * H
                        let cp = cPrevious + r * H, cn = cNext + r * H
                        for j in 0..<H { cn[j] = f[j] * cp[j] + i[j] * g[j] }
                        // pass 5: h_t = o ⊙ tanh(c_t)
                        let tc = tanhCt + r * H, hn = hNext + r * H
                        map16(tc, cn, count: H, tanh16)
                        for j in 0..<H { hn[j] = o[j] * tc[j] }
                    }
                }
            }
        }}}}}}
    }

    /// Backpropagation through time. Adds into every parameter's grad.
    /// In: workspace.dHidden (T, B, H) = ∂L/∂h_t from above; workspace.dFinalState (B, 2H) =
    ///     ∂L/∂(h_T, c_T) from beyond this chunk (usually 0).
    /// Out: workspace.dInitialState (B, 2H) = ∂L/∂(h_0, c_0) (overwritten).
    /// Walking t = T … 1, with dh and dc the gradients arriving from step t+1:
    ///   dh_t  += dHidden_t
    ///   do     = dh_t ⊙ tanh(c_t)                         (h_t = o ⊙ tanh(c_t))
    ///   dc_t  += dh_t ⊙ o ⊙ (1 − tanh²(c_t))
    ///   di = dc_t ⊙ g    dg = dc_t ⊙ i    df = dc_t ⊙ c_{t−1}    (c_t = f ⊙ c_{t−1} + i ⊙ g)
    ///   dc_{t−1} = dc_t ⊙ f
    ///   dz = [di·i(1−i) | df·f(1−f) | dg·(1−g²) | do·o(1−o)]  (σ' = y(1−y), tanh' = 1−y²)
    ///   dh_{t−1} = dz·Whhᵀ
    /// and afterwards: dWhh += Σ_t h_{t−1}ᵀ·dz_t, dWxh[x_t] += dz_t, db += Σ dz_t.
    public func backward(workspace w: RecurrentWorkspace) {
        let T = w.steps, B = w.batch, H = hiddenSize, V = inputSize, G = 4 * H
        let recordNorms = w.recordsGradientNorms
        w.dState.withUnsafeMutableBufferPointer { sb in
            w.dFinalState.withUnsafeBufferPointer { sb.baseAddress!.update(from: $0.baseAddress!, count: B * 2 * H) }
        }
        let whhTransposed = packedHiddenWeightTransposed
        whhTransposed.pack(transpose: true, hiddenWeight.value)
        w.cells.withUnsafeBufferPointer { cb in
        w.gates.withUnsafeBufferPointer { zb in
        w.tanhCells.withUnsafeBufferPointer { tb in
        w.dHidden.withUnsafeBufferPointer { dHiddenBuffer in
        w.dPreactivation.withUnsafeMutableBufferPointer { dzb in
        w.dState.withUnsafeMutableBufferPointer { sb in
            let c = cb.baseAddress!, z = zb.baseAddress!, tanhC = tb.baseAddress!
            let dHidden = dHiddenBuffer.baseAddress!, dz = dzb.baseAddress!
            let dh = sb.baseAddress!, dc = sb.baseAddress! + B * H   // state layout [h | c]
            for t in stride(from: T - 1, through: 0, by: -1) {
                let dHt = dHidden + t * B * H
                // row by row (independent sequences; split across threads when B is large enough)
                parallelRanges(B, minimumPerThread: 8) { rows in
                    for r in rows {
                        let gate = z + (t * B + r) * G, dGate = dz + (t * B + r) * G
                        let i = gate, f = gate + H, g = gate + 2 * H, o = gate + 3 * H
                        let tc = tanhC + (t * B + r) * H, cPrevious = c + (t * B + r) * H
                        let dhr = dh + r * H, dcr = dc + r * H, dHr = dHt + r * H
                        for j in 0..<H { dhr[j] += dHr[j] }   // h_t fed both the head and step t+1
                        for j in 0..<H {
                            // in the forward: h_t = o ⊙ tanh(c_t)
                            let dO = dhr[j] * tc[j]
                            let dC = dcr[j] + dhr[j] * o[j] * (1 - tc[j] * tc[j])
                            // in the forward: c_t = f ⊙ c_{t−1} + i ⊙ g
                            let dI = dC * g[j], dG = dC * i[j], dF = dC * cPrevious[j]
                            dcr[j] = dC * f[j]
                            // through the nonlinearities to the pre-activations z_t
                            dGate[j] = dI * i[j] * (1 - i[j])
                            dGate[H + j] = dF * f[j] * (1 - f[j])
                            dGate[2 * H + j] = dG * (1 - g[j] * g[j])
                            dGate[3 * H + j] = dO * o[j] * (1 - o[j])
                        }
                    }
                }
                if recordNorms { w.gradientNorms[t] = rowNormMean(dh, rows: B, cols: H) }
                // in the forward: z_t += h_{t−1}·Whh, so dh_{t−1} = dz_t·Whhᵀ   (B, 4H)x(4H, H)
                gemm(m: B, a: dz + t * B * G, lda: G, packedB: whhTransposed, beta: 0, c: dh, ldc: H)
            }
        }}}}}}
        // what is left in dState is ∂L/∂(h_0, c_0)
        w.dInitialState.withUnsafeMutableBufferPointer { out in
            w.dState.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: B * 2 * H) }
        }
        hiddenWeight.grad.withUnsafeMutableBufferPointer { dWhh in
            w.hidden.withUnsafeBufferPointer { hb in
                w.dPreactivation.withUnsafeBufferPointer { dz in
                    // dWhh (H, 4H) += [h_0 … h_{T−1}]ᵀ (H, T·B) · [dz_1 … dz_T] (T·B, 4H)
                    gemm(transposeA: true, m: H, n: G, k: T * B, a: hb.baseAddress!, lda: H,
                         b: dz.baseAddress!, ldb: G, beta: 1, c: dWhh.baseAddress!, ldc: G)
                }
            }
        }
        biasBackward(dBias: &bias.grad, dOut: w.dPreactivation, rows: T * B, cols: G)
        embeddingBackward(dTable: &inputWeight.grad, dOut: w.dPreactivation, ids: w.ids,
                          vocabulary: V, dimension: G)
    }
}
