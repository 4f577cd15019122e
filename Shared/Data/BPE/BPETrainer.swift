// Training byte-level BPE (Sennrich et al. 2016, "Neural Machine Translation of Rare Words
// with Subword Units"; GPT-2's byte-level variant): start from the 256 byte tokens, and
// repeatedly merge the most frequent adjacent pair into a new token.
//
// Read BPETrainerNaive.swift first: minbpe's algorithm, which recounts every pair of every
// chunk after each merge. This file learns the same merges, ties included (see `PairKey`), by
// doing less work per merge:
//   1. count each distinct chunk once, with how often it occurs ("the" 5,000 times = one entry);
//   2. count pairs once, then after each merge update only the pairs next to the merged ones,
//      in only the chunks that contain the merged pair (an index pair -> chunks);
//   3. keep the pairs in a priority queue, so the next merge is the top, not a scan of all pairs.
import SharedKernels
import SharedTools

/// One merge learned by training: `left` and `right` become token `id` (= 256 + its rank).
public struct Merge: Equatable, Sendable {
    public let left: Int
    public let right: Int
    public let id: Int
    /// How often the pair occurred when it was merged (in the whole, partly merged text).
    /// Overlapping occurrences all count ("aaa" holds (a, a) twice), so for a pair of one token
    /// with itself this is more than the replacements the merge made.
    public let count: Int
}

/// What a training run produced: the merges in order, and the text's length in tokens
/// after each of them (for the chart of bytes per token against vocabulary size).
public struct BPETrainingResult {
    public let merges: [Merge]
    /// The training text in UTF-8 bytes.
    public let byteCount: Int
    /// Tokens in the training text before any merge (= byteCount) and after each merge.
    public let tokenCounts: [Int]
    /// Distinct chunks after pre-tokenization, and all chunks.
    public let uniqueChunks: Int
    public let chunks: Int
}

/// The tie-break rule of minbpe: among equally frequent pairs, the one whose first occurrence
/// comes first in the (partly merged) text. Chunks are numbered in order of their first
/// appearance in the text, so "first in the text" = the smallest (chunk number, byte offset in
/// that chunk) over all chunks containing the pair: the first occurrence of the earliest
/// such chunk. Both fit one UInt64, chunk << 32 | offset. Byte offsets, unlike token indices,
/// do not move when a merge shortens the chunk.
typealias PairKey = UInt64

/// Trains on `text` until the vocabulary has `vocabularySize` tokens (256 bytes + merges), or
/// until no pair is left (every chunk one token): then fewer merges come back.
/// progress: called after every merge with (merges done, tokens left in the text).
public func trainBPE(text: String, vocabularySize: Int, pattern: SplitPattern,
                     progress: ((Int, Int) -> Void)? = nil) throws -> BPETrainingResult {
    try checkTrainingInput(text: text, vocabularySize: vocabularySize)
    var trainer = BPETrainer(text: text, pattern: pattern)
    return trainer.train(merges: vocabularySize - 256, progress: progress)
}

/// The errors both trainers throw before they start.
func checkTrainingInput(text: String, vocabularySize: Int) throws {
    guard vocabularySize >= 256 else {
        throw WorkbookError("vocabulary size \(vocabularySize) is below 256: byte-level BPE starts "
                            + "with the 256 byte tokens, so ask for at least 256")
    }
    guard !text.isEmpty else { throw WorkbookError("the training text is empty: nothing to learn merges from") }
}

/// The state of a training run. Chunks live in one flat token array; pairs in parallel arrays
/// indexed by a pair number that `pairIndex` hands out.
struct BPETrainer {
    // Distinct chunks, numbered in order of first appearance.
    var tokens: [Int32] = []            // every chunk's tokens, chunk c at chunkStart[c]...
    var chunkStart: [Int] = []
    var chunkLength: [Int32] = []       // shrinks as merges apply
    var chunkFrequency: [Int] = []      // occurrences in the text
    var chunkVisit: [Int32] = []        // the last merge that visited the chunk (dedup)
    let byteCount: Int
    let totalChunks: Int
    /// Byte length of every token id (to turn token positions into byte offsets).
    var tokenLength: [Int32] = (0..<256).map { _ in 1 }

