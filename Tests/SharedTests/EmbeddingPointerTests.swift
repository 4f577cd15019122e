// Embedding gather and scatter-add: pointer forms against the array forms and index loops.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct EmbeddingPointerTests {
    @Test func embeddingPointerFormsMatchArrayFormsAndNaive() {
        var rng = SplitMix64(seed: 307)
        for N in KernelCheck.pointerSizes {
            let (V, C) = (11, N % 2 == 0 ? 16 : 7)
            let table = rng.gaussians(V * C), dOut = rng.gaussians(N * C), dTable0 = rng.gaussians(V * C)
            let ids = (0..<N).map { _ in Int(rng.next() % UInt64(V)) }   // repeats: scatter-add
            var out = KernelCheck.zeros(N * C), dTable = dTable0
            embeddingForward(&out, ids: ids, table: table, vocabulary: V, dimension: C)
            embeddingBackward(dTable: &dTable, dOut: dOut, ids: ids, vocabulary: V, dimension: C)
            let arena = GuardedArena()
            let po = arena.zeros(N * C), pids = arena.ints(ids), pt = arena.floats(table)
            let pdT = arena.floats(dTable0)
            embeddingForward(po, ids: pids, table: pt, tokens: N, vocabulary: V, dimension: C)
            embeddingBackward(dTable: pdT, dOut: arena.floats(dOut), ids: pids, tokens: N,
                              vocabulary: V, dimension: C)
            #expect(KernelCheck.sameBits(values(po, N * C), out), "N \(N)")
            #expect(KernelCheck.sameBits(values(pdT, V * C), dTable), "N \(N)")
            #expect(arena.guardsIntact, "N \(N)")
            // naive: the gather and the scatter-add as index loops
            var expectedTable = dTable0
            for n in 0..<N { for c in 0..<C { expectedTable[ids[n] * C + c] += dOut[n * C + c] } }
            #expect(out == (0..<(N * C)).map { table[ids[$0 / C] * C + $0 % C] })
            #expect(dTable == expectedTable, "N \(N)")
        }
    }
}
