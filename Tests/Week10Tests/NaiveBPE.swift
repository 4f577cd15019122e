// The reference the fast trainer must match merge for merge: minbpe's RegexTokenizer.train,
// written out plainly. After every merge it recounts every adjacent pair of every chunk, in
// text order, into a dictionary that remembers the order of first occurrence; the merge is
// the most frequent pair, and among equals the one seen first (Python's max over a dict).
import Foundation
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week10BPE

/// (left, right, count) of each merge, in order.
func naiveBPEMerges(text: String, vocabularySize: Int, pattern: SplitPattern) -> [(left: Int, right: Int, count: Int)] {
    var chunks = naiveChunks(text, pattern: pattern).map { Array($0.utf8).map(Int.init) }
    var merges: [(left: Int, right: Int, count: Int)] = []
    for k in 0..<(vocabularySize - 256) {
        var counts: [Int: Int] = [:]
        var firstSeen: [Int] = []          // pairs in order of first occurrence
        for chunk in chunks where chunk.count >= 2 {
            for i in 0..<(chunk.count - 1) {
                let pair = chunk[i] << 20 | chunk[i + 1]
                if counts[pair] == nil { firstSeen.append(pair) }
                counts[pair, default: 0] += 1
            }
        }
        guard var best = firstSeen.first else { break }
        for pair in firstSeen where counts[pair]! > counts[best]! { best = pair }
        let left = best >> 20, right = best & 0xFFFFF, id = 256 + k
        merges.append((left, right, counts[best]!))
        for c in chunks.indices {
            var merged: [Int] = []
            var i = 0
            let chunk = chunks[c]
            while i < chunk.count {
                if i + 1 < chunk.count && chunk[i] == left && chunk[i + 1] == right {
                    merged.append(id)
                    i += 2
                } else {
                    merged.append(chunk[i])
                    i += 1
                }
            }
            chunks[c] = merged
        }
    }
    return merges
}

/// The chunks of `text` by the pattern, as NSRegularExpression (ICU) finds them: the oracle for
/// the hand-written splitter. ICU on this toolchain accepts the possessive quantifiers (?+, ++)
/// of the GPT-4 pattern, and its \s, \p{L}, \p{N} are Unicode's White_Space, L* and N*, which
/// is what Pretokenizer.classify uses; the pattern is used exactly as tiktoken spells it.
func naiveChunks(_ text: String, pattern: SplitPattern) -> [String] {
    let regex = try! NSRegularExpression(pattern: pattern.regex)
    let ns = text as NSString
    return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
}
