// The thread count is task-local: two runs that bind different counts at the same time (two
// tests under Swift Testing, which runs them in parallel) each split their work by their own
// count. And a parallelFor inside a chunk body loops on that chunk's thread.
import Testing
import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct ThreadsTests {
    /// How many ranges `parallelRanges` cut 1,000 items into under the current binding: the
    /// number of threads the split is made for, whether or not the pool was free to run them
    /// side by side. Each range writes its own start into its own items.
    static func rangesUsed() -> Int {
        var owner = [Int](repeating: -1, count: 1000)
        owner.withUnsafeMutableBufferPointer { owner in
            parallelRanges(owner.count, minimumPerThread: 1) { range in
                for i in range { owner[i] = range.lowerBound }
            }
        }
        #expect(!owner.contains(-1), "an item no range covered")
        return Set(owner).count
    }

    @Test func unboundCountIsTheMachinesCores() {
        #expect(Threads.count == Threads.available && Threads.available >= 1)
        #expect(Self.rangesUsed() == Threads.available)
    }

    @Test("two runs binding 1 and 2 threads at the same time each split by their own count")
    func concurrentBindingsDoNotLeak() async {
        // Both runs bind their count first, then wait for each other, then work: with a
        // count shared by the whole process, the run that bound first would now see the
        // other's count and split its work the other's way.
        let bothBound = Rendezvous(parties: 2)
        async let oneThread = Threads.$count.withValue(1) {
            await bothBound.arrive()
            return (Threads.count, Self.rangesUsed())
        }
        async let twoThreads = Threads.$count.withValue(2) {
            await bothBound.arrive()
            return (Threads.count, Self.rangesUsed())
        }
        let (one, two) = await (oneThread, twoThreads)
        #expect(one == (1, 1), "the 1-thread run saw \(one.0) threads and split into \(one.1) ranges")
        #expect(two == (2, 2), "the 2-thread run saw \(two.0) threads and split into \(two.1) ranges")
        #expect(Threads.count == Threads.available)   // the bindings ended with their closures
    }

    @Test func synchronousBindingNestsAndEnds() {
        Threads.$count.withValue(1) {
            #expect(Threads.count == 1 && Self.rangesUsed() == 1)
            Threads.$count.withValue(3) { #expect(Threads.count == 3 && Self.rangesUsed() == 3) }
            #expect(Threads.count == 1)
        }
        #expect(Threads.count == Threads.available)
    }

    @Test func parallelForInsideAChunkBodyLoopsOnThatChunksThread() {
        // When the outer parallelFor got the pool (another test may hold it, and then the
        // outer loop runs inline and proves nothing: try again), every inner chunk must run
        // on the thread of the outer chunk that called it.
        for _ in 0..<50 {
            var outerThread = [pthread_t?](repeating: nil, count: 2)
            var innerThreads = [[pthread_t?]](repeating: [pthread_t?](repeating: nil, count: 8), count: 2)
            var innerVisits = [[Int]](repeating: [Int](repeating: 0, count: 8), count: 2)
            outerThread.withUnsafeMutableBufferPointer { outerThread in
                innerThreads.withUnsafeMutableBufferPointer { innerThreads in
                    innerVisits.withUnsafeMutableBufferPointer { innerVisits in
                        parallelFor(2, threads: 2) { outer in
                            outerThread[outer] = pthread_self()
                            parallelFor(8, threads: 2) { inner in
                                innerThreads[outer][inner] = pthread_self()
                                innerVisits[outer][inner] += 1
                            }
                        }
                    }
                }
            }
            #expect(innerVisits.allSatisfy { $0 == [Int](repeating: 1, count: 8) })
            guard let first = outerThread[0], let second = outerThread[1] else {
                Issue.record("an outer chunk did not run")
                return
            }
            if pthread_equal(first, second) != 0 { continue }    // ran inline: the pool was busy
            for outer in 0..<2 {
                #expect(innerThreads[outer].allSatisfy { $0.map { pthread_equal($0, outerThread[outer]!) != 0 } ?? false },
                        "an inner chunk of outer chunk \(outer) ran on another thread")
            }
            return
        }
    }
}

/// Lets `parties` tasks wait until all of them have arrived.
actor Rendezvous {
    private let parties: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) { self.parties = parties }

    func arrive() async {
        if waiting.count + 1 == parties {
            waiting.forEach { $0.resume() }
            waiting.removeAll()
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
    }
}
