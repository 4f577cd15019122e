// A byte-level BPE tokenizer: text -> UTF-8 bytes -> chunks (Pretokenizer) -> in each chunk,
// merges applied in the order they were learned -> token ids; and back. Special tokens such as
// <|endoftext|> are whole strings with their own ids, never produced by merges.
// References: minbpe (karpathy/minbpe, regex.py), tiktoken's byte_pair_encode.
import SharedKernels
import SharedTools

/// What `encode` does with special-token strings ("<|endoftext|>") found in the text.
public enum SpecialTokenHandling: Equatable, Sendable {
    /// Throw if the text contains any special token (tiktoken's default: text from users
    /// should not be able to inject an end-of-text).
    case reject
    /// Every special token in the text becomes its id.
    case allowAll
    /// These become their ids; any other special token in the text throws.
    case allow(Set<String>)
    /// Special-token strings are ordinary text, split and merged like the rest.
    case encodeAsText
}

/// A trained (or loaded) byte-level BPE tokenizer. A value type: share it freely across threads.
public struct BPETokenizer: Tokenizer, Sendable {
    public let pattern: SplitPattern
    /// The bytes each id stands for (id < `baseVocabularySize`; special tokens come after).
    public let tokenBytes: [[UInt8]]
    /// The id of each single byte (our own tokenizers: byte b is id b).
    public let byteTokens: [Int32]
    /// The merges in rank order: (left, right) -> id.
    public let merges: [(left: Int, right: Int, id: Int)]
    /// Special tokens and their ids, in id order.
    public let specialTokens: [(text: String, id: Int)]
    /// (left, right) -> rank, for encoding.
    private let mergeRanks: PairTable

    /// Ids of the byte and merged tokens: 0 ..< baseVocabularySize.
    public var baseVocabularySize: Int { tokenBytes.count }
    /// All ids, special tokens included.
    public var vocabularySize: Int { tokenBytes.count + specialTokens.count }

    /// The tokenizer a training run learned: ids 0-255 are the bytes, 256 + r is merge r, and
    /// the special tokens follow in the order given.
    public init(training result: BPETrainingResult, pattern: SplitPattern, specialTokens: [String] = []) throws {
        var bytes = (0..<256).map { [UInt8($0)] }
        for merge in result.merges { bytes.append(bytes[merge.left] + bytes[merge.right]) }
        let base = bytes.count
        try self.init(pattern: pattern, tokenBytes: bytes, byteTokens: (0..<256).map { Int32($0) },
                      merges: result.merges.map { (left: $0.left, right: $0.right, id: $0.id) },
                      specialTokens: specialTokens.enumerated().map { (text: $0.element, id: base + $0.offset) })
    }

    /// Any byte-level BPE vocabulary (a loaded file). Every id, merge and special token is
    /// checked: ids within range, each merge's id spelling its two parts joined, each byte
    /// present, special tokens distinct from each other and from every learned token.
    public init(pattern: SplitPattern, tokenBytes: [[UInt8]], byteTokens: [Int32],
                merges: [(left: Int, right: Int, id: Int)], specialTokens: [(text: String, id: Int)]) throws {
        let V = tokenBytes.count
        guard byteTokens.count == 256 else { throw WorkbookError("a byte-level vocabulary needs all 256 bytes, got \(byteTokens.count)") }
        for (byte, id) in byteTokens.enumerated() {
            guard id >= 0 && Int(id) < V && tokenBytes[Int(id)] == [UInt8(byte)] else {
                throw WorkbookError("byte \(byte) has no token of its own (id \(id)): not a byte-level BPE vocabulary")
            }
        }
        var ranks = PairTable(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            guard [merge.left, merge.right, merge.id].allSatisfy({ $0 >= 0 && $0 < V }) else {
                throw WorkbookError("merge \(rank) (\(merge.left), \(merge.right)) -> \(merge.id) uses an id outside 0..<\(V)")
            }
            guard tokenBytes[merge.id] == tokenBytes[merge.left] + tokenBytes[merge.right] else {
                throw WorkbookError("merge \(rank): token \(merge.id) does not spell tokens \(merge.left) and \(merge.right) joined")
            }
            let (_, isNew) = ranks.value(Int32(merge.left), Int32(merge.right)) { Int32(rank) }
            guard isNew else { throw WorkbookError("merge \(rank) (\(merge.left), \(merge.right)) appears twice") }
        }
        var seen: Set<[UInt8]> = []
        for (index, special) in specialTokens.enumerated() {
            guard !special.text.isEmpty else { throw WorkbookError("special token \(index) is the empty string") }
            guard special.id == V + index else {
                throw WorkbookError("special token \(special.text) has id \(special.id); expected \(V + index) (they follow the \(V) learned tokens)")
            }
            let bytes = Array(special.text.utf8)
            guard seen.insert(bytes).inserted else { throw WorkbookError("special token \(special.text) is given twice") }
            if let learned = tokenBytes.firstIndex(of: bytes) {
                throw WorkbookError("special token \(special.text) collides with learned token \(learned), which spells the same bytes: pick another string")
            }
        }
        self.pattern = pattern
        self.tokenBytes = tokenBytes
        self.byteTokens = byteTokens
        self.merges = merges
        self.specialTokens = specialTokens
        self.mergeRanks = ranks
    }

