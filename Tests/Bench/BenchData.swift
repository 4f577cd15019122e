// `Bench data`: how long the data layer takes to hand a week its inputs. The headline is the
// 60,000 Fashion-MNIST training images (26 MB gzip'd, 47 MB of pixels), which must load in
// under a second. The loader overlaps inflating (zlib) with converting to Floats on a second
// thread; the two steps are also timed one by one, to show what the overlap saves.
// Also: the test set, the embedded digits, and the Shakespeare corpus (read, vocabulary, encode).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

let benchData = Benchmark(
    summary: "seconds to load Fashion-MNIST (60,000 train images), digits, Shakespeare",
    flags: ["--data-dir DIR   folder with the Fashion-MNIST files (default: Datasets/fashion-mnist, "
            + "then /usr/share/datasets/fashion-mnist)"]
) { arguments in
    let dataDir = try arguments.value("--data-dir")
    try arguments.finish()
    var records: [BenchRecord] = []

    /// `threads`: 2 for the MNIST loader (inflate + convert overlap), 1 for the rest.
    func report(_ label: String, _ name: String, _ seconds: Double, _ extra: String = "", threads: Int = 1) {
        print(padRight(label, 44) + padLeft(fixed(seconds * 1000, 1), 9) + " ms" + extra)
        records.append(BenchRecord(name: name, params: ["threads": .init(threads)], value: seconds, unit: "s"))
    }
    /// Runs `body` once to surface errors as one line, then times it (median of repetitions).
    func timed(_ body: () throws -> Void) throws -> Double {
        try body()
        var failure: Error?
        let seconds = medianSeconds(repetitions: 5, minimumSeconds: 0.01) {
            do { try body() } catch { failure = error }
        }
        if let failure { throw failure }
        return seconds
    }

    print("data loading, median of several runs (after a warm-up read: files are in the page cache)")
    if let folder = MNIST.findDirectory(.fashionMNIST, dataDir: dataDir) {
        let images = MNIST.file(MNIST.trainImagesFile, in: folder)
        let labels = MNIST.file(MNIST.trainLabelsFile, in: folder)
        print("Fashion-MNIST from \(folder)")
        let total = try timed { _ = try MNIST.loadPair(images: images, labels: labels, dataset: .fashionMNIST) }
        // CPU time (user + system, both threads) tells the cost apart from waiting for a core
        // on a busy machine: wall time above this means other processes held the cores.
        let cpuBefore = processCPUSeconds()
        for _ in 0..<3 { _ = try MNIST.loadPair(images: images, labels: labels, dataset: .fashionMNIST) }
        let cpu = (processCPUSeconds() - cpuBefore) / 3
        let verdict = total < 1 ? "  (target < 1 s: ok)"
            : cpu < 1 ? "  (target < 1 s: over, but the CPU time is under: the machine is busy)"
            : "  (target < 1 s: TOO SLOW)"
        report("train set, 60,000 images + labels", "data_fashion_mnist_train_load", total, verdict, threads: 2)
        report("  CPU time per load (user + system)", "data_fashion_mnist_train_cpu", cpu, threads: 2)
        let gunzip = try timed { _ = try IDX.read(images) }
        report("  for comparison: images gunzip'd into bytes", "data_fashion_mnist_train_gunzip", gunzip)
        let bytes = try IDX.read(images).bytes
        let convert = try timed { _ = MNIST.bytesToUnitFloats(bytes) }
        report("  for comparison: bytes -> fresh Floats", "data_fashion_mnist_train_to_float", convert)
        let testImages = MNIST.file(MNIST.testImagesFile, in: folder)
        let testLabels = MNIST.file(MNIST.testLabelsFile, in: folder)
        let test = try timed { _ = try MNIST.loadPair(images: testImages, labels: testLabels, dataset: .fashionMNIST) }
        report("test set, 10,000 images + labels", "data_fashion_mnist_test_load", test, threads: 2)
    } else {
        print("Fashion-MNIST not found (sudo apt-get install dataset-fashion-mnist, or --data-dir DIR): skipped")
    }

    let digits = try timed { _ = try Digits.load() }
    report("digits, 1,797 8x8 images (gzip'd CSV)", "data_digits_load", digits)
    let shakespeare = try timed { _ = try TextCorpus.shakespeare() }
    report("Shakespeare, ~1 MB: read + vocabulary + encode", "data_shakespeare_load", shakespeare)
    var rng = SplitMix64(seed: 1)
    let epoch = try timed {
        for indices in MiniBatches(count: 60_000, batchSize: 128, shuffle: true, dropLast: false, rng: &rng) {
            _ = indices
        }
    }
    report("one shuffled epoch of index batches (60,000 / 128)", "data_minibatch_epoch", epoch)
    return records
}

/// User + system CPU seconds used so far by this process, all threads together.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(0, &usage)  // 0 = RUSAGE_SELF on Linux and macOS (Glibc imports it as an enum)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
