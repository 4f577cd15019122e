// Small 2-D classification sets generated in code (weeks 1-3): blobs, moons, circles,
// spirals, XOR. Every generator is seeded, so the same seed gives the same points, and
// returns points (count, 2) as a flat [x0, y0, x1, y1, ...] with labels (count).
// References: scikit-learn's make_blobs / make_moons / make_circles; CS231n's spiral data.
import SharedKernels
import SharedTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ToyData {
    /// Gaussian blobs around `centers` centres spaced evenly on a circle of radius 2.
    /// Point i belongs to blob i % centers (balanced classes, interleaved).
    /// points: (count, 2), each centre + N(0, spread²) per coordinate.   labels: (count) in 0..<centers.
    public static func blobs(count: Int, centers: Int, spread: Float, rng: inout SplitMix64)
        -> (points: [Float], labels: [Int])
    {
        precondition(count >= 0 && centers >= 1, "blobs: need count >= 0 and at least one centre")
        var points = [Float](), labels = [Int]()
        points.reserveCapacity(2 * count)
        for i in 0..<count {
            let label = i % centers
            let angle = 2 * Float.pi * Float(label) / Float(centers)
            points.append(2 * cosine(angle) + spread * rng.normal())
            points.append(2 * sine(angle) + spread * rng.normal())
            labels.append(label)
        }
        return (points, labels)
    }

    /// Two interleaving half circles. The first count/2 points (label 0) lie on the upper
    /// unit half circle, the rest (label 1) on the lower one shifted to (1, 0.5), as in
    /// scikit-learn's make_moons; the angle is uniform, noise is N(0, noise²) per coordinate.
    /// points: (count, 2)   labels: (count) in {0, 1}.
    public static func moons(count: Int, noise: Float, rng: inout SplitMix64) -> (points: [Float], labels: [Int]) {
        precondition(count >= 0, "moons: negative count")
        var points = [Float](), labels = [Int]()
        points.reserveCapacity(2 * count)
        for i in 0..<count {
            let label = i < count / 2 ? 0 : 1
            let angle = Float.pi * rng.uniform()
            let x = label == 0 ? cosine(angle) : 1 - cosine(angle)
            let y = label == 0 ? sine(angle) : 0.5 - sine(angle)
            points.append(x + noise * rng.normal())
            points.append(y + noise * rng.normal())
            labels.append(label)
        }
        return (points, labels)
    }

    /// Two concentric circles: the first count/2 points (label 0) on the unit circle, the
    /// rest (label 1) on a circle of radius `factor` (< 1) inside it, plus N(0, noise²).
    /// points: (count, 2)   labels: (count) in {0, 1}.
    public static func circles(count: Int, noise: Float, factor: Float = 0.5, rng: inout SplitMix64)
        -> (points: [Float], labels: [Int])
    {
        precondition(count >= 0, "circles: negative count")
        var points = [Float](), labels = [Int]()
        points.reserveCapacity(2 * count)
        for i in 0..<count {
            let label = i < count / 2 ? 0 : 1
            let radius: Float = label == 0 ? 1 : factor
            let angle = 2 * Float.pi * rng.uniform()
            points.append(radius * cosine(angle) + noise * rng.normal())
            points.append(radius * sine(angle) + noise * rng.normal())
            labels.append(label)
        }
        return (points, labels)
    }

    /// CS231n's spirals: `classes` arms winding out from the origin. Within arm k, point j of n
    /// has radius r = j/(n-1) and angle 4k + 4r + N(0, noise²) (radians), at (r·sin, r·cos).
    /// Points are grouped by arm (the first n points are arm 0); count is split as evenly as
    /// possible. points: (count, 2) within the unit disc (plus noise)   labels: (count) in 0..<classes.
    public static func spirals(count: Int, classes: Int = 3, noise: Float = 0.2, rng: inout SplitMix64)
        -> (points: [Float], labels: [Int])
    {
        precondition(count >= 0 && classes >= 1, "spirals: need count >= 0 and at least one class")
        var points = [Float](), labels = [Int]()
        points.reserveCapacity(2 * count)
        for k in 0..<classes {
            let n = count / classes + (k < count % classes ? 1 : 0)
            for j in 0..<n {
                let radius = n > 1 ? Float(j) / Float(n - 1) : 0
                let angle = Float(4 * k) + 4 * radius + noise * rng.normal()
                points.append(radius * sine(angle))
                points.append(radius * cosine(angle))
                labels.append(k)
            }
        }
        return (points, labels)
    }

    /// The XOR truth table, the set no single perceptron can separate:
    /// (0,0) -> 0, (0,1) -> 1, (1,0) -> 1, (1,1) -> 0.   points: (4, 2)   labels: (4).
    public static func xor() -> (points: [Float], labels: [Int]) {
        ([0, 0, 0, 1, 1, 0, 1, 1], [0, 1, 1, 0])
    }

    /// A noisy XOR cloud: each point is one of the four corners of `xor()`, chosen uniformly,
    /// plus N(0, noise²) per coordinate, labelled by the corner's XOR.
    /// points: (count, 2)   labels: (count) in {0, 1}.
    public static func xorCloud(count: Int, noise: Float, rng: inout SplitMix64) -> (points: [Float], labels: [Int]) {
        precondition(count >= 0, "xorCloud: negative count")
        var points = [Float](), labels = [Int]()
        points.reserveCapacity(2 * count)
        for _ in 0..<count {
            let a = rng.int(below: 2), b = rng.int(below: 2)
            points.append(Float(a) + noise * rng.normal())
            points.append(Float(b) + noise * rng.normal())
            labels.append(a ^ b)
        }
        return (points, labels)
    }
}

// Float sin/cos from the C library (no Foundation needed).
@inline(__always) private func sine(_ x: Float) -> Float { sinf(x) }
@inline(__always) private func cosine(_ x: Float) -> Float { cosf(x) }
