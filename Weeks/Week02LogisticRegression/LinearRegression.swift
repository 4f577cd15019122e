// Linear regression: the first model we fit by gradient descent, with its gradient derived by
// hand, and checked against the exact answer from the normal equations. Week 2; read first.
// Reference: CS229 notes 1, https://cs229.stanford.edu/main_notes.pdf (sections 1.1 to 1.2).
import Shared

/// The loss of a batch and the gradient of that loss with respect to each parameter buffer
/// (same shapes as the parameters). Shared by the three models of this week.
struct ModelGradients {
    var loss: Double
    var dWeight: [Float]
    var dBias: [Float]
}

/// ŷ = x·w + b, fitted by minimising the mean squared error
///   L(w, b) = (1/N) Σ_n (ŷ_n − y_n)².
///
/// The gradient, by hand. Write the residual r_n = ŷ_n − y_n = Σ_d x[n, d]·w[d] + b − y_n.
///   ∂L/∂r_n   = 2·r_n / N                                 (derivative of r², times the 1/N)
///   ∂r_n/∂w[d] = x[n, d],   ∂r_n/∂b = 1                   (r is linear in w and b)
/// and the chain rule sums over the N examples:
///   ∂L/∂w[d] = (2/N) Σ_n r_n·x[n, d]      i.e.  dW = (2/N)·xᵀ·r   (D)
///   ∂L/∂b    = (2/N) Σ_n r_n                              (1)
/// In code: dŶ = 2r/N is the gradient at the model's output, and `linearBackward` turns it
/// into dW = xᵀ·dŶ and dB = Σ_n dŶ_n: the same pattern every layer of every later week uses.
///
/// Setting that gradient to zero gives the normal equations [x 1]ᵀ[x 1]·[w; b] = [x 1]ᵀ·y,
/// which `normalEquationSolution` solves directly. Gradient descent must land on the same point.
struct LinearRegression {
    let features: Int
    /// w: (D, 1), i.e. (D).
    var weight: [Float]
    /// b: (1).
    var bias: [Float]

    /// All-zero weights: the loss is convex, so any start reaches the same minimum.
    init(features D: Int) {
        features = D
        weight = [Float](repeating: 0, count: D)
        bias = [0]
    }

    /// ŷ = x·w + b.   x: (N, D)  →  ŷ: (N).
    func predict(_ x: [Float], rows N: Int) -> [Float] {
        var yHat = [Float](repeating: 0, count: N)
        linearForward(&yHat, x, weight: weight, bias: bias, rows: N, inFeatures: features, outFeatures: 1)
        return yHat
    }

    /// The mean squared error of x: (N, D) against targets y: (N), and its gradient (above).
    func lossAndGradients(_ x: [Float], targets y: [Float], rows N: Int) -> ModelGradients {
        let yHat = predict(x, rows: N)
        // L = (1/N) Σ (ŷ − y)²  and  dŶ = 2(ŷ − y)/N  (Shared/Kernels/MSE.swift)
        let loss = mseForward(yHat, y)
        var dYHat = [Float](repeating: 0, count: N)        // ∂L/∂ŷ: (N)
        mseBackward(dPrediction: &dYHat, prediction: yHat, target: y)
        var g = ModelGradients(loss: loss, dWeight: [Float](repeating: 0, count: features),
                               dBias: [0])
        var dX = [Float](repeating: 0, count: N * features)   // not needed here, but the kernel fills it
        linearBackward(dX: &dX, dWeight: &g.dWeight, dBias: &g.dBias, dOut: dYHat, x: x, weight: weight,
                       rows: N, inFeatures: features, outFeatures: 1)
        return g
    }

    /// The loss alone (Double sum), for curves and gradient checks.
    func loss(_ x: [Float], targets y: [Float], rows N: Int) -> Double {
        mseForward(predict(x, rows: N), y)
    }
}

/// The exact least-squares solution: solve [x 1]ᵀ[x 1]·θ = [x 1]ᵀ·y for θ = [w; b], in Double,
/// by Gaussian elimination with partial pivoting on the (D+1)×(D+1) system.
/// x: (N, D)   y: (N)   →   weight (D), bias. Throws when the columns of x are dependent.
func normalEquationSolution(_ x: [Float], targets y: [Float], rows N: Int, features D: Int) throws
    -> (weight: [Double], bias: Double) {
    let P = D + 1                                          // the column of ones is feature D
    func feature(_ n: Int, _ d: Int) -> Double { d == D ? 1 : Double(x[n * D + d]) }
    // A = [x 1]ᵀ[x 1]: (P, P),   rhs = [x 1]ᵀ·y: (P)
    var A = [Double](repeating: 0, count: P * P), rhs = [Double](repeating: 0, count: P)
    for n in 0..<N {
        for i in 0..<P {
            rhs[i] += feature(n, i) * Double(y[n])
            for j in 0..<P { A[i * P + j] += feature(n, i) * feature(n, j) }
        }
    }
    // Forward elimination: for each column take the row with the largest pivot (stability).
    for col in 0..<P {
        var pivot = col
        for row in col..<P where abs(A[row * P + col]) > abs(A[pivot * P + col]) { pivot = row }
        guard abs(A[pivot * P + col]) > 1e-12 * Double(N) else {
            throw WorkbookError("normal equations are singular: feature \(col) depends on the others")
        }
        if pivot != col {
            for j in 0..<P { A.swapAt(col * P + j, pivot * P + j) }
            rhs.swapAt(col, pivot)
        }
        for row in (col + 1)..<P {
            let factor = A[row * P + col] / A[col * P + col]
            for j in col..<P { A[row * P + j] -= factor * A[col * P + j] }
            rhs[row] -= factor * rhs[col]
        }
    }
    // Back substitution.
    var theta = [Double](repeating: 0, count: P)
    for row in stride(from: P - 1, through: 0, by: -1) {
        var sum = rhs[row]
        for j in (row + 1)..<P { sum -= A[row * P + j] * theta[j] }
        theta[row] = sum / A[row * P + row]
    }
    return (Array(theta[0..<D]), theta[D])
}

/// A synthetic regression problem with a known answer: x ~ N(0, 1) of shape (N, D),
/// y = x·w* + b* + noise·N(0, 1), where w* ~ N(0, 1) and b* = 0.5.
func makeRegressionData(rows N: Int, features D: Int, noise: Float, rng: inout SplitMix64)
    -> (x: [Float], y: [Float], trueWeight: [Float], trueBias: Float) {
    let trueWeight = rng.gaussians(D), trueBias: Float = 0.5
    let x = rng.gaussians(N * D)
    var y = [Float](repeating: 0, count: N)
    for n in 0..<N {
        var sum = trueBias
        for d in 0..<D { sum += x[n * D + d] * trueWeight[d] }
        y[n] = sum + noise * rng.normal()
    }
    return (x, y, trueWeight, trueBias)
}
