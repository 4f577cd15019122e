// Gradient checking: compare a hand-written backward pass with centered finite differences.
// Every backward in the workbook is tested this way (CS231n's eval_numerical_gradient_array,
// llm.c's "fake loss"). Used by SharedTests and every week's tests and programs.
import SharedKernels

/// The scalar we differentiate: L = Σ out ⊙ dOut, summed in Double.
/// For a seeded random `dOut`, ∂L/∂out = dOut, so the gradient of L with respect to any input
/// is exactly what a backward pass returns when it is fed `dOut`.
public func projected(_ out: [Float], onto dOut: [Float]) -> Double {
    precondition(out.count == dOut.count, "projected: out has \(out.count) values, dOut \(dOut.count)")
    var sum = 0.0
    for i in 0..<out.count { sum += Double(out[i]) * Double(dOut[i]) }
    return sum
}

/// Centered finite differences of a scalar function of `x`:
///   ∂f/∂x[i] ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h.
/// `indices` limits the check to some entries (the others are returned as 0); by default all
/// entries are checked. The function sees `x` with one entry perturbed; `x` is restored after.
public func numericGradient(of f: ([Float]) -> Double, at x: [Float], step h: Float = 1e-3,
                            indices: [Int]? = nil) -> [Float] {
    var x = x
    var gradient = [Float](repeating: 0, count: x.count)
    for i in indices ?? Array(0..<x.count) {
        let original = x[i]
        x[i] = original + h
        let plus = f(x)
        x[i] = original - h
        let minus = f(x)
        x[i] = original
        // Divide by the step actually taken (x ± h is rounded in Float32).
        let actualStep = Double(original + h) - Double(original - h)
        gradient[i] = Float((plus - minus) / actualStep)
    }
    return gradient
}

/// Finite differences with respect to a buffer that lives inside a model (a weight or bias):
/// `value` is read and written through `get`/`set`, and `loss` re-runs the forward pass.
/// This checks the real code path: the model itself is perturbed, not a copy of the math.
public func numericGradient(count: Int, get: (Int) -> Float, set: (Int, Float) -> Void,
                            loss: () -> Double, step h: Float = 1e-3,
                            indices: [Int]? = nil) -> [Float] {
    var gradient = [Float](repeating: 0, count: count)
    for i in indices ?? Array(0..<count) {
        let original = get(i)
        set(i, original + h)
        let plus = loss()
        set(i, original - h)
        let minus = loss()
        set(i, original)
        let actualStep = Double(original + h) - Double(original - h)
        gradient[i] = Float((plus - minus) / actualStep)
    }
    return gradient
}

/// ‖a − n‖ / (‖a‖ + ‖n‖): 0 when they agree, 1 when they point in unrelated directions.
/// Passes below 1e-3 in Float32 (correct kernels measure 1e-5 to 1e-4; typical bugs 0.3 to 0.9).
/// Both zero counts as agreement (0).
public func normRelativeError(_ analytic: [Float], _ numeric: [Float]) -> Double {
    precondition(analytic.count == numeric.count,
                 "normRelativeError: \(analytic.count) vs \(numeric.count) values")
    var diff = 0.0, normA = 0.0, normN = 0.0
    for i in 0..<analytic.count {
        let a = Double(analytic[i]), n = Double(numeric[i])
        diff += (a - n) * (a - n)
        normA += a * a
        normN += n * n
    }
    let denominator = normA.squareRoot() + normN.squareRoot()
    return denominator == 0 ? 0 : diff.squareRoot() / denominator
}

/// The result of comparing one gradient: the error, whether it passes, and a report that puts
/// the worst entries side by side (llm.c's check_tensor) for when it does not.
public struct GradientCheckResult: CustomStringConvertible {
    public let name: String
    public let error: Double
    public let tolerance: Double
    public let worst: [(index: Int, analytic: Float, numeric: Float)]
    public var passed: Bool { error < tolerance && error.isFinite }

    public var description: String {
        let verdict = passed ? "ok" : "FAILED"
        var text = "\(name): relative error \(formatScientific(error)) (tolerance \(formatScientific(tolerance))) \(verdict)"
        if !passed {
            for entry in worst {
                text += "\n    [\(entry.index)] analytic \(entry.analytic)   numeric \(entry.numeric)"
            }
        }
        return text
    }
}

/// Compare analytic and numeric gradients named `name`. Only the entries in `indices` (all by
/// default) take part, so sampled checks are not diluted by unchecked zeros.
public func checkGradient(_ name: String, analytic: [Float], numeric: [Float],
                          indices: [Int]? = nil, tolerance: Double = 1e-3) -> GradientCheckResult {
    let chosen = indices ?? Array(0..<analytic.count)
    let a = chosen.map { analytic[$0] }, n = chosen.map { numeric[$0] }
    let error = normRelativeError(a, n)
    let worst = chosen.sorted { abs(analytic[$0] - numeric[$0]) > abs(analytic[$1] - numeric[$1]) }
        .prefix(5).map { (index: $0, analytic: analytic[$0], numeric: numeric[$0]) }
    return GradientCheckResult(name: name, error: error, tolerance: tolerance, worst: Array(worst))
}

/// `count` distinct indices in 0..<size, sorted; all of them when size <= count. Used to check
/// 30 sampled entries of a large tensor.
public func sampledIndices(_ count: Int, of size: Int, rng: inout SplitMix64) -> [Int] {
    if size <= count { return Array(0..<size) }
    var order = rng.permutation(size)
    order.removeLast(size - count)
    return order.sorted()
}

/// 1.23e-05 style formatting without Foundation.
public func formatScientific(_ x: Double, digits: Int = 2) -> String {
    if x == 0 { return "0" }
    if !x.isFinite { return "\(x)" }
    var exponent = 0
    var mantissa = abs(x)
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    var rounded = (mantissa * scale).rounded() / scale
    if rounded >= 10 { rounded /= 10; exponent += 1 }
    let sign = x < 0 ? "-" : ""
    let e = exponent < 0 ? "-" : "+"
    let ex = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
    return "\(sign)\(rounded)e\(e)\(ex)"
}
