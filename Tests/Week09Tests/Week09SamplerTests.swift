// Property tests of the sampler as week 9 uses it (Shared/NN/Sampling.swift): top-k, top-p's
// smallest set, min-p's threshold, temperature → 0 is greedy, a chi-square test of 100,000
// draws against the softmax, the repetition penalty, stop sequences, the same seed giving the
// same text, and bad knobs as one clear line.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week09Sampling
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny random GPT (V 11, T 8, C 16, 2 blocks of 2 heads), its weights scaled up so that its
/// logits are far from uniform.
func tinyGPT(seed: UInt64, context: Int = 8, change: (inout GPTConfig) -> Void = { _ in }) throws -> GPT {
    var config = GPTConfig(vocabularySize: 11, context: context, layers: 2, heads: 2, width: 16, bias: true)
    change(&config)
    var rng = SplitMix64(seed: seed)
    let model = try GPT(config: config, maxBatch: 2, rng: &rng)
    for i in 0..<model.matrixCount { model.parameters[i] *= 10 }
    for i in model.matrixCount..<model.parameterCount { model.parameters[i] += rng.normal(mean: 0, std: 0.3) }
    return model
}

/// Q(a, x) = Γ(a, x)/Γ(a), the regularised upper incomplete gamma function, by the series of
/// P(a, x) = x^a e^−x / Γ(a + 1) · Σ_n x^n / ((a + 1)…(a + n)) (Numerical Recipes' gser): the
/// p-value of a chi-square statistic χ² with k degrees of freedom is Q(k/2, χ²/2).
func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
    guard x > 0 else { return 1 }
    var term = 1 / a, sum = term, n = a
    for _ in 0..<10_000 {
        n += 1
        term *= x / n
        sum += term
        if abs(term) < abs(sum) * 1e-15 { break }
    }
    let p = sum * exp(-x + a * log(x) - lgamma(a))
    return max(0, 1 - p)
}