    // Pairs. count and key are what the queue orders by (see `PairKey`); `keyIsLowerBound`
    // marks a key whose occurrence was merged away: the true key is then larger, and is
    // found again (by `exactKey`) only if the pair reaches the top of the queue.
    var pairIndex = PairTable(capacity: 1 << 14)
    var pairLeft: [Int32] = [], pairRight: [Int32] = []
    var pairCount: [Int] = []
    var pairKey: [PairKey] = []
    var keyIsLowerBound: [Bool] = []
    /// Chunks that contain (or once contained) the pair; may hold stale entries and repeats.
    var pairChunks: [[Int32]] = []
    var pairLastChunk: [Int32] = []     // the last chunk appended to pairChunks (dedup)
    var pairTouched: [Int32] = []       // the last merge that changed the pair
    var touched: [Int32] = []
    var queue = BinaryHeap<QueuedPair>()

    init(text: String, pattern: SplitPattern) {
        var text = text
        var uniqueChunks = ByteStringTable(capacity: 1 << 15)
        var frequency: [Int] = []
        var chunkCount = 0
        byteCount = text.utf8.count
        // 1. Pre-tokenize and count each distinct chunk (numbered by first appearance).
        text.withUTF8 { bytes in
            Pretokenizer(pattern).forEachChunk(in: bytes) { start, end in
                let chunk = UnsafeBufferPointer(rebasing: bytes[start..<end])
                let (index, isNew) = uniqueChunks.insert(chunk, hash: ByteStringTable.hash(chunk))
                if isNew { frequency.append(0) }
                frequency[index] += 1
                chunkCount += 1
            }
        }
        totalChunks = chunkCount
        chunkFrequency = frequency
        tokens = uniqueChunks.arena.map { Int32($0) }
        chunkStart = (0..<uniqueChunks.count).map { uniqueChunks.range(of: $0).lowerBound }
        chunkLength = (0..<uniqueChunks.count).map { Int32(uniqueChunks.range(of: $0).count) }
        chunkVisit = [Int32](repeating: -1, count: uniqueChunks.count)

        // 2. Count every pair in every chunk, in text order, so each key is set at its first occurrence.
        for c in 0..<chunkStart.count {
            var offset: Int32 = 0
            let start = chunkStart[c]
            for i in start..<(start + Int(chunkLength[c]) - 1) {
                addOccurrence(tokens[i], tokens[i + 1], chunk: Int32(c), offset: offset, merge: -1)
                offset += 1
            }
        }
        for p in 0..<pairCount.count { queue.push(QueuedPair(count: pairCount[p], key: pairKey[p], pair: Int32(p))) }
        touched.removeAll()
    }

    /// Makes the merges, at most `merges` of them.
    mutating func train(merges wanted: Int, progress: ((Int, Int) -> Void)?) -> BPETrainingResult {
        var merges: [Merge] = []
        var tokenCount = byteCount
        var tokenCounts = [tokenCount]
        while merges.count < wanted, let best = popBestPair() {
            let id = Int32(256 + merges.count)
            let count = pairCount[best]
            merges.append(Merge(left: Int(pairLeft[best]), right: Int(pairRight[best]), id: Int(id), count: count))
            tokenLength.append(tokenLength[Int(pairLeft[best])] + tokenLength[Int(pairRight[best])])
            // The replacements, not `count`: "a a a" holds (a, a) twice but merges it once.
            tokenCount -= apply(pair: best, newToken: id, merge: Int32(merges.count - 1))
            tokenCounts.append(tokenCount)
            progress?(merges.count, tokenCount)
        }
        return BPETrainingResult(merges: merges, byteCount: byteCount, tokenCounts: tokenCounts,
                                 uniqueChunks: chunkStart.count, chunks: totalChunks)
    }

