// The key/value cache (Shared/NN/GPTKVCache.swift) against a full recompute: the logits of
// cached decoding equal those of rerunning the model on the whole window, at every position up
// to the context and past it (nanoGPT's crop policy), in every architectural variant; greedy
// text identical for 200 tokens; a prompt longer than the context cropped the same way.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week09Sampling

@Suite struct Week09KVCacheTests {
    static let variants: [(String, (inout GPTConfig) -> Void)] = [
        ("Pre-LN, LayerNorm, GELU, learned positions, tied, biases", { _ in }),
        ("Post-LN, RMSNorm, sinusoidal positions, untied", {
            $0.preNorm = false; $0.norm = .rmsNorm; $0.positions = .sinusoidal; $0.tiedHead = false }),
        ("ReLU, no positions, no biases, 4 heads", { $0.activation = .relu; $0.positions = .none; $0.bias = false; $0.heads = 4 }),
    ]

    /// The largest |a − b| over two logit vectors.
    static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test(arguments: 0..<3)
    func cachedLogitsEqualAFullRecomputeAtEveryPositionAndPastTheContext(variant: Int) throws {
        let (name, change) = Self.variants[variant]
        let model = try tinyGPT(seed: 21 + UInt64(variant), change: change)
        let T = model.config.context
        var rng = SplitMix64(seed: 5)
        let sequence = (0..<(3 * T + 2)).map { _ in rng.int(below: 11) }
        // a prompt of 3 tokens in one call, then one token at a time: positions 3 ... 3T + 1
        let cached = model.makeDecodingState(cached: true), full = model.makeDecodingState(cached: false)
        var worst: Float = 0
        var position = 3
        var a = try model.nextTokenLogits(after: Array(sequence[..<3]), state: cached)
        var b = try model.nextTokenLogits(after: Array(sequence[..<3]), state: full)
        while true {
            let difference = Self.largestDifference(a, b)
            worst = max(worst, difference)
            #expect(difference <= 1e-5, "\(name): position \(position): logits differ by \(difference)")
            // the reference itself: forward on the last ≤ T tokens, last row
            if position == T || position == 2 * T + 1 {
                let window = Array(sequence[..<position].suffix(T))
                var dummy = SplitMix64(seed: 0)
                model.forward(inputs: window, targets: nil, batch: 1, length: window.count, rng: &dummy)
                let V = model.config.vocabularySize
                let direct = Array(UnsafeBufferPointer(start: model.logits + (window.count - 1) * V, count: V))
                #expect(Self.largestDifference(direct, a) <= 1e-5)
            }
            if position == sequence.count { break }
            a = try model.nextTokenLogits(after: [sequence[position]], state: cached)
            b = try model.nextTokenLogits(after: [sequence[position]], state: full)
            position += 1
        }
        #expect(cached.tokenCount == sequence.count)
        // past the context the window moved at every token: 2T + 2 recomputations of the cache
        #expect(cached.recomputations == sequence.count - T)
    }

    @Test func promptLongerThanTheContextIsCroppedAsTheFullRecompute() throws {
        let model = try tinyGPT(seed: 31)
        var rng = SplitMix64(seed: 6)
        let prompt = (0..<(model.config.context + 5)).map { _ in rng.int(below: 11) }
        let cached = try model.nextTokenLogits(after: prompt, state: model.makeDecodingState(cached: true))
        let full = try model.nextTokenLogits(after: prompt, state: model.makeDecodingState(cached: false))
        let cropped = try model.nextTokenLogits(after: Array(prompt.suffix(model.config.context)),
                                                state: model.makeDecodingState(cached: true))
        #expect(Self.largestDifference(cached, full) <= 1e-5)
        #expect(cached == cropped)
    }

    @Test func greedyTextIsIdenticalFor200Tokens() throws {
        // context 16: 200 tokens go far past it, through the crop policy
        let model = try tinyGPT(seed: 41, context: 16)
        var texts: [[Int]] = []
        for cached in [true, false] {
            var rng = SplitMix64(seed: 0)
            texts.append(try generate(model, prompt: [3, 1, 4], maxTokens: 200, sampling: SamplingSettings(temperature: 0),
                                      state: model.makeDecodingState(cached: cached), rng: &rng) { _, _ in })
        }
        #expect(texts[0].count == 200)
        #expect(texts[0] == texts[1])
        #expect(Set(texts[0]).count > 1)   // not one token repeated: the comparison means something
        // generate()'s own state is the cached one
        var rng = SplitMix64(seed: 0)
        #expect(try generate(model, prompt: [3, 1, 4], maxTokens: 200, sampling: SamplingSettings(temperature: 0), rng: &rng) == texts[0])
    }

    @Test func decodingDoesNotDisturbTraining() throws {
        // the cache has its own buffers: a forward with targets, then decoding, then backward
        let model = try tinyGPT(seed: 51)
        let inputs = [1, 2, 3, 4, 5, 6, 7, 8], targets = [2, 3, 4, 5, 6, 7, 8, 9]
        var rng = SplitMix64(seed: 1)
        model.zeroGradients()
        model.forward(inputs: inputs, targets: targets, batch: 1, length: 8, rng: &rng)
        model.backward()
        let reference = Array(UnsafeBufferPointer(start: model.gradients, count: model.parameterCount))
        model.zeroGradients()
        model.forward(inputs: inputs, targets: targets, batch: 1, length: 8, rng: &rng)
        _ = try model.nextTokenLogits(after: [1, 2, 3], state: model.makeDecodingState(cached: true))
        model.backward()
        #expect(Array(UnsafeBufferPointer(start: model.gradients, count: model.parameterCount)) == reference)
    }
}
