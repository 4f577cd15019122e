// Two small open-addressing hash tables the tokenizer's hot loops use instead of Swift's
// Dictionary: one from a pair of token ids to an index, one from a byte string to an index.
// Both keep their keys in flat arrays (no per-key allocation) and probe linearly.
import SharedKernels
import SharedTools

/// Token pair (left, right) -> an Int32 value, as one 64-bit key left << 32 | right.
struct PairTable {
    private var keys: [UInt64]
    private var values: [Int32]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    /// capacity: the number of entries expected (the table grows past it anyway).
    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: PairTable.empty, count: size)
        values = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    @inline(__always) static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// A multiplicative hash (Fibonacci hashing): the top bits of key · 2⁶⁴/φ.
    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The value stored for (left, right), or -1.
    @inline(__always) func value(_ left: Int32, _ right: Int32) -> Int32 {
        let key = PairTable.key(left, right)
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == PairTable.empty { return -1 }
            i = (i + 1) & mask
        }
    }

    /// The value for (left, right); if absent, stores `make()` first. Also says if it was new.
    @inline(__always)
    mutating func value(_ left: Int32, _ right: Int32, orInsert make: () -> Int32) -> (value: Int32, isNew: Bool) {
        let key = PairTable.key(left, right)
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return (values[i], false) }
            if k == PairTable.empty { break }
            i = (i + 1) & mask
        }
        let value = make()
        keys[i] = key
        values[i] = value
        count += 1
        if count * 2 > keys.count { grow() }
        return (value, true)
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: PairTable.empty, count: oldKeys.count * 2)
        values = [Int32](repeating: -1, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (key, value) in zip(oldKeys, oldValues) where key != PairTable.empty {
            var i = slot(key)
            while keys[i] != PairTable.empty { i = (i + 1) & mask }
            keys[i] = key
            values[i] = value
        }
    }
}

/// Byte strings -> index 0, 1, 2, ... in order of first insertion. The strings themselves are
/// copied into one arena; `bytes(of:)` gives them back.
struct ByteStringTable {
    private var slots: [Int32]          // index of the string, -1 = empty
    private var hashes: [UInt64] = []   // per string
    private var starts: [Int] = [0]     // string k is arena[starts[k] ..< starts[k + 1]]
    private(set) var arena: [UInt8] = []
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { hashes.count }

    /// The byte range of string `index` in `arena`.
    func range(of index: Int) -> Range<Int> { starts[index]..<starts[index + 1] }

    /// FNV-1a over the bytes, then a final mix so that short strings spread over all slots.
    @inline(__always) static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
    }

    /// The index of `bytes`, or -1 if absent.
    @inline(__always) func index(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: hash >> 20) & mask
        while true {
            let s = slots[i]
            if s < 0 { return -1 }
            if hashes[Int(s)] == hash && equals(Int(s), bytes) { return Int(s) }
            i = (i + 1) & mask
        }
    }

    /// The index of `bytes`, inserting it (with the next index) if absent.
    @inline(__always)
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (index: Int, isNew: Bool) {
        var i = Int(truncatingIfNeeded: hash >> 20) & mask
        while true {
            let s = slots[i]
            if s < 0 { break }
            if hashes[Int(s)] == hash && equals(Int(s), bytes) { return (Int(s), false) }
            i = (i + 1) & mask
        }
        let index = hashes.count
        slots[i] = Int32(index)
        hashes.append(hash)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        if hashes.count * 2 > slots.count { grow() }
        return (index, true)
    }

    @inline(__always) private func equals(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[index], length = starts[index + 1] - start
        guard length == bytes.count else { return false }
        if length == 0 { return true }
        return arena.withUnsafeBufferPointer { stored in
            memcmpEqual(stored.baseAddress! + start, bytes.baseAddress!, length)
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for (index, hash) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: hash >> 20) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(index)
        }
    }
}

/// Whether `count` bytes at `a` and `b` are equal.
@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for k in 0..<count where a[k] != b[k] { return false }
    return true
}