    // MARK: The queue

    /// The most frequent pair (ties: the first in the text), or nil when no pair is left.
    /// Queue entries are not removed when a pair changes: a new entry is pushed, and an entry
    /// whose count or key no longer match the pair's is stale and skipped here.
    mutating func popBestPair() -> Int? {
        while let top = queue.pop() {
            let p = Int(top.pair)
            guard top.count == pairCount[p], top.key == pairKey[p], top.count > 0 else { continue }
            if keyIsLowerBound[p] {
                // Its first occurrence was merged away: find the real one, and let it compete again.
                pairKey[p] = exactKey(p)
                keyIsLowerBound[p] = false
                queue.push(QueuedPair(count: pairCount[p], key: pairKey[p], pair: top.pair))
                continue
            }
            return p
        }
        return nil
    }

    /// The first occurrence of pair p in the text, by scanning the chunks that may contain it
    /// (and dropping from its list those that no longer do).
    mutating func exactKey(_ p: Int) -> PairKey {
        let left = pairLeft[p], right = pairRight[p]
        var best = PairKey.max
        var kept: [Int32] = []
        let stamp = Int32.min   // a visit mark no merge number uses
        for c in pairChunks[p] where chunkVisit[Int(c)] != stamp {
            chunkVisit[Int(c)] = stamp
            let start = chunkStart[Int(c)], end = start + Int(chunkLength[Int(c)])
            var offset: Int32 = 0, found = false
            for i in start..<max(start, end - 1) {
                if tokens[i] == left && tokens[i + 1] == right {
                    best = min(best, PairKey(c) << 32 | PairKey(offset))
                    found = true
                    break
                }
                offset += tokenLength[Int(tokens[i])]
            }
            if found { kept.append(c) }
        }
        // The visit marks are merge numbers again from the next merge on.
        for c in pairChunks[p] { chunkVisit[Int(c)] = -1 }
        pairChunks[p] = kept
        pairLastChunk[p] = kept.last ?? -1
        return best
    }

    // MARK: Pair bookkeeping

    /// One more occurrence of (left, right) in chunk c at byte `offset`.
    @inline(__always)
    mutating func addOccurrence(_ left: Int32, _ right: Int32, chunk c: Int32, offset: Int32, merge: Int32) {
        let nextIndex = Int32(pairCount.count)
        let (value, isNew) = pairIndex.value(left, right) { nextIndex }
        let p = Int(value)
        let key = PairKey(c) << 32 | PairKey(offset)
        if isNew {
            pairLeft.append(left); pairRight.append(right)
            pairCount.append(0); pairKey.append(key); keyIsLowerBound.append(false)
            pairChunks.append([]); pairLastChunk.append(-1); pairTouched.append(-2)
        } else if pairCount[p] == 0 || key < pairKey[p] {
            // A pair that had died out starts afresh; an occurrence before the known first
            // one is the new first one (exact even if the old key was only a lower bound).
            pairKey[p] = key
            keyIsLowerBound[p] = false
        }
        pairCount[p] += chunkFrequency[Int(c)]
        if pairLastChunk[p] != c {
            pairChunks[p].append(c)
            pairLastChunk[p] = c
        }
        touch(p, merge: merge)
    }

    /// One occurrence of (left, right) in chunk c at byte `offset` is gone.
    @inline(__always)
    mutating func removeOccurrence(_ left: Int32, _ right: Int32, chunk c: Int32, offset: Int32, merge: Int32) {
        let p = Int(pairIndex.value(left, right))
        pairCount[p] -= chunkFrequency[Int(c)]
        if pairKey[p] == PairKey(c) << 32 | PairKey(offset) { keyIsLowerBound[p] = true }
        touch(p, merge: merge)
    }

    @inline(__always) mutating func touch(_ p: Int, merge: Int32) {
        if pairTouched[p] != merge {
            pairTouched[p] = merge
            touched.append(Int32(p))
        }
    }

