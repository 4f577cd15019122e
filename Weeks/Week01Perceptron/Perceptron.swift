// The perceptron (Rosenblatt, 1958): a linear classifier trained one mistake at a time.
// Week 1 only. Read this file first, then TwoLayerNet.swift, then Week01.swift.
// Reference: Novikoff's convergence theorem, e.g. https://www.cs.cornell.edu/courses/cs4780/2018fa/lectures/lecturenote03.html
import Shared

/// A point is classified by the sign of a weighted sum: class 1 when w·x + b > 0, else class 0.
/// The boundary w·x + b = 0 is a straight line in 2-D: that is all a perceptron can draw.
struct Perceptron {
    /// w: (D). Starts at zero: the rule needs no random initialisation.
    var weights: [Float]
    /// b: the offset of the line from the origin.
    var bias: Float = 0

    init(features D: Int) {
        weights = [Float](repeating: 0, count: D)
    }

    /// w·x + b for one point x: (D).
    func score(_ x: ArraySlice<Float>) -> Float {
        var sum = bias
        for (d, value) in x.enumerated() { sum += weights[d] * value }
        return sum
    }

    /// Class 0 or 1 for one point x: (D).
    func predict(_ x: ArraySlice<Float>) -> Int {
        score(x) > 0 ? 1 : 0
    }

    /// Fraction of points classified right.   points: (N, D) row-major   labels: (N) in {0, 1}.
    func accuracy(points: [Float], labels: [Int]) -> Double {
        let D = weights.count, N = labels.count
        var correct = 0
        for n in 0..<N where predict(points[n * D ..< (n + 1) * D]) == labels[n] { correct += 1 }
        return Double(correct) / Double(max(N, 1))
    }

    /// One pass over the data in the given order, applying the perceptron rule at every mistake:
    ///   t = +1 for class 1, −1 for class 0;   if t·(w·x + b) ≤ 0:   w += η·t·x,   b += η·t.
    /// (A point exactly on the line counts as a mistake, so training starts from w = 0.)
    /// Returns the number of mistakes, i.e. the number of updates made.
    /// points: (N, D)   labels: (N) in {0, 1}   order: a permutation of 0..<N.
    mutating func trainEpoch(points: [Float], labels: [Int], order: [Int], learningRate: Float) -> Int {
        let D = weights.count
        var mistakes = 0
        for n in order {
            let x = points[n * D ..< (n + 1) * D]
            let target: Float = labels[n] == 1 ? 1 : -1
            if target * score(x) <= 0 {
                for (d, value) in x.enumerated() { weights[d] += learningRate * target * value }
                bias += learningRate * target
                mistakes += 1
            }
        }
        return mistakes
    }

    /// The boundary w₀·x + w₁·y + b = 0 as a segment across [xMin, xMax] (2-D only), for plots.
    /// Returns nil while the weights are all zero (there is no line yet) or for a vertical line
    /// when w₁ ≈ 0, in which case the segment is drawn vertically at x = −b/w₀ over [yMin, yMax].
    func boundarySegment(xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) -> (x: [Double], y: [Double])? {
        precondition(weights.count == 2, "boundarySegment: only for 2-D perceptrons")
        let w0 = Double(weights[0]), w1 = Double(weights[1]), b = Double(bias)
        if abs(w1) > 1e-9 * max(abs(w0), 1e-30) {
            let xs = [xRange.lowerBound, xRange.upperBound]
            return (xs, xs.map { -(w0 * $0 + b) / w1 })
        }
        if abs(w0) > 0 {
            let x = -b / w0
            return ([x, x], [yRange.lowerBound, yRange.upperBound])
        }
        return nil
    }
}

/// What one perceptron training run did, epoch by epoch.
struct PerceptronRun {
    var perceptron: Perceptron
    /// Number of updates (mistakes) in each epoch: (epochs run).
    var mistakesPerEpoch: [Int]
    /// Training accuracy measured after each epoch: (epochs run).
    var accuracyPerEpoch: [Double]
    /// First epoch (1-based) with zero mistakes: the data is then separated. nil if never.
    var convergedEpoch: Int?
    /// The weights after the epoch with the best training accuracy (the first such epoch), and
    /// that accuracy: on XOR the last epoch is often worse than the best one.
    var bestPerceptron: Perceptron
    var bestAccuracy: Double
}

/// Runs the perceptron rule for up to `maxEpochs` passes, shuffling the order each epoch,
/// and stops after the first epoch without a mistake (nothing would change any more).
/// On linearly separable data this always happens (Novikoff: at most (R/γ)² updates, R the
/// largest ‖x‖ and γ the margin); on XOR it never does.
/// points: (N, D)   labels: (N) in {0, 1}.
func trainPerceptron(points: [Float], labels: [Int], features D: Int, maxEpochs: Int,
                     learningRate: Float, rng: inout SplitMix64) -> PerceptronRun {
    precondition(points.count == labels.count * D, "trainPerceptron: \(points.count) values for \(labels.count) points of \(D)")
    var perceptron = Perceptron(features: D)
    var run = PerceptronRun(perceptron: perceptron, mistakesPerEpoch: [], accuracyPerEpoch: [], convergedEpoch: nil,
                            bestPerceptron: perceptron, bestAccuracy: perceptron.accuracy(points: points, labels: labels))
    for epoch in 1...max(maxEpochs, 1) {
        let order = rng.permutation(labels.count)
        let mistakes = perceptron.trainEpoch(points: points, labels: labels, order: order, learningRate: learningRate)
        run.mistakesPerEpoch.append(mistakes)
        let accuracy = perceptron.accuracy(points: points, labels: labels)
        run.accuracyPerEpoch.append(accuracy)
        if accuracy > run.bestAccuracy { run.bestAccuracy = accuracy; run.bestPerceptron = perceptron }
        if mistakes == 0 {
            run.convergedEpoch = epoch
            break
        }
    }
    run.perceptron = perceptron
    return run
}
