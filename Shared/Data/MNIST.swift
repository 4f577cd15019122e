// MNIST and Fashion-MNIST (weeks 3-4): 60,000 training and 10,000 test images of 28x28,
// ten classes, in four IDX files. Found on disk (--data-dir, Datasets/, the Debian package)
// or, only when asked, downloaded from public mirrors and checked against published MD5s.
// MNIST: http://yann.lecun.com/exdb/mnist/  Fashion-MNIST: https://github.com/zalandoresearch/fashion-mnist
import SharedKernels
import SharedTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which of the two MNIST-format image sets. The raw value is the folder name under Datasets/.
public enum MNISTDataset: String, CaseIterable {
    case mnist
    case fashionMNIST = "fashion-mnist"

    /// For messages: "MNIST", "Fashion-MNIST".
    public var displayName: String { self == .mnist ? "MNIST" : "Fashion-MNIST" }

    /// Label i means classNames[i].
    public var classNames: [String] {
        switch self {
        case .mnist: return (0...9).map(String.init)
        case .fashionMNIST:
            return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        }
    }

    /// Base URLs tried in order by `MNIST.download`.
    public var mirrors: [String] {
        switch self {
        case .mnist:
            return ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/"]
        case .fashionMNIST:
            return ["https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
                    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
        }
    }

    /// The MD5 checksums published with the data (torchvision uses the same), by file name.
    public var publishedMD5: [String: String] {
        switch self {
        case .mnist:
            return ["train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"]
        case .fashionMNIST:
            return ["train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"]
        }
    }

    /// Folders outside the repository where a system package installs the files
    /// (Debian/Ubuntu: `apt-get install dataset-fashion-mnist`).
    public var systemDirectories: [String] {
        self == .fashionMNIST ? ["/usr/share/datasets/fashion-mnist"] : []
    }
}

public enum MNIST {
    /// The four files, without the ".gz" (both `name` and `name.gz` are accepted on disk).
    public static let trainImagesFile = "train-images-idx3-ubyte"
    public static let trainLabelsFile = "train-labels-idx1-ubyte"
    public static let testImagesFile = "t10k-images-idx3-ubyte"
    public static let testLabelsFile = "t10k-labels-idx1-ubyte"
    public static let fileNames = [trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile]

    /// Loads the training and test sets, pixels scaled to [0, 1] (byte / 255).
    ///
    /// Where it looks: `dataDir` alone when given (an explicit folder is never silently
    /// replaced by another); otherwise `Datasets/<mnist|fashion-mnist>/`, then for
    /// Fashion-MNIST `/usr/share/datasets/fashion-mnist/`. Files on disk are checked for
    /// format only, so any MNIST-format set loads from `dataDir`.
    /// When nothing is found and `download` is true, the files are fetched (see `download`)
    /// into `dataDir`, or `Datasets/<folder>/`; otherwise it throws one line saying how to get them.
    public static func load(_ dataset: MNISTDataset, dataDir: String?, download: Bool) throws
        -> (train: LabeledImages, test: LabeledImages)
    {
        let folders = searchDirectories(dataset, dataDir: dataDir)
        var found = findDirectory(dataset, dataDir: dataDir)
        if found == nil && download {
            let target = dataDir ?? DatasetFiles.downloadDirectory(dataset.rawValue)
            try self.download(dataset, to: target)
            found = target
        }
        guard let folder = found else { throw notFoundError(dataset, looked: folders) }
        return try load(from: folder, dataset: dataset)
    }

    /// Reads the four files from `folder` and checks that they fit together: images are
    /// (count, rows, cols), labels (count), the same count, labels below the number of classes.
    public static func load(from folder: String, dataset: MNISTDataset) throws
        -> (train: LabeledImages, test: LabeledImages)
    {
        let train = try loadPair(images: file(trainImagesFile, in: folder),
                                 labels: file(trainLabelsFile, in: folder), dataset: dataset)
        let test = try loadPair(images: file(testImagesFile, in: folder),
                                labels: file(testLabelsFile, in: folder), dataset: dataset)
        return (train, test)
    }

    /// Loads one images file and its labels file as a `LabeledImages`.
    public static func loadPair(images imagesPath: String, labels labelsPath: String,
                                dataset: MNISTDataset) throws -> LabeledImages
    {
        let images = try IDX.readAsFloats(imagesPath, dividingBy: 255)  // pixels in [0, 1]
        let labels = try IDX.read(labelsPath)
        guard images.shape.count == 3 else {
            throw WorkbookError("\(imagesPath): expected images of shape (count, rows, cols), "
                                + "got \(images.shape.count) dimensions \(IDX.describe(images.shape))")
        }
        guard labels.shape.count == 1 else {
            throw WorkbookError("\(labelsPath): expected labels of shape (count), got \(IDX.describe(labels.shape))")
        }
        let count = images.shape[0], height = images.shape[1], width = images.shape[2]
        guard labels.shape[0] == count else {
            throw WorkbookError("\(labelsPath) holds \(labels.shape[0]) labels but \(imagesPath) "
                                + "holds \(count) images")
        }
        // Any MNIST-format set may come through --data-dir: name extra classes by number.
        let largestLabel = Int(labels.bytes.max() ?? 0)
        var classNames = dataset.classNames
        if largestLabel >= classNames.count { classNames += (classNames.count...largestLabel).map(String.init) }

        return LabeledImages(pixels: images.values, labels: labels.bytes.map { Int($0) },
                             count: count, height: height, width: width, classNames: classNames,
                             name: dataset.rawValue)
    }