    // MARK: One merge

    /// Replaces every occurrence of pair `p` = (a, b) by `newToken` z, left to right within each
    /// chunk (so "a a a" with a = b gives "z a", as the naive merge does), and updates the
    /// neighbouring pairs:  x a b y  ->  x z y  removes (x, a), (b, y) and adds (x, z), (z, y).
    /// Returns the replacements made in the whole text (each one token fewer), which is below
    /// the pair's count when a = b and occurrences overlap.
    mutating func apply(pair p: Int, newToken z: Int32, merge: Int32) -> Int {
        var replaced = 0
        let a = pairLeft[p], b = pairRight[p]
        let zLength = tokenLength[Int(z)]
        let chunks = pairChunks[p]
        pairChunks[p] = []
        for c32 in chunks {
            let c = Int(c32)
            if chunkVisit[c] == merge { continue }
            chunkVisit[c] = merge
            let start = chunkStart[c], n = Int(chunkLength[c])
            var i = 0, w = 0                  // read and write positions (token indices)
            var offset: Int32 = 0             // byte offset of token i
            var writtenOffset: Int32 = 0      // byte offset of the token at w - 1
            var lastMerged = -2               // w index of the last z written
            while i < n {
                let t = tokens[start + i]
                if i + 1 < n && t == a && tokens[start + i + 1] == b {
                    if w > 0 {
                        let x = tokens[start + w - 1]
                        // (x, a) is gone unless x is the z just written: then its old pair
                        // (b, a) was already removed as the previous z's right neighbour.
                        if lastMerged != w - 1 { removeOccurrence(x, a, chunk: c32, offset: writtenOffset, merge: merge) }
                        addOccurrence(x, z, chunk: c32, offset: writtenOffset, merge: merge)
                    }
                    if i + 2 < n {
                        let y = tokens[start + i + 2]
                        let aLength = tokenLength[Int(a)]
                        removeOccurrence(b, y, chunk: c32, offset: offset + aLength, merge: merge)
                        // (z, y) is added here unless y starts the next occurrence: then the
                        // pair is (z, z), added as that occurrence's left neighbour.
                        let nextMerges = i + 3 < n && y == a && tokens[start + i + 3] == b
                        if !nextMerges { addOccurrence(z, y, chunk: c32, offset: offset, merge: merge) }
                    }
                    tokens[start + w] = z
                    writtenOffset = offset
                    lastMerged = w
                    w += 1
                    offset += zLength
                    i += 2
                } else {
                    tokens[start + w] = t
                    writtenOffset = offset
                    w += 1
                    offset += tokenLength[Int(t)]
                    i += 1
                }
            }
            chunkLength[c] = Int32(w)
            replaced += (n - w) * chunkFrequency[c]
        }
        // The merged pair itself is gone everywhere; bookkeeping above may have counted it
        // down (a = b), so reset it rather than trust the arithmetic.
        pairCount[p] = 0
        keyIsLowerBound[p] = false
        for q in touched where Int(q) != p && pairCount[Int(q)] > 0 {
            queue.push(QueuedPair(count: pairCount[Int(q)], key: pairKey[Int(q)], pair: q))
        }
        touched.removeAll(keepingCapacity: true)
        return replaced
    }
}

/// A pair waiting in the queue, as it was when pushed. Ordered for `BinaryHeap`, which pops the
/// smallest first: so "smaller" here means "merge sooner", the larger count, and among equal
/// counts the smaller key (the pair that occurs first in the text).
struct QueuedPair: Comparable {
    let count: Int
    let key: PairKey
    let pair: Int32

    static func < (x: QueuedPair, y: QueuedPair) -> Bool {
        x.count != y.count ? x.count > y.count : x.key < y.key
    }

    /// Equal when neither should merge sooner: the pair number takes no part in the order.
    static func == (x: QueuedPair, y: QueuedPair) -> Bool { x.count == y.count && x.key == y.key }
}
