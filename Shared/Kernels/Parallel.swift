// Splitting work across cores. GEMM and the batch/head loops of attention use this.
// The rule that keeps results reproducible: split the *output* into chunks, give every chunk
// to exactly one thread, and never let two threads add into the same number.
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many threads the kernels may use.
///
/// `Threads.count` is a task-local value: a run binds it around its work, and every kernel
/// called inside (on that thread, or in a task started from it) reads the bound value:
///
///     try Threads.$count.withValue(config.threads) { try train(trainer) }
///
/// Two runs on different threads or tasks, such as two tests that Swift Testing runs at the
/// same time, each see their own count. Unbound, it is `Threads.available`. The pool threads
/// of `parallelFor` are not tasks and do not inherit the binding: they run chunk bodies only,
/// and a kernel called inside a chunk body loops on its thread anyway (see `parallelFor`).
public enum Threads {
    /// The machine's online cores (at least 1).
    public static let available: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// The thread count of the current run; bind it with `Threads.$count.withValue(n) { ... }`.
    @TaskLocal public static var count: Int = available
}

/// Runs `body(chunk)` for chunk in 0..<chunks, on up to `threads` cores (default
/// `Threads.count`). With one chunk or one thread it simply loops on the calling thread, so
/// small problems pay nothing for threads they do not need. Each chunk must write only its own
/// part of the output: then the result does not depend on which thread ran which chunk.
///
/// The chunks are dealt out in contiguous ranges, one range per thread (10 chunks on 3
/// threads: 0..<3, 3..<6, 6..<10). The calling thread runs the first range and long-lived
/// worker threads (`WorkerPool`) the others, so every range really runs on its own core: its
/// workers are already awake (spinning) when work comes in quick succession, which is what
/// keeps a 2-core split worth having on a machine that others are loading too.
/// A parallelFor inside another one's body simply loops on its thread (the pool is busy).
public func parallelFor(_ chunks: Int, threads: Int? = nil, _ body: (Int) -> Void) {
    let threads = min(threads ?? Threads.count, chunks)
    if threads <= 1 {
        for chunk in 0..<chunks { body(chunk) }
        return
    }
    // Worker `w` of `threads` runs chunks w·chunks/threads ..< (w+1)·chunks/threads.
    func runRange(_ worker: Int, _ body: (Int) -> Void) {
        for chunk in (worker * chunks / threads)..<((worker + 1) * chunks / threads) { body(chunk) }
    }
    guard #available(macOS 15, iOS 18, *) else {
        // Older Apple systems lack the atomics the pool uses; Dispatch's pool is good there.
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: threads) { worker in runRange(worker, body) }
        }
        return
    }
    let ranOnPool = withoutActuallyEscaping(body) { body in
        WorkerPool.shared.run(workers: threads) { worker in runRange(worker, body) }
    }
    if !ranOnPool {
        // The pool is busy (nested or concurrent parallelFor): do the work right here.
        for chunk in 0..<chunks { body(chunk) }
    }
}

