// Embedding lookup: each token id picks one row of a learned table (weeks 5-10: characters and
// positions become vectors). Backward scatters the gradient back into the rows that were used.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// out[n, :] = table[ids[n], :]  (a gather).
///   ids: (N), each in 0..<V   table: (V, C)   out: (N, C), overwritten.
/// An id outside the vocabulary stops with a message naming it and its position.
public func embeddingForward(_ out: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int>,
                             table: UnsafePointer<Float>, tokens N: Int,
                             vocabulary V: Int, dimension C: Int) {
    precondition(N >= 0 && V >= 0 && C >= 0, "embeddingForward: negative shape \(N), \(V), \(C)")
    for n in 0..<N {
        let id = ids[n]
        precondition(id >= 0 && id < V, "embeddingForward: id \(id) at position \(n) is outside the vocabulary 0..<\(V)")
        (out + n * C).update(from: table + id * C, count: C)
    }
}

/// Array form of `embeddingForward`: N = ids.count.
public func embeddingForward(_ out: inout [Float], ids: [Int], table: [Float],
                             vocabulary V: Int, dimension C: Int) {
    let N = ids.count
    requireCount(out, N * C, "embeddingForward: out")
    requireCount(table, V * C, "embeddingForward: table")
    embeddingForward(&out, ids: ids, table: table, tokens: N, vocabulary: V, dimension: C)
}

/// Backward of `embeddingForward`. Adds into dTable (a scatter-add).
/// forward: out[n, :] = table[ids[n], :], so each row of dOut flows to the row it was read
/// from; an id used twice collects both gradients:
///   dTable[ids[n], :] += dOut[n, :]
///   dTable: (V, C)   dOut: (N, C)   ids: (N)
/// One thread, positions in order: two positions with the same id add into the same row, so
/// splitting them across threads would make the sum's order (and its rounding) vary.
public func embeddingBackward(dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                              ids: UnsafePointer<Int>, tokens N: Int,
                              vocabulary V: Int, dimension C: Int) {
    precondition(N >= 0 && V >= 0 && C >= 0, "embeddingBackward: negative shape \(N), \(V), \(C)")
    for n in 0..<N {
        let id = ids[n]
        precondition(id >= 0 && id < V, "embeddingBackward: id \(id) at position \(n) is outside the vocabulary 0..<\(V)")
        let row = dTable + id * C, g = dOut + n * C
        for c in 0..<C { row[c] += g[c] }
    }
}

/// Array form of `embeddingBackward`: N = ids.count.
public func embeddingBackward(dTable: inout [Float], dOut: [Float], ids: [Int],
                              vocabulary V: Int, dimension C: Int) {
    let N = ids.count
    requireCount(dTable, V * C, "embeddingBackward: dTable")
    requireCount(dOut, N * C, "embeddingBackward: dOut")
    embeddingBackward(dTable: &dTable, dOut: dOut, ids: ids, tokens: N, vocabulary: V, dimension: C)
}

/// The sinusoidal position table of "Attention is all you need" (section 3.5):
///   table[t, 2i] = sin(t / 10000^(2i/C)),  table[t, 2i + 1] = cos(t / 10000^(2i/C)).
///   table: (T, C), written. A fixed function of position: nothing to learn. Each pair of
/// columns is a clock of its own frequency, so a shift by k positions is a rotation of each pair.
public func sinusoidalPositions(_ table: UnsafeMutablePointer<Float>, length T: Int, width C: Int) {
    for t in 0..<T {
        for c in 0..<C {
            let frequency = pow(10_000.0, -Double(c - c % 2) / Double(C))
            let angle = Double(t) * frequency
            table[t * C + c] = Float(c % 2 == 0 ? sin(angle) : cos(angle))
        }
    }
}

/// Array form of `sinusoidalPositions`: the (T, C) table.
public func sinusoidalPositions(length T: Int, width C: Int) -> [Float] {
    var table = [Float](repeating: 0, count: T * C)
    sinusoidalPositions(&table, length: T, width: C)
    return table
}
