// The week 6 program in-process at --quick: both cells learn, the comparison and the clipping
// experiment write their outputs into the --out folder.
import Foundation
import Testing
import Shared
@testable import Week06LSTM

@Suite struct Week06LSTMRunTests {
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("week06-\(UUID().uuidString)").path
    }

    @Test func quickRunTrainsBothCellsBelowTheUnigramEntropy() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try runWeek06(arguments: ["Week06LSTM", "--quick", "--out", out, "--threads", "1"])
        let rnn = try #require(result.rnn), lstm = try #require(result.lstm)
        #expect(rnn.run.stepsDone == 300 && lstm.run.stepsDone == 300)
        #expect(lstm.run.finalValidationLoss < result.data.unigramEntropy)
        #expect(rnn.run.finalValidationLoss < result.data.unigramEntropy)
        #expect(result.gradientCheck.allSatisfy { $0.passed })
        let clipped = try #require(result.clipped), unclipped = try #require(result.unclipped)
        #expect(clipped.gradientNorms.count == 150 && unclipped.gradientNorms.count == 150)
        for file in ["metrics.json", "rnn_vs_lstm.svg", "gradient_flow.svg", "clipping.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file))
        }
    }

    @Test func clippingBoundsTheUpdateNotTheReportedNorm() throws {
        // With clipping on, the norm recorded is the one before clipping; after clipping the
        // gradients have norm at most maxNorm.
        var rng = SplitMix64(seed: 31)
        let model = RecurrentLanguageModel(core: LSTM(inputSize: 5, hiddenSize: 6, rng: &rng), rng: &rng)
        let w = model.makeWorkspace(batch: 2, steps: 4)
        let inputs = (0..<8).map { _ in rng.int(below: 5) }, targets = (0..<8).map { _ in rng.int(below: 5) }
        model.parameters.zeroGrad()
        model.loss(inputs: inputs, targets: targets, workspace: w)
        model.backward(w)
        let before = model.parameters.gradientNorm()
        let reported = model.parameters.clipGradients(maxNorm: Float(before / 10))
        #expect(abs(reported - before) < 1e-9)
        #expect(abs(model.parameters.gradientNorm() - before / 10) < before * 1e-4)
    }

    @Test func sideBySideSamplesKeepBothColumns() {
        let lines = sideBySide("ab\ncd", "xyz", titles: ("RNN", "LSTM"), width: 4)
        #expect(lines == ["RNN  | LSTM", "-----+-----", "ab   | xyz", "cd   | "])
        // A line longer than the column wraps onto indented rows; no character is lost.
        let wrapped = sideBySide("abcdefgh", "x", titles: ("RNN", "LSTM"), width: 4)
        #expect(wrapped == ["RNN  | LSTM", "-----+-----", "abcd | x", "  ef | ", "  gh | "])
    }
}
