// Property tests of the shared sampler (Shared/NN/Sampling.swift) on random logits of awkward
// vocabulary sizes: top-k never yields a token outside the k most likely, top-p keeps the
// smallest set reaching p, min-p drops exactly the tokens under its threshold, temperature → 0
// is greedy, no filter is exactly `categorical`, and bad knobs are one clear line.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct SamplingTests {
    static let sizes = [1, 7, 33, 127]

    /// Random logits with distinct values (no ties at a cut-off), spread like a model's.
    static func logits(_ V: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<V).map { Float($0) * 1e-4 + 3 * rng.normal() }
    }

    static func probabilities(_ logits: [Float], temperature: Float = 1) -> [Float] {
        var p = [Float](repeating: 0, count: logits.count)
        softmaxForward(&p, logits.map { $0 / temperature }, rows: 1, cols: logits.count)
        return p
    }

    /// Token ids sorted most likely first.
    static func ranking(_ p: [Float]) -> [Int] { p.indices.sorted { p[$0] > p[$1] } }

    @Test(arguments: sizes)
    func topKNeverLeavesTheKMostLikely(V: Int) throws {
        let logits = Self.logits(V, seed: UInt64(V))
        let order = Self.ranking(Self.probabilities(logits))
        var rng = SplitMix64(seed: 1)
        for k in Set([1, 2, 5, V]) where k <= V {
            let allowed = Set(order.prefix(k))
            var seen = Set<Int>()
            for _ in 0..<400 { seen.insert(try nextToken(logits: logits, temperature: 1.5, topK: k, rng: &rng)) }
            #expect(seen.isSubset(of: allowed), "k \(k): drew \(seen.subtracting(allowed))")
            if k == 1 { #expect(seen == [order[0]]) }
        }
    }

    @Test(arguments: sizes)
    func topPKeepsTheSmallestSetReachingP(V: Int) throws {
        let logits = Self.logits(V, seed: 100 + UInt64(V))
        let p = Self.probabilities(logits), order = Self.ranking(p)
        var rng = SplitMix64(seed: 2)
        for topP: Float in [0.1, 0.5, 0.9] {
            // the smallest prefix of the ranking whose mass reaches topP
            var mass = 0.0, size = 0
            while size < V && mass < Double(topP) { mass += Double(p[order[size]]); size += 1 }
            let allowed = Set(order.prefix(size))
            var seen = Set<Int>()
            for _ in 0..<600 { seen.insert(try nextToken(logits: logits, temperature: 1, topP: topP, rng: &rng)) }
            #expect(seen.isSubset(of: allowed), "p \(topP): drew \(seen.subtracting(allowed)) outside the top \(size)")
            // smallest: every kept token is drawn at some point (each has ≥ 1/size·(1−p) share here)
            if size <= 4 { #expect(seen == allowed, "p \(topP): kept \(size), drew only \(seen.count)") }
        }
    }

    @Test(arguments: sizes)
    func minPDropsExactlyTheTokensBelowItsThreshold(V: Int) throws {
        let logits = Self.logits(V, seed: 200 + UInt64(V))
        let p = Self.probabilities(logits)
        let largest = p.max()!
        var rng = SplitMix64(seed: 3)
        for minP: Float in [0.05, 0.3, 0.9] {
            let allowed = Set(p.indices.filter { p[$0] >= minP * largest })
            var seen = Set<Int>()
            for _ in 0..<600 { seen.insert(try nextToken(logits: logits, temperature: 1, minP: minP, rng: &rng)) }
            #expect(seen.isSubset(of: allowed), "min-p \(minP): drew \(seen.subtracting(allowed))")
        }
    }

    @Test(arguments: sizes)
    func temperatureTowardsZeroIsGreedy(V: Int) throws {
        // logits at least 0.05 apart: at temperature 1e-3 the runner-up has e^−50 of the mass
        var rng = SplitMix64(seed: UInt64(V))
        let logits = rng.permutation(V).map { Float($0) * 0.05 }
        let best = logits.indices.max { logits[$0] < logits[$1] }!
        for _ in 0..<50 {
            #expect(try nextToken(logits: logits, temperature: 0, rng: &rng) == best)
            #expect(try nextToken(logits: logits, temperature: 1e-3, rng: &rng) == best)
        }
        // temperature 0 draws no random number
        let before = rng.state
        _ = try nextToken(logits: logits, temperature: 0, topK: 3, topP: 0.5, rng: &rng)
        #expect(rng.state == before)
    }

    @Test func noFilterIsExactlyCategoricalOfTheTemperedSoftmax() throws {
        // what weeks 5-6 did before the sampler: softmax(logits / t), then rng.categorical
        let logits = Self.logits(65, seed: 9)
        var a = SplitMix64(seed: 4), b = SplitMix64(seed: 4)
        for _ in 0..<300 {
            let drawn = try nextToken(logits: logits, temperature: 0.8, rng: &a)
            #expect(drawn == b.categorical(Self.probabilities(logits, temperature: 0.8)))
        }
        #expect(a.state == b.state)
        // filters that keep everything change nothing either
        var c = SplitMix64(seed: 4), d = SplitMix64(seed: 4)
        for _ in 0..<100 {
            #expect(try nextToken(logits: logits, temperature: 0.8, topK: 65, topP: 1, minP: 0, rng: &c)
                    == nextToken(logits: logits, temperature: 0.8, rng: &d))
        }
    }

    @Test func filteredDrawsFollowTheRenormalisedProbabilities() throws {
        // top-k 2 of [ln 3, ln 1, ln 0.5 ...]: the two kept tokens 3 : 1, so about 75% / 25%
        let logits: [Float] = [1.098_612_3, 0, -0.693_147_2, -1.386_294_4]   // ln 3, ln 1, ln 0.5, ln 0.25
        var rng = SplitMix64(seed: 6)
        var counts = [0, 0, 0, 0]
        for _ in 0..<4000 { counts[try nextToken(logits: logits, temperature: 1, topK: 2, rng: &rng)] += 1 }
        #expect(counts[2] == 0 && counts[3] == 0)
        #expect(abs(Double(counts[0]) / 4000 - 0.75) < 0.03)
    }

    @Test func outOfRangeKnobsAreOneClearLine() {
        var rng = SplitMix64(seed: 1)
        let logits: [Float] = [0, 1, 2]
        let bad: [(Float, Int?, Float?, Float?)] = [(-1, nil, nil, nil), (.nan, nil, nil, nil), (.infinity, nil, nil, nil),
                                                   (1, 0, nil, nil), (1, nil, 0, nil), (1, nil, 1.5, nil),
                                                   (1, nil, nil, -0.1), (1, nil, nil, 2)]
        for (t, k, p, m) in bad {
            do {
                _ = try nextToken(logits: logits, temperature: t, topK: k, topP: p, minP: m, rng: &rng)
                Issue.record("temperature \(t) top-k \(String(describing: k)) top-p \(String(describing: p)) min-p \(String(describing: m)) was accepted")
            } catch let error as WorkbookError {
                #expect(!error.message.isEmpty && !error.message.contains("\n"))
            } catch { Issue.record("unexpected \(error)") }
        }
        #expect(throws: WorkbookError.self) { try nextToken(logits: [0, .nan, 1], temperature: 1, rng: &rng) }
    }

    @Test func generationStreamsStopsAndMatchesTokenByTokenDecoding() throws {
        var rng = SplitMix64(seed: 12)
        let model = RecurrentLanguageModel(core: LSTM(inputSize: 9, hiddenSize: 6, rng: &rng), rng: &rng)
        var streamed: [Int] = []
        var a = SplitMix64(seed: 5)
        let tokens = try generate(model, prompt: [1, 2, 3], maxTokens: 20, sampling: SamplingSettings(temperature: 1),
                                  rng: &a) { streamed.append($0) }
        #expect(tokens.count == 20 && streamed == tokens)
        // the same draws by hand: the full-sequence forward's last logits, token by token
        var b = SplitMix64(seed: 5)
        var sequence = [1, 2, 3]
        for expected in tokens.prefix(5) {
            let w = model.makeWorkspace(batch: 1, steps: sequence.count)
            model.core.forward(ids: sequence, workspace: w.recurrent)
            model.headForward(w)
            let logits = Array(w.logits.suffix(model.vocabularySize))
            let drawn = try nextToken(logits: logits, temperature: 1, rng: &b)
            #expect(drawn == expected)
            sequence.append(drawn)
        }
        // a stop token ends generation and is the last token returned
        var c = SplitMix64(seed: 5)
        let stop = tokens[7]
        let stopped = try generate(model, prompt: [1, 2, 3], maxTokens: 20, sampling: SamplingSettings(temperature: 1),
                                   stop: [stop], rng: &c)
        #expect(stopped == Array(tokens.prefix(through: tokens.firstIndex(of: stop)!)))
        // and bad prompts are one clear line
        #expect(throws: WorkbookError.self) {
            try generate(model, prompt: [], maxTokens: 3, sampling: SamplingSettings(), rng: &c)
        }
        #expect(throws: WorkbookError.self) {
            try generate(model, prompt: [9], maxTokens: 3, sampling: SamplingSettings(), rng: &c)
        }
    }
}
