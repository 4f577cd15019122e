// Mini-batches and train/validation splits (every training loop from week 2 on). Batches
// are lists of example indices; the caller gathers the rows it needs (LabeledImages.batch,
// gatherRows). Shuffling is seeded, so the same seed visits examples in the same order.
import SharedKernels
import SharedTools

/// One epoch of mini-batches over examples 0..<count: each index appears exactly once
/// (in a seeded random order when `shuffle`), cut into batches of `batchSize`. The last
/// batch is smaller when batchSize does not divide count, unless `dropLast` drops it.
///
///     for epoch in 1...epochs {
///         for indices in MiniBatches(count: n, batchSize: 64, shuffle: true, dropLast: false, rng: &rng) {
///             let (x, y) = train.batch(indices)   // x: (indices.count, features)
///             ...
///         }
///     }
///
/// The order is drawn when the value is created (that is when `rng` advances), so make a
/// new `MiniBatches` each epoch.
public struct MiniBatches: Sequence {
    /// The example order for this epoch: (count).
    public let order: [Int]
    public let batchSize: Int
    public let dropLast: Bool

    public init(count: Int, batchSize: Int, shuffle: Bool, dropLast: Bool, rng: inout SplitMix64) {
        precondition(count >= 0, "MiniBatches: negative count \(count)")
        precondition(batchSize >= 1, "MiniBatches: batchSize must be at least 1, got \(batchSize)")
        order = shuffle ? rng.permutation(count) : Array(0..<count)
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    /// How many batches this epoch yields.
    public var batchCount: Int {
        dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
    }

    public func makeIterator() -> Iterator { Iterator(batches: self) }

    public struct Iterator: IteratorProtocol {
        let batches: MiniBatches
        var start = 0

        public mutating func next() -> [Int]? {
            let end = Swift.min(start + batches.batchSize, batches.order.count)
            let isFull = end - start == batches.batchSize
            guard start < end, isFull || !batches.dropLast else { return nil }
            defer { start = end }
            return Array(batches.order[start..<end])
        }
    }
}

/// A seeded random split of example indices 0..<count: round(count·validationFraction)
/// indices go to `validation`, the rest to `train`; both lists come back sorted.
public func trainValidationSplit(count: Int, validationFraction: Double, rng: inout SplitMix64)
    -> (train: [Int], validation: [Int])
{
    precondition(validationFraction >= 0 && validationFraction <= 1,
                 "trainValidationSplit: validationFraction \(validationFraction) not in [0, 1]")
    let order = rng.permutation(count)
    let validationCount = Int((Double(count) * validationFraction).rounded())
    return (order[validationCount...].sorted(), order[..<validationCount].sorted())
}

/// Gathers rows of a (rows, width) matrix: out (indices.count, width), row r = data row indices[r].
/// The array form of the pointer `gatherRows` below, which does the copying.
public func gatherRows(_ data: [Float], rows indices: [Int], width: Int) -> [Float] {
    guard width > 0 else { return [] }
    var out = [Float](repeating: 0, count: indices.count * width)
    out.withUnsafeMutableBufferPointer { destination in
        data.withUnsafeBufferPointer { source in
            gatherRows(from: source.baseAddress!, sourceRows: data.count / width, width: width,
                       indices: indices[...], into: destination.baseAddress!)
        }
    }
    return out
}

/// The mini-batch gather every epoch loop does: destination row r (width floats) = row
/// indices[r] of source, a (sourceRows, width) matrix.
///   source: (sourceRows, width)   indices: (B), each in 0..<sourceRows   destination: (B, width)
/// An MNIST batch is 128 rows of 3 KB picked at random from 188 MB, so this copy waits on
/// memory, not on arithmetic (it was a tenth of a week 3 epoch on one core). Two things keep
/// more reads in flight:
/// - rows are copied four at a time, 16 floats of each in turn, so four rows' cache misses
///   overlap instead of one row's after another's (alone, 40% faster than row by row);
/// - a large gather is split by destination rows across threads (each row written once).
public func gatherRows(from source: UnsafePointer<Float>, sourceRows: Int, width: Int,
                       indices: ArraySlice<Int>, into destination: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let B = indices.count
    for index in indices {
        precondition(index >= 0 && index < sourceRows, "gatherRows: row \(index) outside 0..<\(sourceRows)")
    }
    let first = indices.startIndex
    func copy(_ rows: Range<Int>) {
        var row = rows.lowerBound
        while row + 4 <= rows.upperBound {
            let s0 = source + indices[first + row] * width, s1 = source + indices[first + row + 1] * width
            let s2 = source + indices[first + row + 2] * width, s3 = source + indices[first + row + 3] * width
            let d0 = destination + row * width, d1 = d0 + width, d2 = d1 + width, d3 = d2 + width
            var j = 0
            while j + 16 <= width {
                let v0 = UnsafeRawPointer(s0 + j).loadUnaligned(as: V.self)
                let v1 = UnsafeRawPointer(s1 + j).loadUnaligned(as: V.self)
                let v2 = UnsafeRawPointer(s2 + j).loadUnaligned(as: V.self)
                let v3 = UnsafeRawPointer(s3 + j).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(d0 + j).storeBytes(of: v0, as: V.self)
                UnsafeMutableRawPointer(d1 + j).storeBytes(of: v1, as: V.self)
                UnsafeMutableRawPointer(d2 + j).storeBytes(of: v2, as: V.self)
                UnsafeMutableRawPointer(d3 + j).storeBytes(of: v3, as: V.self)
                j += 16
            }
            while j < width { d0[j] = s0[j]; d1[j] = s1[j]; d2[j] = s2[j]; d3[j] = s3[j]; j += 1 }
            row += 4
        }
        while row < rows.upperBound {   // the last B % 4 rows, one by one
            (destination + row * width).update(from: source + indices[first + row] * width, count: width)
            row += 1
        }
    }
    // Below ~256 KB the second thread costs more than it saves.
    let chunks = B * width >= 65_536 ? min(Threads.count, B) : 1
    parallelFor(chunks) { chunk in copy((chunk * B / chunks)..<((chunk + 1) * B / chunks)) }
}
