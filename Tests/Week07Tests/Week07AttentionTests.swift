// Week 7: the attention function against its naive loops and finite differences (every mask,
// one head and several), the skip-gram loss, the toy models' full backward passes, the
// tokenizers on known answers, and each part of the program at --quick.
import Foundation
import Testing
@testable import Shared
@testable import Week07Attention
import TestSupport

@Suite struct Week07AttentionTests {
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("week07-\(UUID().uuidString)").path
    }

    // MARK: attention

    @Test func attentionMatchesTheNaiveLoopsAtAwkwardSizes() {
        let comparison = compareAttentionWithNaive(seed: 5)
        #expect(comparison.cases >= 20)
        #expect(comparison.worstDifference < 1e-5)
    }

    @Test func aFullyMaskedRowGivesZerosNotNaN() {
        var rng = SplitMix64(seed: 8)
        let shape = AttentionShape(batch: 2, heads: 2, queryTime: 3, keyTime: 4, headSize: 5)
        let q = rng.gaussians(2 * 2 * 3 * 5), k = rng.gaussians(2 * 2 * 4 * 5), v = rng.gaussians(2 * 2 * 4 * 5)
        var out = [Float](repeating: .nan, count: q.count), p = [Float](repeating: .nan, count: 2 * 2 * 3 * 4)
        scaledDotProductAttentionForward(&out, probabilities: &p, query: q, key: k, value: v, shape: shape,
                                         mask: AttentionMask(causal: true, keyLengths: [0, 4]))
        // sequence 0 sees no key at all: both heads, every query, all zeros
        #expect(out[0..<(2 * 3 * 5)].allSatisfy { $0 == 0 })
        #expect(p[0..<(2 * 3 * 4)].allSatisfy { $0 == 0 })
        // sequence 1 is causal: query t's weights sum to 1 over keys 0...t and are 0 after
        for h in 0..<2 {
            for t in 0..<3 {
                let row = Array(p[(((1 * 2 + h) * 3 + t) * 4)..<(((1 * 2 + h) * 3 + t) * 4 + 4)])
                #expect(abs(row[0...t].reduce(0, +) - 1) < 1e-5)
                #expect(row[(t + 1)...].allSatisfy { $0 == 0 })
            }
        }
        #expect(out.allSatisfy { $0.isFinite })
        // and its backward sends no gradient into the masked sequence (and no NaN anywhere)
        var dQ = [Float](repeating: 0, count: q.count), dK = [Float](repeating: 0, count: k.count)
        var dV = [Float](repeating: 0, count: v.count)
        scaledDotProductAttentionBackward(dQuery: &dQ, dKey: &dK, dValue: &dV, dOut: rng.gaussians(q.count), query: q,
                                          key: k, value: v, probabilities: p, shape: shape)
        #expect(dQ[0..<(2 * 3 * 5)].allSatisfy { $0 == 0 } && dK[0..<(2 * 4 * 5)].allSatisfy { $0 == 0 })
        #expect((dQ + dK + dV).allSatisfy { $0.isFinite })
    }

    @Test func attentionBackwardMatchesFiniteDifferencesWithEveryMask() {
        let results = checkAttention(seed: 21)
        // 2 head counts x 5 masks x (dQ, dK, dV), then the layer's 4 parameters and dX
        #expect(results.count == 2 * 5 * 3 + 5)
        for result in results { #expect(result.passed, "\(result)") }
    }

    // MARK: embeddings

    @Test func skipGramBackwardMatchesFiniteDifferences() {
        for result in checkSkipGram(seed: 4) { #expect(result.passed, "\(result)") }
    }

    @Test func negativeTableFollowsCountsToTheThreeQuarters() {
        let table = negativeSamplingTable(counts: [81, 16, 1], size: 10_000)
        // 81^0.75 = 27, 16^0.75 = 8, 1: shares 27/36, 8/36, 1/36
        let shares = (0..<3).map { word in Double(table.filter { $0 == Int32(word) }.count) / 10_000 }
        #expect(abs(shares[0] - 27.0 / 36) < 0.002 && abs(shares[1] - 8.0 / 36) < 0.002 && abs(shares[2] - 1.0 / 36) < 0.002)
    }

    @Test func pairRanksCountStrictlyMoreSimilarWords() {
        // thou and thee identical (queen ties, which does not count); lord is nearer king than queen is
        let corpus = WordCorpus(text: "thou thee king queen lord\n", minimumCount: 1)
        var vectors = [Float](repeating: 0, count: corpus.vocabularySize * 2)
        func set(_ word: String, _ a: Float, _ b: Float) { vectors[corpus.index[word]! * 2] = a; vectors[corpus.index[word]! * 2 + 1] = b }
        set("thou", 1, 0); set("thee", 1, 0); set("king", 0, 1); set("queen", 1, 0); set("lord", 0.7, 0.7)
        #expect(pairRanks(unitVectors: unitRows(vectors, dimension: 2), dimension: 2, corpus: corpus) == [1, 2])
    }

    // MARK: tokenization

    @Test func bytePairMergesOnTheMinbpeExample() {
        let merges = BytePairMerges(learningFrom: "aaabdaaabac", count: 3)
        #expect(merges.encode(chunk: Array("aaabdaaabac".utf8)) == [258, 100, 258, 97, 99])
        #expect(String(decoding: merges.bytes(of: 258), as: UTF8.self) == "aaab")
    }

    @Test func wordsAndChunksFollowTheirRules() {
        #expect(lowercaseWords("Thou art, O KING'S man!") == ["thou", "art", "o", "king's", "man"])
        #expect(wordLevelTokens("Hi, you.\nNo") == ["hi", ",", "you", ".", "no"])
        #expect(byteChunks("a king, ok").map { String(decoding: $0, as: UTF8.self) } == ["a", " king", ",", " ok"])
    }

    // MARK: toy models

    @Test func toyModelsBackwardMatchesFiniteDifferencesForEveryParameter() {
        let results = checkToyModels(seed: 12)
        for result in results { #expect(result.passed, "\(result)") }
        // LSTM + attention: 2 LSTMs x 3 tensors, W_q, head weight and bias; Transformer: wte,
        // wpe, 2 blocks x 12 tensors, ln_f (2), head (2)
        #expect(results.count == 9 + 2 + 24 + 4)
    }

    @Test func sameSeedSameLossesBitForBit() {
        var config = ToyTaskConfig()
        config.steps = 5; config.batch = 4; config.heldOut = 8; config.evalEvery = 5; config.hidden = 8
        config.embedding = 8; config.heads = 2; config.layers = 1
        for kind in [ToyModelKind.lstmAttention, .transformer] {
            let a = trainToyModel(kind, length: 4, config: config, log: { _ in })
            let b = trainToyModel(kind, length: 4, config: config, log: { _ in })
            #expect(a.finalLoss == b.finalLoss && a.history.map { $0["train_loss"]! } == b.history.map { $0["train_loss"]! })
        }
    }

    // MARK: the program at --quick, one part at a time

    /// One part of the lesson at --quick: the step function main.swift calls for it, then the
    /// outputs step, on the flags the program would read.
    func quick(_ part: String, _ extra: [String] = []) throws -> (Week07Result, String) {
        let out = temporaryFolder()
        let options = Options(program: "Week07Attention", summary: "",
                              arguments: ["Week07Attention", "--quick", "--part", part, "--out", out, "--threads", "1"] + extra)
        let config = Week07Config(options)
        var result = Week07Result(config: config)
        try Threads.$count.withValue(config.threads) {
            let silent: (String) -> Void = { _ in }
            switch part {
            case "tokens": result.tokenization = runTokenizationPart(text: try loadWeek07Text(config), config: config, log: silent)
            case "embeddings": result.embeddings = runEmbeddingPart(text: try loadWeek07Text(config), config: config, log: silent)
            case "attention": result.attention = runAttentionPart(config: config, log: silent)
            case "toy": result.toy = runToyPart(config: config, log: silent)
            case "positions": result.positions = runPositionsPart(config: config, reusing: [:], log: silent)
            default: throw WorkbookError("no part '\(part)' in week 7")
            }
            result.files = try writeWeek07Outputs(result, configJSON: options.config)
        }
        return (result, out)
    }

    @Test func theProgramRunsItsAttentionPartAndRefusesABadPart() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try runBuiltProgram("Week07Attention", ["--quick", "--part", "attention", "--out", out])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("part 3") && FileManager.default.fileExists(atPath: out + "/metrics.json"))
        let bad = try runBuiltProgram("Week07Attention", ["--part", "everything"])
        #expect(bad.status == 2 && bad.standardError.contains("--part"))
    }

    @Test func quickTokenizationTable() throws {
        let (result, out) = try quick("tokens")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let rows = try #require(result.tokenization).rows
        #expect(rows.count == 3)
        #expect(rows[0].tokensPerThousandCharacters == 1000 && rows[0].vocabularySize < 100)
        // words: far fewer tokens than characters, a big vocabulary, and unknown words
        #expect(rows[1].tokensPerThousandCharacters < 300 && rows[1].vocabularySize > 2000 && rows[1].unknownShare > 0.01)
        // 50 merges already shorten the byte sequence, with nothing unknown
        #expect(rows[2].tokensPerThousandCharacters < 800 && rows[2].tokensPerThousandCharacters > rows[1].tokensPerThousandCharacters)
        #expect(rows[2].vocabularySize == 306 && rows[2].unknownShare == 0)
        #expect(FileManager.default.fileExists(atPath: out + "/metrics.json"))
    }

    @Test func quickEmbeddingsBeatRandomVectors() throws {
        let (result, out) = try quick("embeddings")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let part = try #require(result.embeddings)
        #expect(part.checks.allSatisfy { $0.passed })
        #expect(part.ranks.count == relatedWordPairs.count)
        // one epoch of 32-dimensional vectors: the pairs' median rank is already far below random's
        #expect(part.medianRank * 4 <= part.randomMedianRank)
        #expect(part.training.epochLosses.allSatisfy { $0 < 3 })
        #expect(part.projection.count == 100)
        #expect(FileManager.default.fileExists(atPath: out + "/embeddings_pca.svg"))
    }

    @Test func quickAttentionPartPasses() throws {
        let (result, out) = try quick("attention")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let part = try #require(result.attention)
        #expect(part.checks.allSatisfy { $0.passed } && part.naiveDifference < 1e-5)
    }

    @Test func quickToyTaskAttentionBeatsRecurrence() throws {
        let (result, out) = try quick("toy")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let toy = try #require(result.toy)
        #expect(toy.checks.allSatisfy { $0.passed })
        let lstm = try #require(toy.runs[.lstm]), transformer = try #require(toy.runs[.transformer])
        let blind = try #require(toy.runs[.transformerNoPositions])
        let attending = try #require(toy.runs[.lstmAttention])
        // reverse, L = 8, 300 steps (measured: LSTM 53%, LSTM + attention 90%, Transformer 100%,
        // no positions 25%)
        #expect(transformer.score.tokenAccuracy >= 0.95 && transformer.score.exactMatch >= 0.9)
        #expect(attending.score.tokenAccuracy >= 0.8 && attending.score.tokenAccuracy >= lstm.score.tokenAccuracy + 0.2)
        // its attention already leans on the aligned encoder state (measured 54% at shift 0)
        #expect((attending.bestLateShift?.mass ?? 0) >= 0.35)
        #expect(transformer.score.tokenAccuracy >= lstm.score.tokenAccuracy + 0.3)
        #expect(blind.score.tokenAccuracy <= 0.5 && blind.score.exactMatch <= 0.05)
        // the best head looks at the mirrored position (measured 98%)
        #expect((transformer.bestHead?.mass ?? 0) >= 0.6)
        #expect(toy.sweep.count == 2)
        for file in ["metrics.json", "accuracy_vs_length.svg", "attention_lstm.svg", "attention_transformer.svg", "toy_training.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let metrics = try String(contentsOfFile: out + "/metrics.json", encoding: .utf8)
        for key in ["\"lstm\"", "\"lstm_attention\"", "\"transformer\"", "\"transformer_no_positions\"", "\"token_accuracy\"", "\"exact_match\""] {
            #expect(metrics.contains(key), "\(key)")
        }
    }

    @Test func quickPositionsPartTrainsAllThree() throws {
        let (result, out) = try quick("positions")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let runs = try #require(result.positions)
        let none = try #require(runs[.transformerNoPositions]), learned = try #require(runs[.transformer])
        let sinusoidal = try #require(runs[.transformerSinusoidal])
        // reverse, L = 8: positions make the difference
        #expect(learned.score.tokenAccuracy >= none.score.tokenAccuracy + 0.3)
        #expect(sinusoidal.score.tokenAccuracy >= none.score.tokenAccuracy + 0.3)
        #expect(FileManager.default.fileExists(atPath: out + "/positions.svg"))
    }
}
