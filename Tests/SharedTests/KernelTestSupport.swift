// What the kernel tests share: the awkward sizes every kernel is run at, comparisons against
// naive references, and the finite-difference gradient check on the real kernel code path.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

enum KernelCheck {
    /// Sizes that exercise SIMD tails and odd shapes (1, 7, 33, 127) plus a round one.
    static let sizes = [1, 7, 33, 127, 256]

    /// Largest |a_i − b_i|; infinity when the counts differ.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i])) }
        return worst
    }

    /// Gradient check of one input: `analytic` (what the backward added into a zeroed buffer)
    /// against centered differences of L = Σ forward(x) ⊙ dOut around `x`.
    static func check(_ name: String, analytic: [Float], at x: [Float], dOut: [Float],
                      step: Float = 1e-3, forward: ([Float]) -> [Float]) -> GradientCheckResult {
        let numeric = numericGradient(of: { projected(forward($0), onto: dOut) }, at: x, step: step)
        return checkGradient(name, analytic: analytic, numeric: numeric)
    }

    /// Gradient check of a scalar function (a loss) of `x`.
    static func checkScalar(_ name: String, analytic: [Float], at x: [Float], step: Float = 1e-3,
                            loss: ([Float]) -> Double) -> GradientCheckResult {
        let numeric = numericGradient(of: loss, at: x, step: step)
        return checkGradient(name, analytic: analytic, numeric: numeric)
    }

    /// Values in ±[0.1, 1.1] with random sign: away from ReLU's kink at 0.
    static func awayFromZero(_ count: Int, rng: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in
            let magnitude = rng.uniform(0.1, 1.1)
            return rng.uniform() < 0.5 ? -magnitude : magnitude
        }
    }

    static func zeros(_ count: Int) -> [Float] { [Float](repeating: 0, count: count) }
}

/// Buffers placed in the middle of larger allocations, for testing the pointer entry points.
/// Each buffer has guard values before and after it (NaN for Floats): a kernel that reads
/// through a wrong offset picks up NaN and fails its comparison, and `guardsIntact` shows
/// any write outside the buffer. Freed with the arena.
final class GuardedArena {
    static let lead = 5, trail = 7
    private var blocks: [(start: UnsafeMutableRawPointer, check: () -> Bool, free: () -> Void)] = []

    /// A copy of `values` with guards around it; the pointer is valid while the arena lives.
    func place<T>(_ values: [T], guard guardValue: T) -> UnsafeMutablePointer<T> {
        let total = GuardedArena.lead + values.count + GuardedArena.trail
        let base = UnsafeMutablePointer<T>.allocate(capacity: total)
        base.initialize(repeating: guardValue, count: total)
        let start = base + GuardedArena.lead
        for (i, v) in values.enumerated() { start[i] = v }
        let bytes = MemoryLayout<T>.stride
        let guardBytes = withUnsafeBytes(of: guardValue) { Array($0) }
        let count = values.count
        func intact(_ p: UnsafeMutablePointer<T>) -> Bool {
            UnsafeRawBufferPointer(start: p, count: bytes).elementsEqual(guardBytes)
        }
        blocks.append((UnsafeMutableRawPointer(start), {
            (0..<GuardedArena.lead).allSatisfy { intact(base + $0) }
                && (0..<GuardedArena.trail).allSatisfy { intact(start + count + $0) }
        }, { base.deallocate() }))
        return start
    }

    /// Floats with NaN guards.
    func floats(_ values: [Float]) -> UnsafeMutablePointer<Float> { place(values, guard: .nan) }
    /// Ints with guards that are no valid index.
    func ints(_ values: [Int]) -> UnsafeMutablePointer<Int> { place(values, guard: Int.min + 12_345) }
    /// Zeros with guards.
    func zeros(_ count: Int) -> UnsafeMutablePointer<Float> { floats(KernelCheck.zeros(count)) }

    /// Every guard still holds its original bytes.
    var guardsIntact: Bool { blocks.allSatisfy { $0.check() } }

    deinit { for block in blocks { block.free() } }
}

/// The first `count` values at `p`, as an array.
func values<T>(_ p: UnsafePointer<T>, _ count: Int) -> [T] { Array(UnsafeBufferPointer(start: p, count: count)) }
func values<T>(_ p: UnsafeMutablePointer<T>, _ count: Int) -> [T] { values(UnsafePointer(p), count) }

extension KernelCheck {
    /// The pointer kernels' sizes: the awkward ones, 0 (nothing to do) and a round one.
    static let pointerSizes = [0, 1, 7, 33, 127, 256]

    /// Same bits (NaN compares equal to NaN of the same pattern).
    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// (N, C) shapes for the row kernels: empty, single, awkward and round.
let rowShapes = [(0, 5), (1, 1), (7, 33), (33, 7), (3, 127), (2, 256), (1, 0)]

/// x laid out with rows `ld` apart, the gaps filled with NaN (a kernel that ignores the stride
/// reads them).
func padded(_ x: [Float], rows N: Int, cols C: Int, rowStride ld: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: N * ld)
    for n in 0..<N { for c in 0..<C { out[n * ld + c] = x[n * C + c] } }
    return out
}

/// The dense (N, C) block of a strided buffer.
func unpadded(_ x: [Float], rows N: Int, cols C: Int, rowStride ld: Int) -> [Float] {
    (0..<(N * C)).map { x[($0 / max(C, 1)) * ld + $0 % max(C, 1)] }
}

/// The padding columns of a strided (N, ld) buffer are all NaN (untouched).
func paddingUntouched(_ x: [Float], rows N: Int, cols C: Int, rowStride ld: Int) -> Bool {
    (0..<N).allSatisfy { n in (C..<ld).allSatisfy { x[n * ld + $0].isNaN } }
}
