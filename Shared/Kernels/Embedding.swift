// Embedding lookup: each token id picks one row of a learned table (weeks 5-10: characters and
// positions become vectors). Backward scatters the gradient back into the rows that were used.
// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html

/// out[n, :] = table[ids[n], :]  (a gather).
///   ids: (N), each in 0..<V   table: (V, C)   out: (N, C), overwritten.
public func embeddingForward(_ out: inout [Float], ids: [Int], table: [Float],
                             vocabulary V: Int, dimension C: Int) {
    let N = ids.count
    requireCount(out, N * C, "embeddingForward: out")
    requireCount(table, V * C, "embeddingForward: table")
    out.withUnsafeMutableBufferPointer { ob in
        table.withUnsafeBufferPointer { tb in
            for n in 0..<N {
                let id = ids[n]
                precondition(id >= 0 && id < V, "embeddingForward: id \(id) at position \(n) is outside the vocabulary 0..<\(V)")
                (ob.baseAddress! + n * C).update(from: tb.baseAddress! + id * C, count: C)
            }
        }
    }
}

/// Backward of `embeddingForward`. Adds into dTable (a scatter-add).
/// forward: out[n, :] = table[ids[n], :], so each row of dOut flows to the row it was read
/// from; an id used twice collects both gradients:
///   dTable[ids[n], :] += dOut[n, :]
///   dTable: (V, C)   dOut: (N, C)   ids: (N)
public func embeddingBackward(dTable: inout [Float], dOut: [Float], ids: [Int],
                              vocabulary V: Int, dimension C: Int) {
    let N = ids.count
    requireCount(dTable, V * C, "embeddingBackward: dTable")
    requireCount(dOut, N * C, "embeddingBackward: dOut")
    dTable.withUnsafeMutableBufferPointer { db in
        dOut.withUnsafeBufferPointer { gb in
            for n in 0..<N {
                let id = ids[n]
                precondition(id >= 0 && id < V, "embeddingBackward: id \(id) at position \(n) is outside the vocabulary 0..<\(V)")
                let row = db.baseAddress! + id * C, g = gb.baseAddress! + n * C
                for c in 0..<C { row[c] += g[c] }
            }
        }
    }
}
