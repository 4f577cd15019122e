// The reference the hand-written splitter (Shared/Data/BPE/Pretokenizer.swift) must match chunk
// for chunk: NSRegularExpression running the real pattern. The naive encoder
// (Week10TokenizerTests.swift) and the trainer tests cut with it too; the naive trainer itself
// is Shared's (Shared/Data/BPE/BPETrainerNaive.swift).
import Foundation
@testable import Shared

/// The chunks of `text` by the pattern, as NSRegularExpression (ICU) finds them: the oracle for
/// the hand-written splitter. ICU on this toolchain accepts the possessive quantifiers (?+, ++)
/// of the GPT-4 pattern, and its \s, \p{L}, \p{N} are Unicode's White_Space, L* and N*, which
/// is what Pretokenizer.classify uses; the pattern is used exactly as tiktoken spells it.
func naiveChunks(_ text: String, pattern: SplitPattern) -> [String] {
    let regex = try! NSRegularExpression(pattern: pattern.regex)
    let ns = text as NSString
    return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
}
