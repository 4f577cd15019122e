// The embedded data sets (digits, Shakespeare), text handling (vocabulary, corpus files,
// chunks), toy generators, sequence tasks and batching. Uses IDXTests.swift's helpers
// `DataTestFolder` and `dataErrorMessage`.
import Foundation
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct EmbeddedDataTests {
    @Test func digitsLoad() throws {
        let digits = try Digits.load()
        #expect(digits.count == 1797)
        #expect(digits.height == 8 && digits.width == 8 && digits.features == 64)
        #expect(digits.pixels.count == 1797 * 64)
        #expect(digits.pixels.min() == 0 && digits.pixels.max() == 1)  // raw 0...16, divided by 16
        #expect(digits.pixels.allSatisfy { ($0 * 16).rounded() == $0 * 16 })  // multiples of 1/16
        #expect(Set(digits.labels) == Set(0...9))
        #expect(digits.classCounts().allSatisfy { $0 >= 170 && $0 <= 190 })  // about 180 of each
        #expect(digits.labels.prefix(10) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])  // the file's order
        // First image of the file: a zero, row 0 = 0 0 5 13 9 1 0 0.
        #expect(digits.image(0).prefix(8).map { $0 * 16 } == [0, 0, 5, 13, 9, 1, 0, 0])
    }

    @Test func digitsParserRejectsMalformedLines() {
        let short = Array("1,2,3\n".utf8)
        #expect(dataErrorMessage { _ = try Digits.parse(short, source: "x") }?.contains("3 values, expected 65") == true)
        let letters = Array((String(repeating: "0,", count: 64) + "a\n").utf8)
        #expect(dataErrorMessage { _ = try Digits.parse(letters, source: "x") }?.contains("unexpected character") == true)
    }

    @Test func labeledImagesSubsetBatchAndSplit() throws {
        let digits = try Digits.load()
        let batch = digits.batch([5, 0, 5])
        #expect(batch.labels == [digits.labels[5], digits.labels[0], digits.labels[5]])
        #expect(Array(batch.pixels[64..<128]) == digits.image(0))
        var rng = SplitMix64(seed: 3)
        let (train, test) = digits.split(trainFraction: 0.8, rng: &rng)
        #expect(train.count == 1437 && test.count == 360)
        #expect(train.classCounts().enumerated().allSatisfy { $1 + test.classCounts()[$0] == digits.classCounts()[$0] })
        var again = SplitMix64(seed: 3)
        #expect(digits.split(trainFraction: 0.8, rng: &again).test.labels == test.labels)
    }

    @Test func shakespeareLoads() throws {
        let text = try Shakespeare.load()
        #expect(text.utf8.count > 900_000 && text.utf8.count < 1_200_000)
        let vocabulary = CharVocabulary(text: text)
        #expect(vocabulary.size >= 60 && vocabulary.size <= 100)
        #expect(text.contains("MACBETH:\nSo foul and fair a day I have not seen."))
        #expect(!text.contains("\r") && !text.contains("Gutenberg"))
    }

    @Test func missingEmbeddedFileSaysWhereItLooked() {
        let message = dataErrorMessage { _ = try DatasetFiles.path("no-such-file.bin") } ?? ""
        #expect(message.contains("Datasets/no-such-file.bin not found"))
        for folder in DatasetFiles.candidateDirectories() { #expect(message.contains(folder)) }
        // The #filePath fallback points at this checkout's Datasets folder.
        let fromSource = DatasetFiles.candidateDirectories(sourceFile: "/repo/Shared/Data/DatasetFiles.swift")
        #expect(fromSource.last == "/repo/Datasets")
    }
}

@Suite struct TextTests {
    @Test func vocabularyIsSortedUniqueAndRoundTrips() throws {
        let vocabulary = CharVocabulary(text: "hello world")
        #expect(vocabulary.decode(Array(0..<vocabulary.size)) == " dehlorw")
        let ids = try vocabulary.encode("world hello")
        #expect(ids.count == 11 && vocabulary.decode(ids) == "world hello")
        #expect(try vocabulary.encode("") == [])
        let emoji = CharVocabulary(text: "a🙂é\r\n")
        #expect(emoji.size == 5)  // \r and \n are separate characters
        #expect(emoji.decode(try emoji.encode("🙂a\r\né")) == "🙂a\r\né")
    }

    @Test func encodingAnUnknownCharacterNamesIt() {
        let vocabulary = CharVocabulary(text: "abc")
        let message = dataErrorMessage { _ = try vocabulary.encode("abz") } ?? ""
        #expect(message.contains("'z' (U+007A)") && message.contains("3 characters"))
        #expect(dataErrorMessage { _ = try vocabulary.encode("a\n") }?.contains("'\\n' (U+000A)") == true)
    }

    @Test func corpusFileEmptyOrMissingIsAnError() {
        let folder = DataTestFolder()
        let empty = folder.write([], "empty.txt")
        #expect(dataErrorMessage { _ = try TextCorpus.load(path: empty) }?.contains("the file is empty") == true)
        #expect(dataErrorMessage { _ = try TextCorpus.load(path: folder.file("nope.txt")) }?.contains("no such file") == true)
    }

    @Test func invalidUTF8IsReplacedAndCounted() throws {
        let folder = DataTestFolder()
        // "caf" + Latin-1 é (0xE9, invalid alone in UTF-8) + "!" + a stray continuation byte.
        let path = folder.write(Array("caf".utf8) + [0xE9] + Array("! ok".utf8) + [0x80], "latin1.txt")
        let corpus = try TextCorpus.load(path: path, warn: false)
        #expect(corpus.replacedBytes == 2)
        #expect(corpus.text == "caf\u{FFFD}! ok\u{FFFD}")
        #expect(corpus.vocabulary.id(of: "\u{FFFD}") != nil)
        // Mostly binary: rejected.
        let binary = folder.write([UInt8](repeating: 0xFF, count: 100) + Array("a".utf8), "binary.bin")
        #expect(dataErrorMessage { _ = try TextCorpus.load(path: binary, warn: false) }?.contains("not valid UTF-8") == true)
        // Valid multi-byte UTF-8 is untouched.
        let good = folder.write(Array("é🙂".utf8), "good.txt")
        #expect(try TextCorpus.load(path: good).replacedBytes == 0)
        // A genuine U+FFFD in valid UTF-8 is text, not a replacement.
        #expect(TextCorpus.decodeUTF8(Array("a\u{FFFD}b".utf8)) == ("a\u{FFFD}b", 0))
    }

    @Test func splitIsNinetyTen() throws {
        let corpus = try TextCorpus(text: String(repeating: "abcdefghij", count: 10), name: "test")
        let (train, validation) = corpus.split()
        #expect(train.count == 90 && validation.count == 10)
        #expect(train + validation == corpus.ids)
    }

    @Test func chunkTargetsAreInputsShiftedByOne() throws {
        let ids = Array(0..<50)
        let chunks = try TextChunks(ids: ids, context: 8)
        var rng = SplitMix64(seed: 9)
        let batch = chunks.randomBatch(batchSize: 16, rng: &rng)
        #expect(batch.inputs.count == 16 * 8 && batch.targets.count == 16 * 8)
        for b in 0..<16 {
            let row = Array(batch.inputs[(b * 8)..<(b * 8 + 8)])
            let target = Array(batch.targets[(b * 8)..<(b * 8 + 8)])
            #expect(Array(row.dropFirst()) == Array(target.dropLast()))
            #expect(target.last == row.last! + 1)  // ids are 0..<50 in order: contiguous chunk
            #expect(row.first! + 8 < 50)
        }
        // Real text: the target of position t is the character at t + 1.
        let corpus = try TextCorpus(text: "to be or not to be", name: "test")
        let text = try TextChunks(ids: corpus.ids, context: 5).batch(starts: [3])
        #expect(corpus.vocabulary.decode(text.inputs) == "be or")
        #expect(corpus.vocabulary.decode(text.targets) == "e or ")
        #expect(chunks.sequentialStarts == [0, 8, 16, 24, 32, 40])
    }

    @Test func chunksNeedAtLeastBlockSizePlusOneCharacters() {
        let message = dataErrorMessage { _ = try TextChunks(ids: [1, 2, 3], context: 3) } ?? ""
        #expect(message.contains("3 characters") && message.contains("context + 1 = 4"))
        #expect((try? TextChunks(ids: [1, 2, 3, 4], context: 3)) != nil)
    }
}

@Suite struct ToyDataTests {
    typealias Generator = (inout SplitMix64) -> (points: [Float], labels: [Int])

    static let generators: [(name: String, classes: Int, make: Generator)] = [
        ("blobs", 4, { ToyData.blobs(count: 101, centers: 4, spread: 0.3, rng: &$0) }),
        ("moons", 2, { ToyData.moons(count: 101, noise: 0.1, rng: &$0) }),
        ("circles", 2, { ToyData.circles(count: 101, noise: 0.05, rng: &$0) }),
        ("spirals", 3, { ToyData.spirals(count: 101, classes: 3, noise: 0.2, rng: &$0) }),
        ("xorCloud", 2, { ToyData.xorCloud(count: 101, noise: 0.1, rng: &$0) }),
    ]

    @Test func generatorsAreSeededWithTheRightShapes() {
        for generator in Self.generators {
            var a = SplitMix64(seed: 11), b = SplitMix64(seed: 11), c = SplitMix64(seed: 12)
            let first = generator.make(&a), second = generator.make(&b), other = generator.make(&c)
            #expect(first.points == second.points && first.labels == second.labels, "\(generator.name)")
            #expect(first.points != other.points, "\(generator.name): a different seed gives different points")
            #expect(first.points.count == 2 * 101 && first.labels.count == 101, "\(generator.name)")
            #expect(Set(first.labels) == Set(0..<generator.classes), "\(generator.name)")
            #expect(first.points.allSatisfy { $0.isFinite && abs($0) < 5 }, "\(generator.name)")
            // Balanced: class sizes differ by at most what 101 points force (plus noise for xorCloud).
            let counts = (0..<generator.classes).map { k in first.labels.filter { $0 == k }.count }
            #expect(counts.max()! - counts.min()! <= (generator.name == "xorCloud" ? 30 : 1), "\(generator.name) \(counts)")
        }
    }

    @Test func pointsSitWhereTheirClassSays() {
        var rng = SplitMix64(seed: 5)
        let circles = ToyData.circles(count: 200, noise: 0, factor: 0.5, rng: &rng)
        for i in 0..<200 {
            let radius = (circles.points[2 * i] * circles.points[2 * i] + circles.points[2 * i + 1] * circles.points[2 * i + 1]).squareRoot()
            #expect(abs(radius - (circles.labels[i] == 0 ? 1 : 0.5)) < 1e-5)
        }
        let cloud = ToyData.xorCloud(count: 200, noise: 0.1, rng: &rng)
        for i in 0..<200 {
            let a = cloud.points[2 * i] > 0.5 ? 1 : 0, b = cloud.points[2 * i + 1] > 0.5 ? 1 : 0
            #expect(cloud.labels[i] == a ^ b)  // 0.1 noise stays far from the 0.5 boundary (5 std)
        }
        let moons = ToyData.moons(count: 100, noise: 0, rng: &rng)
        for i in 0..<100 where moons.labels[i] == 0 { #expect(moons.points[2 * i + 1] >= 0) }  // upper half circle
    }

    @Test func xorIsTheTruthTable() {
        let (points, labels) = ToyData.xor()
        #expect(points == [0, 0, 0, 1, 1, 0, 1, 1] && labels == [0, 1, 1, 0])
    }
}

@Suite struct SequenceTaskTests {
    @Test func alignedTargetsApplyTheTask() {
        for task in SequenceTask.allCases {
            var rng = SplitMix64(seed: 21)
            let batch = SequenceTasks.alignedBatch(task, batchSize: 5, length: 6, vocabularySize: 10, rng: &rng)
            #expect(batch.inputs.count == 30 && batch.targets.count == 30)
            #expect(batch.inputs.allSatisfy { $0 >= 0 && $0 < 10 })
            for b in 0..<5 {
                let source = Array(batch.inputs[(b * 6)..<(b * 6 + 6)])
                let target = Array(batch.targets[(b * 6)..<(b * 6 + 6)])
                switch task {
                case .copy: #expect(target == source)
                case .reverse: #expect(target == Array(source.reversed()))
                case .sort: #expect(target == source.sorted())
                }
            }
        }
    }

    @Test func nextTokenBatchHasTheMinGPTLayout() {
        var rng = SplitMix64(seed: 4)
        let batch = SequenceTasks.nextTokenBatch(.sort, batchSize: 3, length: 4, vocabularySize: 5, rng: &rng)
        #expect(batch.length == 7 && batch.inputs.count == 21 && batch.targets.count == 21)
        for b in 0..<3 {
            let inputs = Array(batch.inputs[(b * 7)..<(b * 7 + 7)])
            let targets = Array(batch.targets[(b * 7)..<(b * 7 + 7)])
            let source = Array(inputs[0..<4])
            #expect(Array(targets[0..<3]) == [-1, -1, -1])
            #expect(Array(targets[3...]) == source.sorted())
            #expect(Array(inputs[4...]) == Array(source.sorted().prefix(3)))
        }
    }
}

@Suite struct BatchingTests {
    @Test func everyIndexOncePerEpoch() {
        var rng = SplitMix64(seed: 1)
        for (count, batchSize) in [(10, 3), (64, 8), (7, 10), (1, 1), (0, 4)] {
            let epoch = MiniBatches(count: count, batchSize: batchSize, shuffle: true, dropLast: false, rng: &rng)
            let batches = Array(epoch)
            #expect(batches.count == epoch.batchCount)
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<count), "count \(count) batch \(batchSize)")
            #expect(batches.dropLast().allSatisfy { $0.count == batchSize })
        }
    }

    @Test func dropLastDropsThePartialBatch() {
        var rng = SplitMix64(seed: 2)
        let batches = Array(MiniBatches(count: 10, batchSize: 3, shuffle: true, dropLast: true, rng: &rng))
        #expect(batches.count == 3 && batches.allSatisfy { $0.count == 3 })
        #expect(Set(batches.flatMap { $0 }).count == 9)
        #expect(Array(MiniBatches(count: 2, batchSize: 3, shuffle: false, dropLast: true, rng: &rng)).isEmpty)
    }

    @Test func shuffleIsSeededAndUnshuffledIsInOrder() {
        var a = SplitMix64(seed: 8), b = SplitMix64(seed: 8)
        let first = Array(MiniBatches(count: 100, batchSize: 16, shuffle: true, dropLast: false, rng: &a))
        let second = Array(MiniBatches(count: 100, batchSize: 16, shuffle: true, dropLast: false, rng: &b))
        #expect(first == second)
        #expect(first.flatMap { $0 } != Array(0..<100))
        let nextEpoch = Array(MiniBatches(count: 100, batchSize: 16, shuffle: true, dropLast: false, rng: &a))
        #expect(nextEpoch != first)  // the generator moved on: a new order each epoch
        var c = SplitMix64(seed: 8)
        #expect(Array(MiniBatches(count: 5, batchSize: 2, shuffle: false, dropLast: false, rng: &c)) == [[0, 1], [2, 3], [4]])
    }

    @Test func trainValidationSplitPartitionsTheIndices() {
        var rng = SplitMix64(seed: 6)
        let (train, validation) = trainValidationSplit(count: 103, validationFraction: 0.1, rng: &rng)
        #expect(validation.count == 10 && train.count == 93)
        #expect((train + validation).sorted() == Array(0..<103))
        #expect(gatherRows([0, 1, 10, 11, 20, 21], rows: [2, 0], width: 2) == [20, 21, 0, 1])
    }

    @Test("the pointer gatherRows (four rows at a time, threads) equals a naive copy",
          arguments: [(1, 1), (3, 17), (7, 33), (130, 785) /* split across threads, B % 4 = 2 */])
    func pointerGatherMatchesNaive(size: (Int, Int)) {
        let (B, width) = size
        var rng = SplitMix64(seed: 21)
        let sourceRows = 2 * B + 3
        let source = rng.gaussians(sourceRows * width)
        let indices = (0..<B).map { _ in rng.int(below: sourceRows) }
        var want = [Float](), got = [Float](repeating: .nan, count: B * width)
        for index in indices { want += source[(index * width)..<((index + 1) * width)] }
        source.withUnsafeBufferPointer { src in
            got.withUnsafeMutableBufferPointer { dst in
                gatherRows(from: src.baseAddress!, sourceRows: sourceRows, width: width,
                           indices: indices[...], into: dst.baseAddress!)
            }
        }
        #expect(got == want)
    }
}
