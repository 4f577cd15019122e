// A binary min-heap: the priority queue of BPE training (the most frequent pair next) and of
// encoding a long chunk (the lowest-ranked merge next). Used by BPETrainer.swift and
// BPETokenizer.swift. Reference: CLRS ch. 6, or Python's heapq.
import SharedKernels
import SharedTools

/// Elements in an array laid out as a complete binary tree: the children of index i are
/// 2i + 1 and 2i + 2, and no child is smaller than its parent, so the smallest element is at
/// index 0. push and pop are O(log n). Equal elements come out in no particular order: make
/// `<` decide every tie the caller cares about.
struct BinaryHeap<Element: Comparable> {
    private var elements: [Element] = []

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }

    mutating func push(_ element: Element) {
        elements.append(element)
        // Sift up: swap with the parent while smaller than it.
        var i = elements.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard elements[i] < elements[parent] else { break }
            elements.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the smallest element, nil when the heap is empty.
    mutating func pop() -> Element? {
        guard let top = elements.first else { return nil }
        // The last leaf fills the hole at the root, then sinks below any smaller child.
        let last = elements.removeLast()
        if elements.isEmpty { return top }
        elements[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < elements.count && elements[l] < elements[smallest] { smallest = l }
            if r < elements.count && elements[r] < elements[smallest] { smallest = r }
            if smallest == i { break }
            elements.swapAt(i, smallest)
            i = smallest
        }
        return top
    }
}