/// A handful of long-lived threads that run one job at a time: `job(worker)` for worker in
/// 1..<workers, while the calling thread runs `job(0)`. Threads are started on first use
/// and never exit. Between jobs a worker first watches an atomic counter for a fifth of a
/// millisecond, then sleeps on a condition variable: kernels come in quick succession during
/// training, and waking a sleeping thread costs tens of microseconds, as much as a small GEMM.
/// (The watching never holds a lock: a thread descheduled while holding one would stall the
/// other for a whole time slice.)
@available(macOS 15, iOS 18, *)
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long a worker polls for the next job before sleeping.
    private static let workerSpinSeconds = 0.000_2
    /// How long the caller polls for the workers to finish before sleeping.
    private static let callerSpinSeconds = 0.002

    private let generation = Atomic<Int>(0)      // incremented to post a job
    private let unfinished = Atomic<Int>(0)      // pool workers yet to finish (or skip) the job
    private let busy = Atomic<Bool>(false)       // a job is running
    // Written by the caller before it increments `generation`, read by workers after they
    // see the new value (release/acquire ordering makes that safe).
    private var job: ((Int) -> Void)?
    private var jobWorkers = 0                   // workers 0..<jobWorkers take part
    // Sleeping and waking.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let jobPosted = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let jobDone = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var startedWorkers = 0               // worker threads 1...startedWorkers exist
                                                 // (written only by the caller holding `busy`)

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(jobPosted, nil)
        pthread_cond_init(jobDone, nil)
    }

    /// Runs job(0) on the calling thread and job(1)...job(workers - 1) on pool threads, and
    /// returns when all are done. Returns false without running anything if the pool is
    /// already running a job (a nested or concurrent call).
    func run(workers: Int, _ job: @escaping (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        pthread_mutex_lock(mutex)
        while startedWorkers < workers - 1 {
            startedWorkers += 1
            startThread(index: startedWorkers)
        }
        pthread_mutex_unlock(mutex)

        self.job = job
        jobWorkers = workers
        // Every started worker checks in, even one this job does not need: then no worker
        // can still be reading `job` when the next call overwrites it.
        unfinished.store(startedWorkers, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(mutex)                 // wake the sleepers (under the lock, so
        pthread_cond_broadcast(jobPosted)         // none can miss it between check and sleep)
        pthread_mutex_unlock(mutex)

        job(0)

        let start = WorkerPool.now()
        while unfinished.load(ordering: .acquiring) > 0
                && WorkerPool.now() - start < WorkerPool.callerSpinSeconds {}
        if unfinished.load(ordering: .acquiring) > 0 {
            pthread_mutex_lock(mutex)
            while unfinished.load(ordering: .acquiring) > 0 { pthread_cond_wait(jobDone, mutex) }
            pthread_mutex_unlock(mutex)
        }
        self.job = nil
        busy.store(false, ordering: .releasing)
        return true
    }

    /// A worker's whole life: wait for a new generation, run its part, report, repeat.
    /// `seen` is the generation before the first job it must run.
    private func workerLoop(index: Int, seen firstSeen: Int) {
        var seen = firstSeen
        while true {
            // Watch for the next job for a moment, then sleep until one is posted.
            let start = WorkerPool.now()
            while generation.load(ordering: .acquiring) == seen
                    && WorkerPool.now() - start < WorkerPool.workerSpinSeconds {}
            if generation.load(ordering: .acquiring) == seen {
                pthread_mutex_lock(mutex)
                while generation.load(ordering: .acquiring) == seen {
                    pthread_cond_wait(jobPosted, mutex)
                }
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if index < jobWorkers, let job { job(index) }
            if unfinished.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(jobDone)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    private func startThread(index: Int) {
        // The thread may start running after the job is posted: tell it which generation
        // came before, so it does not skip the job.
        let start = WorkerStart(pool: self, index: index,
                                seen: generation.load(ordering: .acquiring))
        let context = Unmanaged.passRetained(start).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let status = pthread_create(&thread, nil, { context in
            #if canImport(Darwin)
            let start = Unmanaged<WorkerStart>.fromOpaque(context).takeRetainedValue()
            #else
            let start = Unmanaged<WorkerStart>.fromOpaque(context!).takeRetainedValue()
            #endif
            start.pool.workerLoop(index: start.index, seen: start.seen)
            return nil
        }, context)
        precondition(status == 0, "parallelFor: could not start a worker thread (\(status))")
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }

    /// Seconds on a monotonic clock (for the short waits).
    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    private final class WorkerStart {
        let pool: WorkerPool
        let index: Int
        let seen: Int
        init(pool: WorkerPool, index: Int, seen: Int) {
            self.pool = pool; self.index = index; self.seen = seen
        }
    }
}


/// Independent work over n items (values of a buffer, rows of a batch), cut into one
/// contiguous range per thread when there are at least `minimumPerThread` items per thread,
/// enough to pay for waking a second core (an optimizer step over a 100k-weight matrix: yes;
/// over a bias: no, it runs as one range on the calling thread). `body(range)` must touch
/// only the items in its own range.
public func parallelRanges(_ n: Int, minimumPerThread: Int = 32_768, _ body: (Range<Int>) -> Void) {
    let chunks = max(1, min(Threads.count, n / minimumPerThread))
    parallelFor(chunks) { chunk in body((chunk * n / chunks)..<((chunk + 1) * n / chunks)) }
}
