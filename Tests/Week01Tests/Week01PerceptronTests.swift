// Week 1: the perceptron converges on separable data and cannot pass 75% on XOR; a two-layer
// net with a tanh hidden layer solves XOR, and its backward pass matches finite differences.
import Foundation
import Testing
@testable import Week01Perceptron
import Shared

/// The four XOR points (N = 4, D = 2) and their labels: class 1 when exactly one input is 1.
let xorPoints: [Float] = [0, 0, 0, 1, 1, 0, 1, 1]
let xorLabels = [0, 1, 1, 0]

/// Points uniform in [−1, 1]² labelled by the line 0.8x − 0.6y + 0.1 = 0, keeping only points
/// at least `margin` away from it: linearly separable by construction.   points: (N, 2).
func separablePoints(count: Int, margin: Float, rng: inout SplitMix64) -> (points: [Float], labels: [Int]) {
    var points: [Float] = [], labels: [Int] = []
    while labels.count < count {
        let x = rng.uniform(-1, 1), y = rng.uniform(-1, 1)
        let distance = 0.8 * x - 0.6 * y + 0.1     // (0.8, −0.6) has unit length
        if abs(distance) < margin { continue }
        points += [x, y]
        labels.append(distance > 0 ? 1 : 0)
    }
    return (points, labels)
}

@Suite struct Week01PerceptronTests {
    @Test func testPerceptronLearnsANDAndOR() {
        var rng = SplitMix64(seed: 1)
        for labels in [[0, 0, 0, 1], [0, 1, 1, 1]] {                 // AND, OR
            let run = trainPerceptron(points: xorPoints, labels: labels, features: 2, maxEpochs: 100,
                                      learningRate: 1, rng: &rng)
            #expect(run.convergedEpoch != nil)
            #expect(run.perceptron.accuracy(points: xorPoints, labels: labels) == 1)
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func testPerceptronConvergesOnSeparableData(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let data = separablePoints(count: 200, margin: 0.05, rng: &rng)
        let run = trainPerceptron(points: data.points, labels: data.labels, features: 2, maxEpochs: 1000,
                                  learningRate: 1, rng: &rng)
        #expect(run.convergedEpoch != nil)
        #expect(run.accuracyPerEpoch.last == 1)
        #expect(run.mistakesPerEpoch.last == 0)
        #expect(run.mistakesPerEpoch.count == run.convergedEpoch)
        // Every earlier epoch made at least one mistake (else it would have stopped there).
        #expect(run.mistakesPerEpoch.dropLast().allSatisfy { $0 > 0 })
    }

    @Test(arguments: [1, 10, 100, 1000], [0, 7, 42] as [UInt64])
    func testPerceptronStaysAtOrBelow75PercentOnXOR(epochs: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let run = trainPerceptron(points: xorPoints, labels: xorLabels, features: 2, maxEpochs: epochs,
                                  learningRate: 1, rng: &rng)
        #expect(run.convergedEpoch == nil)
        #expect(run.mistakesPerEpoch.count == epochs)
        #expect(run.accuracyPerEpoch.allSatisfy { $0 <= 0.75 })
        #expect(run.mistakesPerEpoch.allSatisfy { $0 >= 1 })
    }

    @Test(arguments: [0, 1, 2, 3, 4] as [UInt64])
    func testTwoLayerNetSolvesXOR(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let net = TwoLayerNet(inputs: 2, hidden: 8, rng: &rng)
        let run = trainTwoLayerNet(net, x: xorPoints, y: xorLabels, steps: 1000, learningRate: 1)
        #expect(run.net.predict(xorPoints, rows: 4) == xorLabels)
        #expect(run.accuracies.last == 1)
        #expect(run.solvedAtStep != nil)
        #expect(run.losses.last! < 0.1)
        #expect(run.losses.last! < run.losses.first! / 5)
    }

    @Test func testTwoLayerNetBackwardMatchesNumericGradient() {
        var rng = SplitMix64(seed: 5)
        let N = 3, D = 2, H = 5
        var net = TwoLayerNet(inputs: D, hidden: H, rng: &rng)
        net.b1 = rng.gaussians(H, std: 0.1)
        net.b2 = 0.3
        let x = rng.gaussians(N * D), dZ = rng.gaussians(N)
        let g = net.backward(dZ, cache: net.forward(x, rows: N).cache)
        func loss() -> Double { projected(net.forward(x, rows: N).logits, onto: dZ) }

        let dW1 = numericGradient(count: D * H, get: { net.w1[$0] }, set: { net.w1[$0] = $1 }, loss: loss)
        let dB1 = numericGradient(count: H, get: { net.b1[$0] }, set: { net.b1[$0] = $1 }, loss: loss)
        let dW2 = numericGradient(count: H, get: { net.w2[$0] }, set: { net.w2[$0] = $1 }, loss: loss)
        let dB2 = numericGradient(count: 1, get: { _ in net.b2 }, set: { net.b2 = $1 }, loss: loss)
        for result in [checkGradient("dW1", analytic: g.dW1, numeric: dW1),
                       checkGradient("dB1", analytic: g.dB1, numeric: dB1),
                       checkGradient("dW2", analytic: g.dW2, numeric: dW2),
                       checkGradient("dB2", analytic: [g.dB2], numeric: dB2)] {
            #expect(result.passed, "\(result)")
        }
    }
}

@Suite struct Week01RunTests {
    @Test func testQuickRunInProcess() throws {
        var config = Week01Config(quick: true)
        config.out = NSTemporaryDirectory() + "Week01Tests-\(UInt64.random(in: 0..<UInt64.max))/"
        defer { try? FileManager.default.removeItem(atPath: config.out) }
        let result = try runWeek01(config)
        #expect(result.blobRun.convergedEpoch != nil)
        #expect(result.blobRun.accuracyPerEpoch.last == 1)
        #expect(result.xorRun.accuracyPerEpoch.allSatisfy { $0 <= 0.75 })
        #expect(result.netRun.accuracies.last == 1)
        #expect(result.gradientChecks.allSatisfy { $0.passed })
        let metrics = try JSONValue.parse(readTextFile(joinPath(config.out, "metrics.json")))
        guard case .object(let document) = metrics, case .object(let final)? = document["final"] else {
            Issue.record("metrics.json has no final object"); return
        }
        #expect(final["xor_net_accuracy"] == .number(1))
        for name in ["perceptron_blobs.svg", "xor.svg", "xor_net_loss.svg"] {
            let svg = try readTextFile(joinPath(config.out, name))
            #expect(svg.hasPrefix("<svg"))
        }
    }

    @Test func testBadConfigurationThrowsAClearError() {
        var config = Week01Config(quick: true)
        config.points = 2
        #expect(throws: WorkbookError.self) { try runWeek01(config) }
    }
}
