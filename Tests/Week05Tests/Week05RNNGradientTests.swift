// Gradient checks of the RNN's backpropagation through time (Shared/NN/RNN.swift), the
// language model around it (Shared/NN/RNNLanguageModel.swift), and truncated BPTT's
// hidden-state carry.
import Testing
import Shared
@testable import Week05RNN

@Suite struct Week05RNNGradientTests {
    @Test func bpttMatchesNumericGradientForEveryParameterAndInitialState() {
        // V 7, H 5, B 3, T 6: non-square weights and a batch > 1 catch transposes; 6 steps back.
        var rng = SplitMix64(seed: 11)
        let rnn = RNN(inputSize: 7, hiddenSize: 5, rng: &rng)
        let results = checkRecurrentBackward(core: rnn, batch: 3, steps: 6, seed: 12)
        #expect(results.map(\.name) == ["rnn.input_weight", "rnn.hidden_weight", "rnn.bias", "initial state"])
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func languageModelMatchesNumericGradient() {
        var rng = SplitMix64(seed: 13)
        let model = RecurrentLanguageModel(core: RNN(inputSize: 6, hiddenSize: 4, rng: &rng), rng: &rng)
        let results = checkLanguageModelBackward(model, batch: 2, steps: 5, seed: 14)
        #expect(results.count == 5)
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func aWrongGradientFailsTheCheck() {
        // The check must be able to fail: the same gradient scaled by 1.5 is rejected.
        var rng = SplitMix64(seed: 15)
        let rnn = RNN(inputSize: 5, hiddenSize: 4, rng: &rng)
        let results = checkRecurrentBackward(core: rnn, batch: 2, steps: 5, seed: 16)
        let good = results.first { $0.name == "rnn.hidden_weight" }!
        let corrupted = checkGradient("corrupted", analytic: rnn.hiddenWeight.grad.map { $0 * 1.5 },
                                      numeric: rnn.hiddenWeight.grad)
        #expect(good.passed)
        #expect(!corrupted.passed)
    }

    @Test func hiddenStateCarryEqualsRunningTheConcatenatedSequence() {
        // 3 + 5 steps with the state carried = 8 steps in one go, h and final state alike.
        var rng = SplitMix64(seed: 17)
        let rnn = RNN(inputSize: 9, hiddenSize: 6, rng: &rng)
        let B = 2, H = 6
        let ids = (0..<(8 * B)).map { _ in rng.int(below: 9) }   // (T, B) time-major
        let whole = rnn.makeWorkspace(batch: B, steps: 8)
        rnn.forward(ids: ids, workspace: whole)
        let first = rnn.makeWorkspace(batch: B, steps: 3), second = rnn.makeWorkspace(batch: B, steps: 5)
        rnn.forward(ids: Array(ids[..<(3 * B)]), workspace: first)
        second.setInitialState(first.finalState)
        rnn.forward(ids: Array(ids[(3 * B)...]), workspace: second)
        let joined = Array(first.outputs) + Array(second.outputs)
        #expect(joined.count == 8 * B * H)
        #expect(maxAbsDifference(joined, Array(whole.outputs)) < 1e-6)
        #expect(maxAbsDifference(second.finalState, whole.finalState) < 1e-6)
        // carryState() on the same workspace does the same
        let chunk = rnn.makeWorkspace(batch: B, steps: 4)
        rnn.forward(ids: Array(ids[..<(4 * B)]), workspace: chunk)
        chunk.carryState()
        rnn.forward(ids: Array(ids[(4 * B)...]), workspace: chunk)
        #expect(maxAbsDifference(chunk.finalState, whole.finalState) < 1e-6)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
