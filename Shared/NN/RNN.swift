// The Elman recurrent network (week 5) and its backward pass through time, written out by
// hand: h_t = tanh(x_t·Wxh + h_{t−1}·Whh + b). Week 6 trains it side by side with the LSTM
// (LSTM.swift), so it lives in Shared. Reference: Elman, "Finding structure in time" (1990);
// https://pytorch.org/docs/stable/generated/torch.nn.RNN.html
//
// Layout and speed. Sequences are stored time-major, (T, B, H): the B hidden states of one
// time step are one contiguous (B, H) matrix, so each step's recurrence is a single gemm.
// The input is one-hot over V characters, and one-hot(x)·Wxh is simply row x of Wxh: the
// input projection for all T steps is an embedding gather, no multiplication at all. In the
// backward pass the weight gradients are not summed step by step: dWhh = Σ_t h_{t−1}ᵀ·da_t is
// one big gemm over all T·B rows at the end, and dWxh a scatter-add. Only the recurrence
// itself (dh_{t−1} = da_t·Whhᵀ) has to walk backwards one step at a time.
import SharedKernels
import SharedTools
import SharedData

/// A single-layer tanh RNN over one-hot character inputs.
///   inputWeight Wxh: (V, H)   hiddenWeight Whh: (H, H)   bias b: (H)
/// PyTorch's initialisation: every entry uniform in ±1/√H.
public final class RNN: RecurrentCore {
    /// V, the number of input symbols (one-hot width).
    public let inputSize: Int
    /// H, the width of the hidden state.
    public let hiddenSize: Int
    public let inputWeight: Parameter
    public let hiddenWeight: Parameter
    public let bias: Parameter

    public init(inputSize V: Int, hiddenSize H: Int, rng: inout SplitMix64) {
        precondition(V >= 1 && H >= 1, "RNN: sizes must be positive, got V \(V), H \(H)")
        inputSize = V
        hiddenSize = H
        let bound = 1 / Float(H).squareRoot()
        inputWeight = Parameter("rnn.input_weight", shape: [V, H], value: rng.uniforms(V * H, -bound, bound))
        hiddenWeight = Parameter("rnn.hidden_weight", shape: [H, H], value: rng.uniforms(H * H, -bound, bound))
        bias = Parameter("rnn.bias", shape: [H], value: rng.uniforms(H, -bound, bound), decays: false)
    }

    public var parameters: [Parameter] { [inputWeight, hiddenWeight, bias] }
    public var kind: String { "rnn" }

    /// Whh and Whhᵀ (H, H) in the gemm's panel order, packed once per training pass and
    /// multiplied T times (see `PackedMatrix`).
    private lazy var packedHiddenWeight = PackedMatrix(rows: hiddenSize, columns: hiddenSize)
    private lazy var packedHiddenWeightTransposed = PackedMatrix(rows: hiddenSize, columns: hiddenSize)

    /// The RNN carries only h: state width H.
    public var stateSize: Int { hiddenSize }

    public func makeWorkspace(batch: Int, steps: Int) -> RecurrentWorkspace {
        RecurrentWorkspace(batch: batch, steps: steps, hiddenSize: hiddenSize, stateSize: hiddenSize)
    }

    /// Whh packed for `gemm` now, for a generation's one-token forwards (see RecurrentCore).
    public func makePackedHiddenWeight() -> PackedMatrix {
        let packed = PackedMatrix(rows: hiddenSize, columns: hiddenSize)
        packed.pack(hiddenWeight.value)
        return packed
    }

