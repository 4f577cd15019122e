// Training byte-level BPE the plain way, minbpe's algorithm (karpathy/minbpe, regex.py,
// RegexTokenizer.train): count every neighbouring pair, merge the most frequent, recount from
// scratch, repeat. Read this before BPETrainer.swift, which learns the same merges, merge for
// merge, without the recounting; week 10's tests hold the fast trainer to it. Week 7 learns
// its first byte pairs with it.
import SharedKernels
import SharedTools

/// Byte-level BPE training, minbpe's algorithm written out plainly: the readable twin of
/// `trainBPE`, with its arguments (less the progress callback), errors and merges, ties included.
///
/// minbpe's example, "aaabdaaabac" with 3 merges (vocabularySize 259). The GPT-4 pattern leaves
/// it one chunk, the bytes a a a b d a a a b a c = 97 97 97 98 100 97 97 97 98 97 99:
///
///     merge 1: (a, a) occurs 4 times (the pairs of "aaa" overlap), more than any other pair
///              -> 256; merged left to right, "aaa" becomes [256, a]:
///              256 97 98 100 256 97 98 97 99
///     merge 2: (256, a) and (a, b) both occur twice; (256, a) comes first in the text
///              -> 257:  257 98 100 257 98 97 99
///     merge 3: (257, b) twice -> 258:  258 100 258 97 99
///
/// Encoding "aaabdaaabac" with these merges gives [258, 100, 258, 97, 99], as in minbpe's test.
public func trainBPENaive(text: String, vocabularySize: Int, pattern: SplitPattern) throws -> BPETrainingResult {
    try checkTrainingInput(text: text, vocabularySize: vocabularySize)
    var text = text
    var chunks: [[UInt8]] = []
    text.withUTF8 { bytes in
        Pretokenizer(pattern).forEachChunk(in: bytes) { start, end in chunks.append(Array(bytes[start..<end])) }
    }
    return trainBPENaive(chunks: countDistinctChunks(chunks), merges: vocabularySize - 256)
}

/// The same on chunks already cut and counted, for text cut some other way than by a
/// `SplitPattern` (week 7 cuts its own): learns at most `merges` merges, fewer if every chunk
/// becomes one token first.
/// chunks: each distinct chunk with how often it occurs, in order of first appearance in the
///   text (`countDistinctChunks` makes this list). The order decides ties: among equally
///   frequent pairs, the one met first reading the chunks in this order wins.
public func trainBPENaive(chunks: [(bytes: [UInt8], count: Int)], merges wanted: Int) -> BPETrainingResult {
    // Each distinct chunk once, with its frequency as a weight: minbpe counts " the" 5,000 times
    // over, we count it once and add 5,000. The counts are the same, and so is the order in
    // which pairs are first met (a chunk's first appearance is the first place any of its pairs
    // can occur), so the merges are the same.
    var tokens = chunks.map { $0.bytes.map(Int.init) }
    var merges: [Merge] = []
    var tokenCount = chunks.reduce(0) { $0 + $1.bytes.count * $1.count }
    var tokenCounts = [tokenCount]
    while merges.count < wanted {
        // 1. Count every neighbouring pair, and remember the order in which the pairs are first met.
        var counts: [TokenPair: Int] = [:]
        var firstMet: [TokenPair] = []
        for (c, chunk) in tokens.enumerated() where chunk.count >= 2 {
            for i in 0..<(chunk.count - 1) {
                let pair = TokenPair(left: chunk[i], right: chunk[i + 1])
                if counts[pair] == nil { firstMet.append(pair) }
                counts[pair, default: 0] += chunks[c].count
            }
        }
        // 2. The most frequent pair; among equals, the first met (strictly greater replaces it).
        //    minbpe gets the same from Python's max over a dict, which keeps insertion order.
        guard var best = firstMet.first else { break }   // every chunk is one token: nothing to merge
        for pair in firstMet where counts[pair]! > counts[best]! { best = pair }

        // 3. Replace it everywhere by the next id (most chunks do not contain its left token:
        //    those stay as they are).
        let id = 256 + merges.count
        merges.append(Merge(left: best.left, right: best.right, id: id, count: counts[best]!))
        for c in tokens.indices where tokens[c].count >= 2 && tokens[c].contains(best.left) {
            let before = tokens[c].count
            tokens[c] = mergePair(tokens[c], left: best.left, right: best.right, into: id)
            tokenCount -= (before - tokens[c].count) * chunks[c].count
        }
        tokenCounts.append(tokenCount)
    }
    return BPETrainingResult(merges: merges, byteCount: tokenCounts[0], tokenCounts: tokenCounts,
                             uniqueChunks: chunks.count, chunks: chunks.reduce(0) { $0 + $1.count })
}

/// `tokens` with every (left, right) neighbour pair replaced by `id`, scanning left to right, so
/// in a run of one token the pairs do not overlap: (a, a) merges a a a into [id, a].
/// minbpe's `merge(ids, pair, idx)`.
public func mergePair(_ tokens: [Int], left: Int, right: Int, into id: Int) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(tokens.count)
    var i = 0
    while i < tokens.count {
        if i + 1 < tokens.count && tokens[i] == left && tokens[i + 1] == right {
            out.append(id)
            i += 2
        } else {
            out.append(tokens[i])
            i += 1
        }
    }
    return out
}

/// Each distinct chunk once with how often it occurs, in order of first appearance:
/// ["ab", " c", "ab"] -> [("ab", 2), (" c", 1)].
public func countDistinctChunks(_ chunks: [[UInt8]]) -> [(bytes: [UInt8], count: Int)] {
    var position: [[UInt8]: Int] = [:]   // chunk -> its index in `distinct`
    var distinct: [(bytes: [UInt8], count: Int)] = []
    for chunk in chunks {
        if let k = position[chunk] {
            distinct[k].count += 1
        } else {
            position[chunk] = distinct.count
            distinct.append((chunk, 1))
        }
    }
    return distinct
}

/// Two neighbouring token ids, as a dictionary key.
private struct TokenPair: Hashable {
    let left: Int
    let right: Int
}
