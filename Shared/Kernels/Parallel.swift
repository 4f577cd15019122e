// Splitting work across cores. GEMM and the batch/head loops of attention use this.
// The rule that keeps results reproducible: split the *output* into chunks, give every chunk
// to exactly one thread, and never let two threads add into the same number.
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many threads the kernels may use. Defaults to the machine's core count; a week's
/// `--threads` flag sets it once at start-up.
public enum Threads {
    nonisolated(unsafe) public static var count: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}

/// Runs `body(chunk)` for chunk in 0..<chunks, on up to `threads` cores (default
/// `Threads.count`). With one chunk or one thread it simply loops on the calling thread, so
/// small problems pay nothing for threads they do not need. Each chunk must write only its own
/// part of the output: then the result does not depend on which thread ran which chunk.
///
/// The chunks are dealt out in contiguous ranges, one range per thread (with 10 chunks on
/// 3 threads: 0..<3, 3..<6, 6..<10), so exactly `threads` workers run, however many chunks
/// there are. (Dispatch's own pool is sized to the machine, so asking it for `chunks`
/// iterations would ignore a smaller `--threads`.) The calling thread is one of the workers.
public func parallelFor(_ chunks: Int, threads: Int? = nil, _ body: (Int) -> Void) {
    let threads = min(threads ?? Threads.count, chunks)
    if threads <= 1 {
        for chunk in 0..<chunks { body(chunk) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let first = worker * chunks / threads
            let end = (worker + 1) * chunks / threads
            for chunk in first..<end { body(chunk) }
        }
    }
}
