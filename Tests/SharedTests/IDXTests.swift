// The IDX reader and the MNIST loader: round trips through files the tests write (plain and
// gzip'd), and every malformed file we can think of giving one clear error, never a crash.
// No network: downloads are never attempted here.
import Foundation
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

/// A fresh temporary folder per test, removed afterwards.
final class DataTestFolder {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "workbook-data-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    func write(_ bytes: [UInt8], _ name: String) -> String {
        let p = file(name)
        precondition(FileManager.default.createFile(atPath: p, contents: Data(bytes)), "cannot write \(p)")
        return p
    }
}

/// The message of the WorkbookError `body` throws ("" if it throws something else, nil if nothing).
func dataErrorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as WorkbookError {
        return error.message
    } catch {
        return "unexpected error type: \(error)"
    }
}

@Suite struct IDXTests {
    static func sampleArray(_ shape: [Int], seed: UInt64 = 1) -> IDXArray {
        var rng = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        return IDXArray(shape: shape, bytes: (0..<count).map { _ in UInt8(rng.int(below: 256)) })
    }

    @Test func plainFileRoundTrips() throws {
        let folder = DataTestFolder()
        for shape in [[7], [3, 4, 5], [2, 1, 3, 2], [0, 28, 28]] {
            let array = Self.sampleArray(shape)
            let path = folder.file("plain-\(shape.count)")
            try IDX.write(array, to: path, gzip: false)
            #expect(try IDX.read(path) == array)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 4 + 4 * shape.count + array.bytes.count)
        }
    }

    @Test func gzipFileRoundTrips() throws {
        let folder = DataTestFolder()
        let array = Self.sampleArray([50, 28, 28])
        let path = folder.file("images.gz")
        try IDX.write(array, to: path, gzip: true)
        let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(stored[0] == 0x1F && stored[1] == 0x8B, "written file is gzip")
        #expect(try IDX.read(path) == array)
    }

    @Test(arguments: [false, true]) func readAsFloatsMatchesRead(gzip: Bool) throws {
        let folder = DataTestFolder()
        // 2.5 MiB + a tail: several 1 MiB chunks through the two-buffer pipeline.
        let array = Self.sampleArray([5, 512, 1025], seed: 3)
        let path = folder.file("big" + (gzip ? ".gz" : ""))
        try IDX.write(array, to: path, gzip: gzip)
        let (shape, values) = try IDX.readAsFloats(path, dividingBy: 255)
        #expect(shape == array.shape)
        #expect(values == array.bytes.map { Float($0) / 255 })
        // The same errors as `read`.
        let bytes = IDX.encode(array)
        let cut = folder.file("cut.gz")
        try writeFile(Array(bytes.dropLast(1000)), to: cut, gzip: true)
        #expect(dataErrorMessage { _ = try IDX.readAsFloats(cut, dividingBy: 255) }?.contains("truncated IDX payload") == true)
        let long = folder.write(bytes + [7], "long")
        #expect(dataErrorMessage { _ = try IDX.readAsFloats(long, dividingBy: 255) }?.contains("holds more data") == true)
        if gzip {  // a corrupt stream, detected mid-pipeline
            var damaged = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            for i in (damaged.count / 2)..<(damaged.count / 2 + 16) { damaged[i] ^= 0x33 }
            let damagedPath = folder.write(damaged, "damaged.gz")
            #expect(dataErrorMessage { _ = try IDX.readAsFloats(damagedPath, dividingBy: 255) }?.contains("gzip stream") == true)
        }
    }

    @Test func headerLayoutIsBigEndian() {
        let bytes = IDX.encode(IDXArray(shape: [60000, 28, 28], bytes: [UInt8](repeating: 0, count: 60000 * 784)))
        // 60000 = 0x0000EA60
        #expect(Array(bytes[0..<8]) == [0, 0, 0x08, 3, 0x00, 0x00, 0xEA, 0x60])
        #expect(Array(bytes[8..<16]) == [0, 0, 0, 28, 0, 0, 0, 28])
    }

    @Test func inMemoryDecodeMatchesEncode() throws {
        let array = Self.sampleArray([4, 3])
        #expect(try IDX.decode(IDX.encode(array)) == array)
    }

    @Test func wrongMagicIsAClearError() {
        let folder = DataTestFolder()
        let path = folder.write([0x01, 0x02, 0x08, 0x01, 0, 0, 0, 1, 42], "bad-magic")
        let message = dataErrorMessage { _ = try IDX.read(path) }
        #expect(message?.contains("not an IDX file") == true, "\(message ?? "no error")")
        #expect(message?.contains(path) == true)
        // A PNG, say: still the same one line.
        #expect(dataErrorMessage { _ = try IDX.decode([0x89, 0x50, 0x4E, 0x47, 1, 2]) }?.contains("not an IDX file") == true)
    }

