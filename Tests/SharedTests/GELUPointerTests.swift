// GELU's pointer entry points against the array forms (the same bits) and the naive
// reference, on NaN-guarded buffers, including one large enough to be split across threads.
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

@Suite struct GELUPointerTests {
    @Test func geluPointerFormsMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 303)
        for n in KernelCheck.pointerSizes + [100_003] {    // the large one is split across threads
            let x = rng.gaussians(n, std: 3), dOut = rng.gaussians(n), dX0 = rng.gaussians(n)
            var out = KernelCheck.zeros(n), dX = dX0
            geluForward(&out, x)
            geluBackward(dX: &dX, dOut: dOut, x: x)
            let arena = GuardedArena()
            let px = arena.floats(x), po = arena.zeros(n), pdX = arena.floats(dX0)
            geluForward(po, px, count: n)
            geluBackward(dX: pdX, dOut: arena.floats(dOut), x: px, count: n)
            #expect(KernelCheck.sameBits(values(po, n), out), "n \(n)")
            #expect(KernelCheck.sameBits(values(pdX, n), dX), "n \(n)")
            #expect(arena.guardsIntact, "n \(n)")
            // naive: the tanh formula, and its derivative in Double
            var expected = KernelCheck.zeros(n)
            geluForwardNaive(&expected, x)
            #expect(KernelCheck.maxDifference(out, expected) < 1e-5, "n \(n)")
            let expectedDX = (0..<n).map { i -> Float in
                let x = Double(x[i]), k = Double(geluScale), c = Double(geluCubic)
                let t = tanh(k * (x + c * x * x * x))
                let derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x)
                return dX0[i] + Float(Double(dOut[i]) * derivative)
            }
            #expect(KernelCheck.maxDifference(dX, expectedDX) < 1e-5, "n \(n)")
        }
    }

    @Test func geluInPlaceGivesTheSameBits() {
        var rng = SplitMix64(seed: 304)
        let x = rng.gaussians(77)
        var out = KernelCheck.zeros(77), inPlace = x
        geluForward(&out, x)
        inPlace.withUnsafeMutableBufferPointer { geluForward($0.baseAddress!, $0.baseAddress!, count: 77) }
        #expect(KernelCheck.sameBits(inPlace, out))
    }
}