@Suite struct Week09SamplerTests {
    static func logits(_ V: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<V).map { Float($0) * 1e-4 + 2 * rng.normal() }
    }

    static func softmax(_ logits: [Float]) -> [Double] {
        let top = Double(logits.max()!)
        let e = logits.map { exp(Double($0) - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    @Test func topKNeverYieldsATokenOutsideTheKMostLikely() throws {
        let logits = Self.logits(33, seed: 1)
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        var rng = SplitMix64(seed: 2)
        for k in [1, 3, 10] {
            let allowed = Set(order.prefix(k))
            for _ in 0..<2000 {
                let token = try nextToken(logits: logits, temperature: 2, topK: k, rng: &rng)
                #expect(allowed.contains(token), "top-k \(k) drew \(token)")
            }
        }
    }

    @Test func topPKeepsTheSmallestSetWhoseMassReachesP() throws {
        let logits = Self.logits(20, seed: 3)
        let p = Self.softmax(logits)
        let order = p.indices.sorted { p[$0] > p[$1] }
        var rng = SplitMix64(seed: 4)
        for topP in [0.3, 0.6, 0.9] {
            var mass = 0.0, size = 0
            while mass < topP { mass += p[order[size]]; size += 1 }
            // smallest: one token fewer would not reach p
            #expect(mass - p[order[size - 1]] < topP)
            var seen = Set<Int>()
            for _ in 0..<6000 { seen.insert(try nextToken(logits: logits, temperature: 1, topP: Float(topP), rng: &rng)) }
            #expect(seen == Set(order.prefix(size)), "top-p \(topP): kept \(size), drew \(seen.sorted())")
        }
    }

    @Test func minPDropsExactlyTheTokensBelowItsThreshold() throws {
        let logits = Self.logits(20, seed: 5)
        let p = Self.softmax(logits), top = p.max()!
        var rng = SplitMix64(seed: 6)
        for minP in [0.05, 0.2, 0.6] {
            let allowed = Set(p.indices.filter { p[$0] >= minP * top })
            var seen = Set<Int>()
            for _ in 0..<6000 { seen.insert(try nextToken(logits: logits, temperature: 1, minP: Float(minP), rng: &rng)) }
            #expect(seen.isSubset(of: allowed))
            // the threshold is min-p × the largest probability: tokens well above it do get drawn
            #expect(allowed.filter { p[$0] > 5e-3 }.isSubset(of: seen))
        }
    }

    @Test func temperatureTowardsZeroEqualsGreedy() throws {
        var rng = SplitMix64(seed: 7)
        let logits = rng.permutation(50).map { Float($0) * 0.1 }
        let best = logits.indices.max { logits[$0] < logits[$1] }!
        for temperature: Float in [1e-2, 1e-3, 1e-4] {
            for _ in 0..<200 { #expect(try nextToken(logits: logits, temperature: temperature, rng: &rng) == best) }
        }
        #expect(try nextToken(logits: logits, temperature: 0, rng: &rng) == best)
    }

    @Test func drawsAtTemperatureOnePassAChiSquareTestAgainstTheSoftmax() throws {
        let logits = Self.logits(10, seed: 8)
        let p = Self.softmax(logits)
        var rng = SplitMix64(seed: 9)
        var sampler = TokenSampler(vocabularySize: 10)
        var counts = [Int](repeating: 0, count: 10)
        let draws = 100_000
        for _ in 0..<draws { counts[try sampler.next(logits: logits, settings: SamplingSettings(temperature: 1), rng: &rng)] += 1 }
        var chiSquare = 0.0
        for (count, probability) in zip(counts, p) {
            let expected = probability * Double(draws)
            chiSquare += (Double(count) - expected) * (Double(count) - expected) / expected
        }
        let pValue = regularizedUpperGamma(Double(p.count - 1) / 2, chiSquare / 2)
        #expect(pValue >= 0.001, "χ² = \(chiSquare) with 9 degrees of freedom, p = \(pValue)")
        // and the test has teeth: the same counts against a softmax at temperature 1.2 fail it
        let wrong = Self.softmax(logits.map { $0 / 1.2 })
        var wrongChiSquare = 0.0
        for (count, probability) in zip(counts, wrong) {
            let expected = probability * Double(draws)
            wrongChiSquare += (Double(count) - expected) * (Double(count) - expected) / expected
        }
        #expect(regularizedUpperGamma(4.5, wrongChiSquare / 2) < 0.001)
    }

    @Test func chiSquarePValueMatchesTables() {
        // χ²(9) critical values: 16.919 at p = 0.05, 27.877 at p = 0.001
        #expect(abs(regularizedUpperGamma(4.5, 16.919 / 2) - 0.05) < 1e-3)
        #expect(abs(regularizedUpperGamma(4.5, 27.877 / 2) - 0.001) < 1e-4)
    }

    @Test func repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfRecentTokens() throws {
        var sampler = TokenSampler(vocabularySize: 4)
        var rng = SplitMix64(seed: 10)
        let logits: [Float] = [2.0, 1.9, -1.0, -1.2]
        let greedy = SamplingSettings(temperature: 0, repetitionPenalty: 1.5, repetitionWindow: 2)
        #expect(try sampler.next(logits: logits, settings: SamplingSettings(temperature: 0), rng: &rng) == 0)
        // token 0 was just used: 2.0 / 1.5 = 1.33 < 1.9, so token 1 wins
        #expect(try sampler.next(logits: logits, settings: greedy, recent: [0], rng: &rng) == 1)
        // a token counts once however often it occurred
        #expect(try sampler.next(logits: [2.0, 1.2, 0, 0], settings: greedy, recent: [0, 0], rng: &rng) == 0)
        // outside the window it is not penalised
        #expect(try sampler.next(logits: logits, settings: greedy, recent: [0, 3, 3], rng: &rng) == 0)
        // a negative logit is multiplied: -1.0 · 1.5 = -1.5 < -1.2
        let low: [Float] = [-1.0, -1.2, -5, -5]
        #expect(try sampler.next(logits: low, settings: greedy, recent: [0], rng: &rng) == 1)
        // sampled, the penalised token's share drops by the factor the penalty gives it
        let sampled = SamplingSettings(temperature: 1, repetitionPenalty: 2, repetitionWindow: 0)
        var counts = [0, 0]
        var pair = TokenSampler(vocabularySize: 2)
        for _ in 0..<20_000 { counts[try pair.next(logits: [1, 0], settings: sampled, recent: [0], rng: &rng)] += 1 }
        // logits become [0.5, 0]: p(0) = e^0.5 / (e^0.5 + 1) = 0.622
        #expect(abs(Double(counts[0]) / 20_000 - 0.6225) < 0.015)
        #expect(throws: WorkbookError.self) { try SamplingSettings(repetitionPenalty: 0).validate() }
        #expect(throws: WorkbookError.self) { try SamplingSettings(repetitionPenalty: .nan).validate() }
        #expect(throws: WorkbookError.self) { try SamplingSettings(repetitionWindow: -1).validate() }
    }

    @Test func sameSeedSameTextAndStopSequencesEndGeneration() throws {
        let model = try tinyGPT(seed: 11)
        let sampling = SamplingSettings(temperature: 1, topK: 6, topP: 0.95, minP: 0.01, repetitionPenalty: 1.2)
        var a = SplitMix64(seed: 3), b = SplitMix64(seed: 3), c = SplitMix64(seed: 4)
        let first = try generate(model, prompt: [1, 2], maxTokens: 60, sampling: sampling, rng: &a)
        let second = try generate(model, prompt: [1, 2], maxTokens: 60, sampling: sampling, rng: &b)
        let other = try generate(model, prompt: [1, 2], maxTokens: 60, sampling: sampling, rng: &c)
        #expect(first == second && first.count == 60)
        #expect(first != other)
        // stop at the first place the output ends with tokens 10...11 of the first run
        let stop = Array(first[10...11])
        var d = SplitMix64(seed: 3)
        let stopped = try generate(model, prompt: [1, 2], maxTokens: 60, sampling: sampling, stopSequences: [stop], rng: &d)
        let end = (1..<first.count).first { first[$0 - 1] == stop[0] && first[$0] == stop[1] }! + 1
        #expect(stopped == Array(first.prefix(end)))
        #expect(throws: WorkbookError.self) {
            try generate(model, prompt: [1], maxTokens: 5, sampling: sampling, stopSequences: [[]], rng: &d)
        }
    }
}
