// ReLU, tanh, sigmoid and dropout over pointer ranges: against the array forms (the same bits)
// and the definitions in Double, at sizes 0, 1, 7, 33, 127 and 256 (and one split across
// threads), on NaN-guarded buffers.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct ActivationPointerTests {
    /// One elementwise forward/backward pair run both ways: returns (array out, array dX,
    /// pointer out, pointer dX, guards intact). The backward takes x (`fromOutput` false) or out.
    func run(_ n: Int, x: [Float], dOut: [Float], dX0: [Float], fromOutput: Bool,
             forwardArray: (inout [Float], [Float]) -> Void,
             backwardArray: (inout [Float], [Float], [Float]) -> Void,
             forwardPointer: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void,
             backwardPointer: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void)
        -> (out: [Float], dX: [Float], pointerOut: [Float], pointerDX: [Float], guardsIntact: Bool) {
        var out = KernelCheck.zeros(n), dX = dX0
        forwardArray(&out, x)
        backwardArray(&dX, dOut, fromOutput ? out : x)
        let arena = GuardedArena()
        let px = arena.floats(x), po = arena.zeros(n), pdX = arena.floats(dX0)
        forwardPointer(po, px, n)
        backwardPointer(pdX, arena.floats(dOut), fromOutput ? UnsafePointer(po) : UnsafePointer(px), n)
        return (out, dX, values(po, n), values(pdX, n), arena.guardsIntact)
    }

    @Test func reluTanhSigmoidPointerFormsMatchArrayFormsAndDefinitions() {
        var rng = SplitMix64(seed: 601)
        for n in KernelCheck.pointerSizes + [100_003] {
            let x = KernelCheck.awayFromZero(n, rng: &rng).map { 3 * $0 }
            let dOut = rng.gaussians(n), dX0 = rng.gaussians(n)
            let relu = run(n, x: x, dOut: dOut, dX0: dX0, fromOutput: false,
                           forwardArray: { reluForward(&$0, $1) },
                           backwardArray: { reluBackward(dX: &$0, dOut: $1, x: $2) },
                           forwardPointer: { reluForward($0, $1, count: $2) },
                           backwardPointer: { reluBackward(dX: $0, dOut: $1, x: $2, count: $3) })
            let tanhResult = run(n, x: x, dOut: dOut, dX0: dX0, fromOutput: true,
                                 forwardArray: { tanhForward(&$0, $1) },
                                 backwardArray: { tanhBackward(dX: &$0, dOut: $1, out: $2) },
                                 forwardPointer: { tanhForward($0, $1, count: $2) },
                                 backwardPointer: { tanhBackward(dX: $0, dOut: $1, out: $2, count: $3) })
            let sigmoidResult = run(n, x: x, dOut: dOut, dX0: dX0, fromOutput: true,
                                    forwardArray: { sigmoidForward(&$0, $1) },
                                    backwardArray: { sigmoidBackward(dX: &$0, dOut: $1, out: $2) },
                                    forwardPointer: { sigmoidForward($0, $1, count: $2) },
                                    backwardPointer: { sigmoidBackward(dX: $0, dOut: $1, out: $2, count: $3) })
            for (name, r) in [("relu", relu), ("tanh", tanhResult), ("sigmoid", sigmoidResult)] {
                #expect(KernelCheck.sameBits(r.pointerOut, r.out) && KernelCheck.sameBits(r.pointerDX, r.dX), "\(name) n \(n)")
                #expect(r.guardsIntact, "\(name) n \(n)")
            }
            // the definitions, in Double (the derivative from the exact value, not the output)
            func expect(_ name: String, _ r: (out: [Float], dX: [Float], pointerOut: [Float], pointerDX: [Float], guardsIntact: Bool),
                        _ f: (Double) -> Double, _ derivative: (Double) -> Double, tolerance: Float) {
                let out = x.map { Float(f(Double($0))) }
                let dX = (0..<n).map { dX0[$0] + Float(Double(dOut[$0]) * derivative(Double(x[$0]))) }
                #expect(KernelCheck.maxDifference(r.out, out) <= tolerance, "\(name) n \(n)")
                #expect(KernelCheck.maxDifference(r.dX, dX) <= tolerance * 10, "\(name) n \(n)")
            }
            expect("relu", relu, { max(0, $0) }, { $0 > 0 ? 1 : 0 }, tolerance: 0)
            expect("tanh", tanhResult, { tanh($0) }, { 1 - tanh($0) * tanh($0) }, tolerance: 1e-6)
            expect("sigmoid", sigmoidResult, { 1 / (1 + exp(-$0)) },
                   { 1 / (1 + exp(-$0)) * (1 - 1 / (1 + exp(-$0))) }, tolerance: 1e-6)
        }
    }

    @Test func dropoutPointerFormsMatchArrayFormsAndMaskDefinition() {
        var rng = SplitMix64(seed: 602)
        for n in KernelCheck.pointerSizes {
            let x = rng.gaussians(n), dOut = rng.gaussians(n), dX0 = rng.gaussians(n)
            var arrayRNG = SplitMix64(seed: 77), pointerRNG = SplitMix64(seed: 77)
            var out = KernelCheck.zeros(n), mask = KernelCheck.zeros(n), dX = dX0
            dropoutForward(&out, mask: &mask, x, probability: 0.3, rng: &arrayRNG)
            dropoutBackward(dX: &dX, dOut: dOut, mask: mask)
            let arena = GuardedArena()
            let po = arena.zeros(n), pm = arena.zeros(n), pdX = arena.floats(dX0)
            dropoutForward(po, mask: pm, arena.floats(x), count: n, probability: 0.3, rng: &pointerRNG)
            dropoutBackward(dX: pdX, dOut: arena.floats(dOut), mask: pm, count: n)
            #expect(KernelCheck.sameBits(values(po, n), out) && KernelCheck.sameBits(values(pm, n), mask), "n \(n)")
            #expect(KernelCheck.sameBits(values(pdX, n), dX) && arena.guardsIntact, "n \(n)")
            #expect(arrayRNG.next() == pointerRNG.next())   // both drew n uniforms
            // definition: mask is 0 or 1/(1 − p), out = x ⊙ mask, dX += dOut ⊙ mask
            #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / (1 - Float(0.3)) })
            #expect(out == zip(x, mask).map { $0 * $1 })
            #expect(dX == (0..<n).map { dX0[$0] + dOut[$0] * mask[$0] })
        }
    }
}
