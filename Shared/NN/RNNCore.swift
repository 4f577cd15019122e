// What the RNN (week 5) and the LSTM (week 6) have in common, so one language model, one
// training loop and one sampler serve both: a recurrent core reads T steps of one-hot
// characters and produces T hidden states, and its backward pass (BPTT) turns ∂L/∂h_t into
// parameter gradients and ∂L/∂(initial state).
// The buffers a core needs for T steps of a batch of B live in a `RecurrentWorkspace`,
// allocated once and reused every training step (no allocation inside the step).
import SharedKernels
import SharedTools
import SharedData

/// A recurrent layer over one-hot inputs: the tanh RNN or the LSTM.
public protocol RecurrentCore: AnyObject {
    /// V, the number of input symbols.
    var inputSize: Int { get }
    /// H, the width of the hidden state h_t that the layers above read.
    var hiddenSize: Int { get }
    /// Floats of carried state per sequence: H for the RNN (h), 2H for the LSTM (h and c).
    var stateSize: Int { get }
    /// "rnn" or "lstm": the language model's checkpoint kind is "char-" + this.
    var kind: String { get }
    var parameters: [Parameter] { get }
    /// Buffers for T steps of B sequences, initial state zero.
    func makeWorkspace(batch: Int, steps: Int) -> RecurrentWorkspace
    /// The recurrent weight Whh packed for `gemm` as it is now: made once per generation and
    /// passed to every one-token `forward`, so sampling does not re-pack Whh per token.
    func makePackedHiddenWeight() -> PackedMatrix
    /// T steps from the initial state: ids (T, B) time-major -> workspace.hidden (T+1, B, H).
    /// packedHiddenWeight: Whh already packed (`makePackedHiddenWeight`, weights unchanged
    /// since); nil packs the current Whh first (training, where it changes every step).
    func forward(ids: [Int], workspace: RecurrentWorkspace, packedHiddenWeight: PackedMatrix?)
    /// BPTT: workspace.dHidden (T, B, H) and dFinalState -> parameter grads (added) and
    /// workspace.dInitialState. Call after `forward` on the same workspace.
    func backward(workspace: RecurrentWorkspace)
}

extension RecurrentCore {
    /// T steps from the initial state, packing the current Whh first.
    public func forward(ids: [Int], workspace: RecurrentWorkspace) {
        forward(ids: ids, workspace: workspace, packedHiddenWeight: nil)
    }
}

/// Every buffer of one forward/backward over T steps of B sequences. Time-major: step t of
/// all B sequences is one contiguous (B, width) block.
///
/// State layout, (B, stateSize): the RNN's is h (B, H); the LSTM's is h (B, H) followed by
/// c (B, H). The initial state is block 0 of `hidden` (and of `cells`), the final state block T.
public final class RecurrentWorkspace {
    public let batch: Int
    public let steps: Int
    public let hiddenSize: Int
    public let stateSize: Int
    /// The input ids of the last forward: (T, B).
    public var ids: [Int]
    /// Hidden states: (T+1, B, H); block 0 = h_0 (the initial state), block t = h_t.
    public var hidden: [Float]
    /// LSTM cell states: (T+1, B, H), like `hidden`; empty for the RNN.
    public var cells: [Float]
    /// LSTM gate activations i, f, g, o of every step: (T, B, 4H); empty for the RNN.
    public var gates: [Float]
    /// LSTM tanh(c_t): (T, B, H); empty for the RNN.
    public var tanhCells: [Float]
    /// ∂L/∂h_t from above: (T, B, H), filled by the caller before `backward`.
    public var dHidden: [Float]
    /// ∂L/∂(pre-activations): (T, B, H) for the RNN, (T, B, 4H) for the LSTM's four gates.
    public var dPreactivation: [Float]
    /// ∂L/∂(final state) from beyond this chunk: (B, stateSize); zero unless set.
    public var dFinalState: [Float]
    /// ∂L/∂(initial state), written by `backward`: (B, stateSize).
    public var dInitialState: [Float]
    /// Scratch for the running ∂L/∂state while walking back in time: (B, stateSize).
    public var dState: [Float]
    /// When true, `backward` writes ‖∂L/∂h_t‖ (mean over the batch of each sequence's norm)
    /// into `gradientNorms[t]`: the vanishing/exploding-gradient picture.
    public var recordsGradientNorms = false
    /// (T), see `recordsGradientNorms`.
    public var gradientNorms: [Double]