    /// The id of a special token, nil if it is not one.
    public func specialTokenID(_ text: String) -> Int? { specialTokens.first { $0.text == text }?.id }

    // MARK: Encoding

    /// The ids of `text`; throws if it contains a special-token string (see `.reject`).
    /// The shape of Shared's `Tokenizer.encode`.
    public func encode(_ text: String) throws -> [Int] { try encode(text, specialTokens: .reject) }

    /// The ids of `text`. Special-token strings in it are handled as `specialTokens` says.
    public func encode(_ text: String, specialTokens handling: SpecialTokenHandling) throws -> [Int] {
        if handling == .encodeAsText || specialTokens.isEmpty { return encodeOrdinary(text) }
        let bytes = Array(text.utf8)
        var out: [Int] = []
        var pieceStart = 0
        var position = 0
        while let (start, special) = firstSpecialToken(in: bytes, from: position) {
            let allowed: Bool
            switch handling {
            case .allowAll: allowed = true
            case .allow(let set): allowed = set.contains(special.text)
            case .reject, .encodeAsText: allowed = false
            }
            guard allowed else {
                throw WorkbookError("the text contains the special token \(special.text) at byte \(start); "
                                    + "allow it to encode it as id \(special.id), or encode it as plain text")
            }
            out += encodeOrdinary(bytes: bytes[pieceStart..<start])
            out.append(special.id)
            position = start + special.text.utf8.count
            pieceStart = position
        }
        out += encodeOrdinary(bytes: bytes[pieceStart...])
        return out
    }

    /// The ids of `text`, treating everything (special-token strings too) as ordinary text.
    public func encodeOrdinary(_ text: String) -> [Int] {
        var text = text
        return text.withUTF8 { encodeOrdinary(bytes: $0) }
    }

    /// The ids of arbitrary bytes (not necessarily UTF-8): decodeBytes gives them back exactly.
    public func encode(bytes: [UInt8]) -> [Int] { encodeOrdinary(bytes: bytes[...]) }

    func encodeOrdinary(bytes: ArraySlice<UInt8>) -> [Int] {
        bytes.withUnsafeBufferPointer { encodeOrdinary(bytes: $0) }
    }

