// Logistic regression (two classes) and softmax regression (many classes): linear models
// that output probabilities, trained with cross-entropy. Week 2; read after LinearRegression.swift.
// Softmax regression on the digits is the linear baseline the MLP of week 3 must beat.
// Reference: CS229 notes 1, https://cs229.stanford.edu/main_notes.pdf (sections 2 and 2.3 / 9.3).
import Shared

/// p = σ(z),  z = x·w + b:  the probability that a point is class 1. Fitted by minimising the
/// mean binary cross-entropy
///   L = (1/N) Σ_n −[y_n·log p_n + (1 − y_n)·log(1 − p_n)],   y_n ∈ {0, 1}.
///
/// The gradient, by hand. With σ'(z) = σ(z)(1 − σ(z)) = p(1 − p):
///   ∂L/∂p_n = (1/N)·(−y_n/p_n + (1 − y_n)/(1 − p_n)) = (1/N)·(p_n − y_n) / (p_n(1 − p_n))
///   ∂L/∂z_n = ∂L/∂p_n · p_n(1 − p_n) = (p_n − y_n) / N          (the p(1 − p) cancels!)
/// then, as for linear regression, z is linear in w and b:
///   dW = xᵀ·dZ   (D),      dB = Σ_n dZ_n   (1)
/// The cancellation is why we never compute σ and log separately: the fused kernel
/// `binaryCrossEntropyWithLogitsForward` takes z and stays finite even for |z| = 100.
struct LogisticRegression {
    let features: Int
    /// w: (D, 1), i.e. (D).
    var weight: [Float]
    /// b: (1).
    var bias: [Float]

    /// All zeros: p = 0.5 for every point, loss ln 2 ≈ 0.693. The loss is convex in (w, b).
    init(features D: Int) {
        features = D
        weight = [Float](repeating: 0, count: D)
        bias = [0]
    }

    /// z = x·w + b.   x: (N, D)  →  logits z: (N).
    func logits(_ x: [Float], rows N: Int) -> [Float] {
        var z = [Float](repeating: 0, count: N)
        linearForward(&z, x, weight: weight, bias: bias, rows: N, inFeatures: features, outFeatures: 1)
        return z
    }

    /// Mean binary cross-entropy of x: (N, D) against labels y: (N) (0 or 1, as Float), and its
    /// gradient (derived above).
    func lossAndGradients(_ x: [Float], labels y: [Float], rows N: Int) -> ModelGradients {
        let z = logits(x, rows: N)
        let loss = binaryCrossEntropyWithLogitsForward(z, y)
        var dZ = [Float](repeating: 0, count: N)           // (σ(z) − y)/N
        binaryCrossEntropyWithLogitsBackward(dLogits: &dZ, logits: z, targets: y)
        var g = ModelGradients(loss: loss, dWeight: [Float](repeating: 0, count: features), dBias: [0])
        var dX = [Float](repeating: 0, count: N * features)
        linearBackward(dX: &dX, dWeight: &g.dWeight, dBias: &g.dBias, dOut: dZ, x: x, weight: weight,
                       rows: N, inFeatures: features, outFeatures: 1)
        return g
    }

    func loss(_ x: [Float], labels y: [Float], rows N: Int) -> Double {
        binaryCrossEntropyWithLogitsForward(logits(x, rows: N), y)
    }

    /// Class 1 where p > 0.5, i.e. z > 0.   x: (N, D)  →  (N).
    func predict(_ x: [Float], rows N: Int) -> [Int] {
        logits(x, rows: N).map { $0 > 0 ? 1 : 0 }
    }
}

/// P = softmax(Z),  Z = x·W + b:  a probability for each of C classes. Fitted by minimising the
/// mean cross-entropy  L = (1/N) Σ_n −log P[n, y_n].
///
/// The gradient, by hand, for one row z (drop n). −log P_y = −z_y + log Σ_k e^{z_k}, so
///   ∂/∂z_j = −[j = y] + e^{z_j} / Σ_k e^{z_k} = P_j − onehot(y)_j
/// and with the mean over N rows:  dZ = (P − Y) / N   (N, C), Y the one-hot labels.
/// Z is linear in W and b:  dW = xᵀ·dZ  (D, C),   dB = Σ_n dZ[n, :]  (C).
/// With C = 2 this is logistic regression again (with one redundant set of weights).
struct SoftmaxRegression {
    let features: Int, classes: Int
    /// W: (D, C).
    var weight: [Float]
    /// b: (C).
    var bias: [Float]

    /// All zeros: every class gets probability 1/C, loss ln C (ln 10 ≈ 2.303 for digits).
    init(features D: Int, classes C: Int) {
        features = D
        classes = C
        weight = [Float](repeating: 0, count: D * C)
        bias = [Float](repeating: 0, count: C)
    }

    /// Z = x·W + b.   x: (N, D)  →  logits Z: (N, C).
    func logits(_ x: [Float], rows N: Int) -> [Float] {
        var z = [Float](repeating: 0, count: N * classes)
        linearForward(&z, x, weight: weight, bias: bias, rows: N, inFeatures: features, outFeatures: classes)
        return z
    }

    /// Mean cross-entropy of x: (N, D) against class indices y: (N), and its gradient (above).
    func lossAndGradients(_ x: [Float], labels y: [Int], rows N: Int) -> ModelGradients {
        let z = logits(x, rows: N)
        var probs = [Float](repeating: 0, count: N * classes)
        let loss = softmaxCrossEntropyForward(probs: &probs, logits: z, targets: y, rows: N, classes: classes)
        var dZ = [Float](repeating: 0, count: N * classes)  // (P − Y)/N
        softmaxCrossEntropyBackward(dLogits: &dZ, probs: probs, targets: y, rows: N, classes: classes)
        var g = ModelGradients(loss: loss, dWeight: [Float](repeating: 0, count: features * classes),
                               dBias: [Float](repeating: 0, count: classes))
        var dX = [Float](repeating: 0, count: N * features)
        linearBackward(dX: &dX, dWeight: &g.dWeight, dBias: &g.dBias, dOut: dZ, x: x, weight: weight,
                       rows: N, inFeatures: features, outFeatures: classes)
        return g
    }

    func loss(_ x: [Float], labels y: [Int], rows N: Int) -> Double {
        var probs = [Float](repeating: 0, count: N * classes)
        return softmaxCrossEntropyForward(probs: &probs, logits: logits(x, rows: N), targets: y,
                                          rows: N, classes: classes)
    }

    /// The most probable class (the largest logit) of each row.   x: (N, D)  →  (N).
    func predict(_ x: [Float], rows N: Int) -> [Int] {
        let z = logits(x, rows: N), C = classes
        return (0..<N).map { n in
            var best = 0
            for c in 1..<C where z[n * C + c] > z[n * C + best] { best = c }
            return best
        }
    }
}

/// Fraction of predictions equal to the labels.
func accuracy(_ predictions: [Int], _ labels: [Int]) -> Double {
    var correct = 0
    for i in 0..<labels.count where predictions[i] == labels[i] { correct += 1 }
    return Double(correct) / Double(max(labels.count, 1))
}