    /// gateWidth: H for the RNN, 4H for the LSTM. withCells: the LSTM's cell buffers.
    public init(batch B: Int, steps T: Int, hiddenSize H: Int, stateSize: Int,
                gateWidth: Int? = nil, withCells: Bool = false) {
        precondition(B >= 1 && T >= 1, "RecurrentWorkspace: batch \(B) and steps \(T) must be positive")
        batch = B
        steps = T
        hiddenSize = H
        self.stateSize = stateSize
        let G = gateWidth ?? H
        ids = [Int](repeating: 0, count: T * B)
        hidden = [Float](repeating: 0, count: (T + 1) * B * H)
        cells = withCells ? [Float](repeating: 0, count: (T + 1) * B * H) : []
        gates = withCells ? [Float](repeating: 0, count: T * B * G) : []
        tanhCells = withCells ? [Float](repeating: 0, count: T * B * H) : []
        dHidden = [Float](repeating: 0, count: T * B * H)
        dPreactivation = [Float](repeating: 0, count: T * B * G)
        dFinalState = [Float](repeating: 0, count: B * stateSize)
        dInitialState = [Float](repeating: 0, count: B * stateSize)
        dState = [Float](repeating: 0, count: B * stateSize)
        gradientNorms = [Double](repeating: 0, count: T)
    }

    /// A zero initial state (every chunk starts fresh).
    public func resetState() {
        let size = batch * hiddenSize
        for i in 0..<size { hidden[i] = 0 }
        if !cells.isEmpty { for i in 0..<size { cells[i] = 0 } }
    }

    /// Truncated BPTT: the final state of the last forward becomes the next initial state,
    /// so the next chunk continues where this one stopped (gradients still stop here).
    public func carryState() {
        let size = batch * hiddenSize, last = steps * size
        for i in 0..<size { hidden[i] = hidden[last + i] }
        if !cells.isEmpty { for i in 0..<size { cells[i] = cells[last + i] } }
    }

    /// Sets the initial state: state (B, stateSize) in the layout above.
    public func setInitialState(_ state: [Float]) {
        let size = batch * hiddenSize
        precondition(state.count == batch * stateSize,
                     "setInitialState: \(state.count) values, the state needs \(batch * stateSize)")
        for i in 0..<size { hidden[i] = state[i] }
        if stateSize > hiddenSize { for i in 0..<size { cells[i] = state[size + i] } }
    }

    /// Sets the state the last forward ended in (block T): state (B, stateSize). A resumed run
    /// puts back the state it carried, and the next `carryState()` continues from it.
    public func setFinalState(_ state: [Float]) {
        let size = batch * hiddenSize, last = steps * size
        precondition(state.count == batch * stateSize,
                     "setFinalState: \(state.count) values, the state needs \(batch * stateSize)")
        for i in 0..<size { hidden[last + i] = state[i] }
        if stateSize > hiddenSize { for i in 0..<size { cells[last + i] = state[size + i] } }
    }

    /// The state after the last forward: (B, stateSize).
    public var finalState: [Float] {
        let size = batch * hiddenSize, last = steps * size
        var state = Array(hidden[last..<(last + size)])
        if stateSize > hiddenSize { state += cells[last..<(last + size)] }
        return state
    }

    /// The hidden states h_1 … h_T the layers above read: (T, B, H) (blocks 1…T of `hidden`).
    public var outputs: ArraySlice<Float> { hidden[(batch * hiddenSize)...] }
}
