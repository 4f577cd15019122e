// The binary heap of Shared/Data/BPE/BinaryHeap.swift against sorting: at sizes that leave the
// last level of the tree empty, full or partly full, with many ties; pushes and pops interleaved;
// and the two orders BPE uses (merge ranks in the encoder, pair counts in the trainer).
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

/// A key with a tag that takes no part in the order, so that equal keys are distinct elements.
private struct Tagged: Comparable {
    let key: Int
    let tag: Int
    static func < (x: Tagged, y: Tagged) -> Bool { x.key < y.key }
    static func == (x: Tagged, y: Tagged) -> Bool { x.key == y.key }
}

@Suite struct BinaryHeapTests {
    @Test(arguments: [0, 1, 7, 33, 127])
    func popsInSortedOrder(count n: Int) {
        var rng = SplitMix64(seed: UInt64(100 + n))
        // keys from a range about a third of n wide: most keys occur several times
        let items = (0..<n).map { Tagged(key: rng.int(below: n / 3 + 1), tag: $0) }
        var heap = BinaryHeap<Tagged>()
        for item in items { heap.push(item) }
        #expect(heap.count == n)
        var popped: [Tagged] = []
        while let item = heap.pop() { popped.append(item) }
        #expect(heap.isEmpty && heap.pop() == nil)
        #expect(popped.map(\.key) == items.map(\.key).sorted())
        // every element comes out exactly once (ties in any order)
        #expect(popped.map(\.tag).sorted() == Array(0..<n))
    }

    @Test func interleavedPushesAndPopsMatchASortedArray() {
        var rng = SplitMix64(seed: 7)
        var heap = BinaryHeap<UInt64>()
        var model: [UInt64] = []   // kept sorted
        for _ in 0..<2000 {
            if rng.int(below: 3) == 0 {
                #expect(heap.pop() == (model.isEmpty ? nil : model.removeFirst()))
            } else {
                let key = UInt64(rng.int(below: 50))
                heap.push(key)
                model.insert(key, at: model.firstIndex { $0 > key } ?? model.count)
            }
            #expect(heap.count == model.count)
        }
        while let key = heap.pop() { #expect(key == model.removeFirst()) }
        #expect(model.isEmpty)
    }

    @Test func trainerQueuePopsTheLargestCountThenTheFirstInTheText() {
        // (count, key): the key is the first occurrence, chunk << 32 | byte offset
        let entries = [(3, 5), (9, 1 << 32), (9, 7), (1, 0), (9, 7 << 32 | 2), (3, 4)]
        var queue = BinaryHeap<QueuedPair>()
        for (p, (count, key)) in entries.enumerated() { queue.push(QueuedPair(count: count, key: PairKey(key), pair: Int32(p))) }
        var order: [Int32] = []
        while let top = queue.pop() { order.append(top.pair) }
        #expect(order == [2, 1, 4, 5, 0, 3])
    }
}
