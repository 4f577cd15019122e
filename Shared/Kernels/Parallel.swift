// Splitting work across cores. GEMM and the batch/head loops of attention use this.
// Dispatch's concurrentPerform runs the chunks on a pool of worker threads and returns when
// all are done.
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
public func parallelFor(_ chunks: Int, threads: Int? = nil, _ body: (Int) -> Void) {
    let threads = min(threads ?? Threads.count, chunks)
    if threads <= 1 {
        for chunk in 0..<chunks { body(chunk) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in body(chunk) }
    }
}
