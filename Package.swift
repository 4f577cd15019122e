// swift-tools-version:6.0
// The workbook: one library (Shared, in four layered targets), one executable per week, one
// test target per week, and a Bench executable. No package dependencies; zlib comes from the system.
import PackageDescription

// Optimisation flags, applied in every configuration (debug included), because learners
// type `swift run Week03MLP` and that is a debug build:
//   -O                  SwiftPM's debug `-Onone` comes first on the command line, so this
//                       later `-O` wins; numeric loops get 10-100x faster.
//   -target-cpu native  without it swiftc lowers SIMD16<Float> to SSE without FMA; with it
//                       the kernels use the widest vectors and fused multiply-add of the
//                       machine they are built on (AVX-512 here, NEON on Apple silicon).
//   -Xcc -fno-math-errno  Float.squareRoot() comes from a C inline function; on Linux C's
//                       sqrtf may set errno, so by default every square root is a call that
//                       stops the loop around it from being vectorised (an AdamW-style loop ran
//                       4x slower). Without errno it is one vsqrtps per 16 floats.
// We use -O rather than -Ounchecked so that the `precondition` checks guarding bad input
// stay in. `-wmo` is left out: in a debug build it breaks linking.
let fast: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "native", "-Xcc", "-fno-math-errno"])]

/// The week programs, in curriculum order. Each gets `Weeks/<name>/` and a test target
/// `Tests/WeekNNTests/` (so `swift test --filter Week03` runs exactly week 3's tests).
let weeks = [
    "Week01Perceptron",
    "Week02LogisticRegression",
    "Week03MLP",
    "Week04Training",
    "Week05RNN",
    "Week06LSTM",
    "Week07Attention",
    "Week08Transformer",
    "Week09Sampling",
    "Week10BPE",
]

/// The layers of Shared, bottom up: each may import only the ones before it (Shared/Training/
/// Shared.swift draws the graph). `Shared` itself is the top layer and re-exports the others.
let layers: [(name: String, folder: String, dependencies: [Target.Dependency])] = [
    ("SharedKernels", "Shared/Kernels", []),
    ("SharedTools", "Shared/Tools", ["SharedKernels", "CZlib"]),
    ("SharedData", "Shared/Data", ["SharedKernels", "SharedTools", "CZlib"]),
    ("SharedNN", "Shared/NN", ["SharedKernels", "SharedTools", "SharedData"]),
]
/// What a test target may `@testable import`: every layer, and the tests' own support library.
let allLayers: [Target.Dependency] = ["Shared"] + layers.map { .target(name: $0.name) }
let testDependencies: [Target.Dependency] = allLayers + ["TestSupport"]

let package = Package(
    name: "Workbook",
    platforms: [.macOS(.v13)],
    products: [.library(name: "Shared", targets: ["Shared"])],
    targets: [
        // System zlib (gzip'd IDX files), through a module map; no hand-written inflate.
        .systemLibrary(name: "CZlib", path: "Shared/CZlib"),
        .target(name: "Shared", dependencies: layers.map { .target(name: $0.name) }, path: "Shared/Training",
                swiftSettings: fast),
        .testTarget(name: "SharedTests", dependencies: testDependencies, path: "Tests/SharedTests",
                    swiftSettings: fast),
        // What the tests share: running a built week program (Tests/Support/ProgramRunner.swift).
        .target(name: "TestSupport", dependencies: ["SharedTools"], path: "Tests/Support", swiftSettings: fast),
        .executableTarget(name: "Bench", dependencies: allLayers + weeks.map { .target(name: $0) },
                          path: "Tests/Bench", swiftSettings: fast),
    ] + layers.map { layer in
        .target(name: layer.name, dependencies: layer.dependencies, path: layer.folder, swiftSettings: fast)
    } + weeks.flatMap { week -> [Target] in [
        .executableTarget(name: week, dependencies: ["Shared"], path: "Weeks/\(week)",
                          swiftSettings: fast),
        .testTarget(name: "\(week.prefix(6))Tests", dependencies: [.target(name: week)] + testDependencies
                        + (week == "Week04Training" ? [.target(name: "Week03MLP")] : []),   // week 4 checks itself against week 3
                    path: "Tests/\(week.prefix(6))Tests",
                    // files the tests read from disk, and the Python scripts that made or check them
                    exclude: ["Week07Attention": ["interop"], "Week08Transformer": ["Fixtures"], "Week09Sampling": ["interop"],
                              "Week10BPE": ["interop"]][week] ?? [],
                    swiftSettings: fast),
    ] },
    swiftLanguageModes: [.v5]
)