    /// Downloads the four `.gz` files into `folder` (created if needed) with `curl`, trying each
    /// mirror in turn, and checks each against its published MD5 before keeping it.
    /// Short timeouts: with no network this fails within seconds, with one line saying so.
    ///
    /// Why `curl` rather than URLSession: it is on every macOS and almost every Linux, it
    /// needs no FoundationNetworking (which Linux ships separately), and its timeouts
    /// (`--connect-timeout`, `--speed-limit`) are exactly the "fail fast, never hang" we want.
    public static func download(_ dataset: MNISTDataset, to folder: String) throws {
        try createDirectories(folder)
        for name in fileNames {
            let fileName = name + ".gz"
            let destination = joinPath(folder, fileName)
            let expectedMD5 = dataset.publishedMD5[fileName]!
            if fileExists(destination), try MD5.hexDigest(readFileBytes(destination)) == expectedMD5 { continue }
            var failures: [String] = []
            var done = false
            for mirror in dataset.mirrors where !done {
                let url = mirror + fileName
                print("downloading \(url)")
                fflush(stdout)
                let partial = destination + ".part"
                if let problem = runCurl(url: url, output: partial) {
                    failures.append(problem)
                    unlink(partial)
                    continue
                }
                let actual = MD5.hexDigest(try readFileBytes(partial))
                guard actual == expectedMD5 else {
                    failures.append("\(url): MD5 \(actual), expected \(expectedMD5)")
                    unlink(partial)
                    continue
                }
                guard rename(partial, destination) == 0 else {
                    throw WorkbookError("cannot move \(partial) to \(destination): \(String(cString: strerror(errno)))")
                }
                done = true
            }
            guard done else {
                throw WorkbookError("\(dataset.displayName) download failed (no network? then copy the "
                                    + "four files into \(folder) by hand): " + failures.joined(separator: "; "))
            }
        }
    }

    // MARK: Helpers

    /// Where `load` looks, in order.
    public static func searchDirectories(_ dataset: MNISTDataset, dataDir: String?) -> [String] {
        if let dataDir { return [dataDir] }
        let inRepository = DatasetFiles.candidateDirectories().map { joinPath($0, dataset.rawValue) }
        return inRepository + dataset.systemDirectories
    }

    /// The first folder of `searchDirectories` that holds all four files, nil if none does.
    public static func findDirectory(_ dataset: MNISTDataset, dataDir: String?) -> String? {
        searchDirectories(dataset, dataDir: dataDir).first(where: { hasAllFiles(in: $0) })
    }

    /// `folder/name.gz` if it exists, else `folder/name` (plain IDX).
    public static func file(_ name: String, in folder: String) -> String {
        let gzipped = joinPath(folder, name + ".gz")
        return fileExists(gzipped) ? gzipped : joinPath(folder, name)
    }

    static func hasAllFiles(in folder: String) -> Bool {
        fileNames.allSatisfy { fileExists(file($0, in: folder)) }
    }

    static func notFoundError(_ dataset: MNISTDataset, looked folders: [String]) -> WorkbookError {
        var ways = ["run with --download", "pass --data-dir DIR (a folder holding \(trainImagesFile).gz and the other three files)"]
        if dataset == .fashionMNIST { ways.insert("sudo apt-get install dataset-fashion-mnist", at: 1) }
        return WorkbookError("\(dataset.displayName) files not found in \(folders.joined(separator: ", ")); "
                             + "to get them: " + ways.joined(separator: ", or "))
    }

    /// byte / 255, in one pass the compiler vectorises. A true division (not a multiply by
    /// 1/255) so every value is the correctly rounded one PyTorch's `x.float() / 255` gives.
    public static func bytesToUnitFloats(_ bytes: [UInt8]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            bytes.withUnsafeBufferPointer { source in
                for i in 0..<source.count { out[i] = Float(source[i]) / 255 }
            }
            initialized = bytes.count
        }
    }

    /// Runs curl; returns nil on success, else one line describing the failure.
    /// --connect-timeout 5: no network -> fails in seconds. --speed-limit/--speed-time: a
    /// stalled transfer (under 1 KB/s for 15 s) is abandoned rather than left hanging.
    static func runCurl(url: String, output: String) -> String? {
        let arguments = ["curl", "--fail", "--silent", "--show-error", "--location",
                         "--connect-timeout", "5", "--speed-limit", "1024", "--speed-time", "15",
                         "--max-time", "600", "--output", output, url]
        let (status, errorText) = runProcess(arguments)
        if status == 0 { return nil }
        if status == 127 { return "curl not found: install curl, or put the files in place by hand" }
        let detail = errorText.split(separator: "\n").last.map(String.init) ?? "exit code \(status)"
        return "\(url): \(detail)"
    }
}

/// Runs a program found on PATH (posix_spawnp) and waits; returns its exit status (127 when
/// it could not be started) and what it wrote to stderr.
func runProcess(_ arguments: [String]) -> (status: Int32, standardError: String) {
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { return (127, "pipe failed") }
    #if canImport(Darwin)
    var actions: posix_spawn_file_actions_t? = nil  // an opaque pointer on Apple platforms
    #else
    var actions = posix_spawn_file_actions_t()
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
    posix_spawn_file_actions_addclose(&actions, pipeEnds[0])

    var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in cArguments { free(pointer) } }
    var pid = pid_t()
    let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &cArguments, environ)
    close(pipeEnds[1])
    guard spawned == 0 else {
        close(pipeEnds[0])
        return (127, "\(arguments[0]): \(String(cString: strerror(spawned)))")
    }
    var errorBytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let got = read(pipeEnds[0], &buffer, buffer.count)
        if got <= 0 { break }
        errorBytes += buffer[0..<got]
    }
    close(pipeEnds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, written out (they are C macros Swift does not import).
    let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (exitCode, String(decoding: errorBytes, as: UTF8.self))
}