    @Test func unsupportedElementTypeIsAClearError() {
        let folder = DataTestFolder()
        let path = folder.write([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], "floats")
        #expect(dataErrorMessage { _ = try IDX.read(path) }?.contains("type 0x0d is not supported") == true)
    }

    @Test func truncatedHeaderIsAClearError() {
        let folder = DataTestFolder()
        let path = folder.write([0, 0, 8, 3, 0, 0, 0, 5, 0, 0], "short-header")
        #expect(dataErrorMessage { _ = try IDX.read(path) }?.contains("truncated IDX header") == true)
        let tiny = folder.write([0, 0], "tiny")
        #expect(dataErrorMessage { _ = try IDX.read(tiny) }?.contains("too short") == true)
    }

    @Test func truncatedPayloadIsAClearError() throws {
        let folder = DataTestFolder()
        let bytes = IDX.encode(Self.sampleArray([10, 4, 4]))
        let cut = Array(bytes.dropLast(7))
        let plain = folder.write(cut, "cut")
        let message = dataErrorMessage { _ = try IDX.read(plain) }
        #expect(message?.contains("truncated IDX payload") == true, "\(message ?? "no error")")
        #expect(message?.contains("10x4x4 = 160 bytes") == true)
        #expect(message?.contains("only 153") == true)
        // The same, gzip'd (a complete gzip stream of an incomplete IDX file).
        let gzipped = folder.file("cut.gz")
        try writeFile(cut, to: gzipped, gzip: true)
        #expect(dataErrorMessage { _ = try IDX.read(gzipped) }?.contains("truncated IDX payload") == true)
        #expect(dataErrorMessage { _ = try IDX.decode(cut) }?.contains("truncated IDX payload") == true)
    }

    @Test func headerCountsDisagreeingWithFileSizeAreClearErrors() throws {
        let folder = DataTestFolder()
        var bytes = IDX.encode(Self.sampleArray([10, 4, 4]))
        // Header says 9 images, the file holds 10: more data than announced.
        bytes[7] = 9
        let tooMuch = folder.write(bytes, "too-much")
        let message = dataErrorMessage { _ = try IDX.read(tooMuch) }
        #expect(message?.contains("holds more data") == true, "\(message ?? "no error")")
        #expect(dataErrorMessage { _ = try IDX.decode(bytes) }?.contains("header and size disagree") == true)
        // Header says 11 images: the payload is short.
        bytes[7] = 11
        let tooLittle = folder.write(bytes, "too-little")
        #expect(dataErrorMessage { _ = try IDX.read(tooLittle) }?.contains("truncated IDX payload") == true)
        // A header announcing an absurd size must not try to allocate it.
        let huge: [UInt8] = [0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 9, 1, 2, 3]
        let hugePath = folder.write(huge, "huge")
        #expect(dataErrorMessage { _ = try IDX.read(hugePath) }?.contains("impossible size") == true)
    }

    @Test func corruptGzipStreamIsAClearError() throws {
        let folder = DataTestFolder()
        let path = folder.file("images.gz")
        try IDX.write(Self.sampleArray([20, 8, 8]), to: path, gzip: true)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))

        // Flip bytes in the middle of the deflate data.
        var flipped = good
        for i in (good.count / 2)..<(good.count / 2 + 8) { flipped[i] ^= 0x5A }
        let flippedPath = folder.write(flipped, "flipped.gz")
        let message = dataErrorMessage { _ = try IDX.read(flippedPath) }
        #expect(message?.contains("gzip stream") == true, "\(message ?? "no error")")

        // Cut the compressed file short.
        let cutPath = folder.write(Array(good.prefix(good.count / 2)), "cut.gz")
        let cutMessage = dataErrorMessage { _ = try IDX.read(cutPath) }
        #expect(cutMessage?.contains("gzip stream") == true, "\(cutMessage ?? "no error")")

        // Damage only the CRC in the trailer: the data inflates, the check must still fail.
        var badCRC = good
        badCRC[good.count - 6] ^= 0xFF
        let crcPath = folder.write(badCRC, "crc.gz")
        #expect(dataErrorMessage { _ = try IDX.read(crcPath) }?.contains("gzip stream") == true)
    }

    @Test func missingFileIsAClearError() {
        #expect(dataErrorMessage { _ = try IDX.read("/nonexistent/train-images-idx3-ubyte.gz") }?
            .contains("no such file") == true)
    }
}