    /// The earliest special token in `bytes` at or after `from` (the longest, if several start there).
    private func firstSpecialToken(in bytes: [UInt8], from: Int) -> (Int, (text: String, id: Int))? {
        var best: (Int, (text: String, id: Int))? = nil
        for special in specialTokens {
            let needle = Array(special.text.utf8)
            guard needle.count <= bytes.count - from else { continue }
            var i = from
            let last = bytes.count - needle.count
            while i <= last, best.map({ i <= $0.0 }) ?? true {
                if bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) {
                    if best == nil || i < best!.0 || needle.count > best!.1.text.utf8.count { best = (i, special) }
                    break
                }
                i += 1
            }
        }
        return best
    }

    /// Encodes UTF-8 bytes chunk by chunk. A chunk met before is not merged again: its ids come
    /// from a cache (prose repeats the same few thousand words), which is most of the speed.
    public func encodeOrdinary(bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(bytes.count / 3)
        var cache = ByteStringTable(capacity: 4096)
        var cachedIDs: [Int32] = []
        var cachedStart: [Int] = [0]
        var scratch = MergeScratch()
        let cacheLimit = 1 << 18
        Pretokenizer(pattern).forEachChunk(in: bytes) { start, end in
            if end - start == 1 {
                out.append(Int(byteTokens[Int(bytes[start])]))
                return
            }
            let chunk = UnsafeBufferPointer(rebasing: bytes[start..<end])
            let hash = ByteStringTable.hash(chunk)
            let index = cache.index(of: chunk, hash: hash)
            if index >= 0 {
                for k in cachedStart[index]..<cachedStart[index + 1] { out.append(Int(cachedIDs[k])) }
                return
            }
            let firstNew = out.count
            mergeChunk(chunk, scratch: &scratch, into: &out)
            if cache.count < cacheLimit {
                _ = cache.insert(chunk, hash: hash)
                for k in firstNew..<out.count { cachedIDs.append(Int32(out[k])) }
                cachedStart.append(cachedIDs.count)
            }
        }
        return out
    }

    /// Reusable buffers of `mergeChunk`.
    struct MergeScratch {
        var ids: [Int32] = []
        var ranks: [Int32] = []
        var next: [Int32] = []
        var prev: [Int32] = []
    }

    /// The rank of merging (left, right), or Int32.max if that pair is not a merge.
    @inline(__always) private func rank(_ left: Int32, _ right: Int32) -> Int32 {
        let r = mergeRanks.value(left, right)
        return r < 0 ? Int32.max : r
    }

    /// BPE on one chunk: start from its bytes, and while some adjacent pair is a merge, apply the
    /// one learned first (the lowest rank; the leftmost if it occurs twice). Appends the ids.
    func mergeChunk(_ chunk: UnsafeBufferPointer<UInt8>, scratch: inout MergeScratch, into out: inout [Int]) {
        let n = chunk.count
        if n > 64 { return mergeLongChunk(chunk, scratch: &scratch, into: &out) }
        scratch.ids.removeAll(keepingCapacity: true)
        scratch.ranks.removeAll(keepingCapacity: true)
        for byte in chunk { scratch.ids.append(byteTokens[Int(byte)]) }
        for k in 0..<(n - 1) { scratch.ranks.append(rank(scratch.ids[k], scratch.ids[k + 1])) }
        scratch.ranks.append(Int32.max)   // a sentinel after the last token
        var count = n
        while count > 1 {
            // The lowest-ranked pair (a short chunk: a linear scan beats any structure).
            var best = 0
            for k in 1..<(count - 1) where scratch.ranks[k] < scratch.ranks[best] { best = k }
            let r = scratch.ranks[best]
            if r == Int32.max { break }
            scratch.ids[best] = Int32(merges[Int(r)].id)
            scratch.ids.remove(at: best + 1)
            scratch.ranks.remove(at: best + 1)
            count -= 1
            scratch.ranks[best] = best + 1 < count ? rank(scratch.ids[best], scratch.ids[best + 1]) : Int32.max
            if best > 0 { scratch.ranks[best - 1] = rank(scratch.ids[best - 1], scratch.ids[best]) }
        }
        for k in 0..<count { out.append(Int(scratch.ids[k])) }
    }

    /// The same for a long chunk (a run of thousands of letters or spaces), in O(n log n):
    /// tokens in a linked list, candidate pairs in a min-heap keyed by rank << 32 | position,
    /// so the lowest rank and then the leftmost position comes out first. An entry whose pair
    /// has changed since it was pushed is skipped when it comes out.
    private func mergeLongChunk(_ chunk: UnsafeBufferPointer<UInt8>, scratch: inout MergeScratch, into out: inout [Int]) {
        let n = chunk.count
        var ids = chunk.map { byteTokens[Int($0)] }
        var next = (0..<n).map { Int32($0 + 1) }      // n = none
        var prev = (0..<n).map { Int32($0 - 1) }      // -1 = none
        var alive = [Bool](repeating: true, count: n)
        var heap = BinaryHeap<UInt64>()
        for k in 0..<(n - 1) {
            let r = rank(ids[k], ids[k + 1])
            if r != Int32.max { heap.push(UInt64(r) << 32 | UInt64(k)) }
        }
        while let entry = heap.pop() {
            let r = Int32(entry >> 32), k = Int(entry & 0xFFFF_FFFF)
            guard alive[k], Int(next[k]) < n, rank(ids[k], ids[Int(next[k])]) == r else { continue }
            let right = Int(next[k])
            ids[k] = Int32(merges[Int(r)].id)
            alive[right] = false
            next[k] = next[right]
            if Int(next[k]) < n { prev[Int(next[k])] = Int32(k) }
            if Int(next[k]) < n, case let r2 = rank(ids[k], ids[Int(next[k])]), r2 != Int32.max {
                heap.push(UInt64(r2) << 32 | UInt64(k))
            }
            if prev[k] >= 0, case let r0 = rank(ids[Int(prev[k])], ids[k]), r0 != Int32.max {
                heap.push(UInt64(r0) << 32 | UInt64(prev[k]))
            }
        }
        var k = 0
        while k < n {
            out.append(Int(ids[k]))
            k = Int(next[k])
        }
    }

    // MARK: Decoding

    /// The bytes of `ids` joined (exact: encode then decodeBytes gives the input back).
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            if id >= 0 && id < tokenBytes.count {
                out += tokenBytes[id]
            } else {
                precondition(id >= tokenBytes.count && id < vocabularySize, "decode: id \(id) outside 0..<\(vocabularySize)")
                out += Array(specialTokens[id - tokenBytes.count].text.utf8)
            }
        }
        return out
    }

    /// The text of `ids`. A token can end in the middle of a multi-byte character, so a slice
    /// of ids may not be valid UTF-8: invalid bytes show as U+FFFD (for display only; use
    /// `decodeBytes` for the exact bytes).
    public func decode(_ ids: [Int]) -> String {
        TextCorpus.decodeUTF8(decodeBytes(ids)).text
    }

    /// One token as readable text: its bytes if they are valid UTF-8 (control characters
    /// escaped), else its bytes in hex ("<e2 80>").
    public func describeToken(_ id: Int) -> String {
        let bytes = decodeBytes([id])
        if let text = String(validating: bytes, as: UTF8.self) {
            return text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? $0.escaped(asASCII: true) : String($0) }.joined()
        }
        return "<" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ") + ">"
    }
}