    /// Runs T steps from the initial state in `workspace.hidden[0]`.
    ///   ids: (T, B) time-major, each in 0..<V.
    /// Writes workspace.hidden: (T+1, B, H), block t+1 = h_t (block 0 is the initial state,
    /// left untouched); the final state is block T.
    public func forward(ids: [Int], workspace w: RecurrentWorkspace, packedHiddenWeight: PackedMatrix?) {
        let T = w.steps, B = w.batch, H = hiddenSize, V = inputSize
        precondition(ids.count == T * B, "RNN.forward: \(ids.count) ids for T \(T) x B \(B)")
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
                    let h = hb.baseAddress!
                    // pass 1: a_t = x_t·Wxh + b for every step at once: row ids[t,b] of Wxh
                    // (the one-hot product is a gather), written where h_t will live.
                    for n in 0..<(T * B) {
                        let id = ids[n]
                        precondition(id >= 0 && id < V, "RNN.forward: id \(id) outside 0..<\(V)")
                        let row = h + (B + n) * H, weights = wxh.baseAddress! + id * H
                        for j in 0..<H { row[j] = weights[j] + b[j] }
                    }
                    // pass 2, step by step: a_t += h_{t−1}·Whh (one (B,H)x(H,H) gemm), h_t = tanh(a_t)
                    for t in 0..<T {
                        let previous = h + t * B * H, current = h + (t + 1) * B * H
                        gemm(m: B, a: previous, lda: H, packedB: whh, beta: 1, c: current, ldc: H)
                        map16(current, current, count: B * H, tanh16)
                    }
                }
            }
        }
    }

    /// Backpropagation through time. Adds into every parameter's grad.
    /// In: workspace.dHidden (T, B, H) = ∂L/∂h_t from the layers above (the output head), and
    ///     workspace.dFinalState (B, H) = ∂L/∂h_T from beyond this chunk (usually 0).
    /// Out: workspace.dInitialState (B, H) = ∂L/∂h_0 (overwritten).
    /// forward: a_t = x_t·Wxh + h_{t−1}·Whh + b,  h_t = tanh(a_t). Walking t = T … 1:
    ///   dh_t  = dHidden_t + dh_t(from step t+1)      (h_t feeds the head and the next step)
    ///   da_t  = dh_t ⊙ (1 − h_t²)                     (tanh' from the output)
    ///   dh_{t−1} (from step t) = da_t·Whhᵀ
    /// and afterwards, over all steps at once:
    ///   dWhh += Σ_t h_{t−1}ᵀ·da_t    dWxh[x_t] += da_t (scatter-add)    db += Σ_t Σ_b da_t
    public func backward(workspace w: RecurrentWorkspace) {
        let T = w.steps, B = w.batch, H = hiddenSize, V = inputSize
        let recordNorms = w.recordsGradientNorms
        let whhTransposed = packedHiddenWeightTransposed
        whhTransposed.pack(transpose: true, hiddenWeight.value)
        w.hidden.withUnsafeBufferPointer { hb in
            w.dHidden.withUnsafeBufferPointer { dHiddenBuffer in
                w.dPreactivation.withUnsafeMutableBufferPointer { daBuffer in
                    w.dState.withUnsafeMutableBufferPointer { dhBuffer in
                        let h = hb.baseAddress!, dHidden = dHiddenBuffer.baseAddress!
                        let da = daBuffer.baseAddress!, dh = dhBuffer.baseAddress!
                        // dh starts as ∂L/∂h_T from beyond the chunk
                        w.dFinalState.withUnsafeBufferPointer { dh.update(from: $0.baseAddress!, count: B * H) }
                        for t in stride(from: T - 1, through: 0, by: -1) {
                            let ht = h + (t + 1) * B * H, dHt = dHidden + t * B * H, dat = da + t * B * H
                            // in the forward this was h_t = tanh(a_t); h_t also fed the head
                            for i in 0..<(B * H) {
                                let g = dh[i] + dHt[i]
                                dat[i] = g * (1 - ht[i] * ht[i])
                                if recordNorms { dh[i] = g }
                            }
                            if recordNorms { w.gradientNorms[t] = rowNormMean(dh, rows: B, cols: H) }
                            // in the forward this was a_t += h_{t−1}·Whh, so dh_{t−1} = da_t·Whhᵀ
                            gemm(m: B, a: dat, lda: H, packedB: whhTransposed, beta: 0, c: dh, ldc: H)
                        }
                    }
                }
            }
        }
        // what is left in dState is ∂L/∂h_0
        w.dInitialState.withUnsafeMutableBufferPointer { out in
            w.dState.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: B * H) }
        }
        // weight gradients over all T·B rows at once
        hiddenWeight.grad.withUnsafeMutableBufferPointer { dWhh in
            w.hidden.withUnsafeBufferPointer { hb in
                w.dPreactivation.withUnsafeBufferPointer { da in
                    // dWhh (H, H) += [h_0 … h_{T−1}]ᵀ (H, T·B) · [da_1 … da_T] (T·B, H)
                    gemm(transposeA: true, m: H, n: H, k: T * B, a: hb.baseAddress!, lda: H,
                         b: da.baseAddress!, ldb: H, beta: 1, c: dWhh.baseAddress!, ldc: H)
                }
            }
        }
        biasBackward(dBias: &bias.grad, dOut: w.dPreactivation, rows: T * B, cols: H)
        embeddingBackward(dTable: &inputWeight.grad, dOut: w.dPreactivation, ids: w.ids,
                          vocabulary: V, dimension: H)
    }
}

/// The mean over the B rows of each row's L2 norm: ‖dL/dh_t‖ for one example, averaged.
///   x: (B, H)
@inline(__always)
func rowNormMean(_ x: UnsafePointer<Float>, rows B: Int, cols H: Int) -> Double {
    var total = 0.0
    for b in 0..<B {
        var sum: Float = 0
        for j in 0..<H { sum += x[b * H + j] * x[b * H + j] }
        total += Double(sum).squareRoot()
    }
    return total / Double(B)
}