@Suite struct MNISTLoaderTests {
    /// Writes a tiny MNIST-format set (train: 6 images, test: 4, of 3x2) into `folder`.
    static func writeTinySet(in folder: String, gzip: Bool, largestLabel: UInt8 = 9) throws {
        func write(_ array: IDXArray, _ name: String) throws {
            try IDX.write(array, to: folder + "/" + name + (gzip ? ".gz" : ""), gzip: gzip)
        }
        try write(IDXArray(shape: [6, 3, 2], bytes: (0..<36).map { UInt8($0 * 7) }), MNIST.trainImagesFile)
        try write(IDXArray(shape: [6], bytes: [0, 1, 2, 3, 4, largestLabel]), MNIST.trainLabelsFile)
        try write(IDXArray(shape: [4, 3, 2], bytes: [UInt8](repeating: 255, count: 24)), MNIST.testImagesFile)
        try write(IDXArray(shape: [4], bytes: [9, 8, 7, 6]), MNIST.testLabelsFile)
    }

    @Test(arguments: [false, true]) func loadsAnyMNISTFormatSetFromDataDir(gzip: Bool) throws {
        let folder = DataTestFolder()
        try Self.writeTinySet(in: folder.path, gzip: gzip)
        let (train, test) = try MNIST.load(.mnist, dataDir: folder.path, download: false)
        #expect(train.count == 6 && train.height == 3 && train.width == 2 && train.features == 6)
        #expect(train.labels == [0, 1, 2, 3, 4, 9])
        #expect(train.pixels[1] == Float(7) / 255)
        #expect(train.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(test.count == 4 && test.pixels.allSatisfy { $0 == 1 })
        #expect(train.classNames.count == 10 && train.name == "mnist")
    }

    @Test func labelsBeyondTheClassNamesGetNumberedClasses() throws {
        let folder = DataTestFolder()
        try Self.writeTinySet(in: folder.path, gzip: false, largestLabel: 25)
        let (train, _) = try MNIST.load(.fashionMNIST, dataDir: folder.path, download: false)
        #expect(train.classNames.count == 26 && train.classNames[0] == "T-shirt/top" && train.classNames[25] == "25")
    }

    @Test func mismatchedImageAndLabelCountsAreAClearError() throws {
        let folder = DataTestFolder()
        try IDX.write(IDXArray(shape: [3, 2, 2], bytes: [UInt8](repeating: 1, count: 12)), to: folder.file("i"), gzip: false)
        try IDX.write(IDXArray(shape: [2], bytes: [1, 2]), to: folder.file("l"), gzip: false)
        let message = dataErrorMessage { _ = try MNIST.loadPair(images: folder.file("i"), labels: folder.file("l"), dataset: .mnist) }
        #expect(message?.contains("holds 2 labels") == true, "\(message ?? "no error")")
        // Labels file given as images: wrong rank.
        #expect(dataErrorMessage { _ = try MNIST.loadPair(images: folder.file("l"), labels: folder.file("l"), dataset: .mnist) }?
            .contains("(count, rows, cols)") == true)
    }

    @Test func missingFilesSayInOneLineHowToGetThem() {
        let folder = DataTestFolder()
        let message = dataErrorMessage { _ = try MNIST.load(.mnist, dataDir: folder.path, download: false) } ?? ""
        #expect(message.contains("MNIST files not found in \(folder.path)"))
        #expect(message.contains("--download") && message.contains("--data-dir"))
        #expect(!message.contains("\n"))
        let fashion = dataErrorMessage { _ = try MNIST.load(.fashionMNIST, dataDir: folder.path, download: false) } ?? ""
        #expect(fashion.contains("apt-get install dataset-fashion-mnist"))
    }

    @Test func searchOrderWithoutDataDir() {
        let folders = MNIST.searchDirectories(.fashionMNIST, dataDir: nil)
        #expect(folders.first?.hasSuffix("Datasets/fashion-mnist") == true)
        #expect(folders.last == "/usr/share/datasets/fashion-mnist")
        #expect(MNIST.searchDirectories(.mnist, dataDir: "here") == ["here"])
    }

    @Test func md5MatchesKnownDigests() {
        // RFC 1321 test suite.
        #expect(MD5.hexDigest([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hexDigest(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hexDigest(Array("message digest".utf8)) == "f96b697d7cb7938d525a2f31aaf161d0")
        let long = "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        #expect(MD5.hexDigest(Array(long.utf8)) == "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// Only where the Debian package `dataset-fashion-mnist` is installed; loads the test
    /// half (10,000 images) to keep the suite fast.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")))
    func loadsSystemFashionMNISTTestSet() throws {
        let folder = "/usr/share/datasets/fashion-mnist"
        let test = try MNIST.loadPair(images: folder + "/t10k-images-idx3-ubyte.gz",
                                      labels: folder + "/t10k-labels-idx1-ubyte.gz", dataset: .fashionMNIST)
        #expect(test.count == 10_000 && test.height == 28 && test.width == 28)
        #expect(test.classCounts() == [Int](repeating: 1000, count: 10))
        #expect(test.pixels.min() == 0 && test.pixels.max() == 1)
    }
}
