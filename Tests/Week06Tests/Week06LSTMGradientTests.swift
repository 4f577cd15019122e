// Gradient checks of the LSTM's backpropagation through time (Shared/NN/LSTM.swift) and of
// the language model around it; the hidden- and cell-state carry.
import Testing
import Shared
@testable import Week06LSTM

@Suite struct Week06LSTMGradientTests {
    @Test func bpttMatchesNumericGradientForEveryParameterAndInitialState() {
        // V 7, H 5, B 3, T 6: gates 4H = 20 wide; 6 steps back; random initial h and c.
        var rng = SplitMix64(seed: 21)
        let lstm = LSTM(inputSize: 7, hiddenSize: 5, rng: &rng)
        let results = checkRecurrentBackward(core: lstm, batch: 3, steps: 6, seed: 22)
        #expect(results.map(\.name) == ["lstm.input_weight", "lstm.hidden_weight", "lstm.bias", "initial state"])
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func languageModelMatchesNumericGradient() {
        var rng = SplitMix64(seed: 23)
        let model = RecurrentLanguageModel(core: LSTM(inputSize: 6, hiddenSize: 4, rng: &rng), rng: &rng)
        let results = checkLanguageModelBackward(model, batch: 2, steps: 5, seed: 24)
        #expect(results.count == 5)
        for result in results { #expect(result.passed, "\(result)") }
    }

    @Test func forgetGateBiasStartsAtOne() {
        var rng = SplitMix64(seed: 25)
        let H = 8
        let lstm = LSTM(inputSize: 3, hiddenSize: H, rng: &rng)
        #expect(lstm.bias.value[H..<(2 * H)].allSatisfy { $0 == 1 })
        #expect(lstm.bias.value[0..<H].allSatisfy { abs($0) <= 1 / Float(H).squareRoot() })
    }

    @Test func stateCarryEqualsRunningTheConcatenatedSequence() {
        var rng = SplitMix64(seed: 27)
        let lstm = LSTM(inputSize: 9, hiddenSize: 6, rng: &rng)
        let B = 2
        let ids = (0..<(7 * B)).map { _ in rng.int(below: 9) }
        let whole = lstm.makeWorkspace(batch: B, steps: 7)
        lstm.forward(ids: ids, workspace: whole)
        let first = lstm.makeWorkspace(batch: B, steps: 2), second = lstm.makeWorkspace(batch: B, steps: 5)
        lstm.forward(ids: Array(ids[..<(2 * B)]), workspace: first)
        second.setInitialState(first.finalState)   // h and c
        lstm.forward(ids: Array(ids[(2 * B)...]), workspace: second)
        let joined = Array(first.outputs) + Array(second.outputs)
        #expect(maxAbsDifference(joined, Array(whole.outputs)) < 1e-6)
        #expect(maxAbsDifference(second.finalState, whole.finalState) < 1e-6)
        #expect(whole.finalState.count == B * 2 * 6)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
