import Foundation

/// Coordinates OpenBLAS's process-wide thread count between ops that may run concurrently.
///
/// Big GEMMs want OpenBLAS's own threads. Attention instead runs many small sgemm calls from its
/// own `concurrentPerform` tasks, and those must be single-threaded inside OpenBLAS: two callers
/// that each ask OpenBLAS for 2 threads on 2 cores were measured 5-80x slower than two callers with
/// 1 thread each (they wait on each other's pool thread and its spinning). OpenBLAS 0.3.21 has no
/// per-call thread count, so sections that need 1 thread are counted here, and the count is put
/// back when the last one ends. (Changing the count only writes an int inside OpenBLAS once its
/// pool exists, so it is safe while another thread is inside a BLAS call; at worst that call runs
/// with the other count.)
final class BLASThreads: @unchecked Sendable {
    static let shared = BLASThreads()

    private let lock = NSLock()
    private var singleThreadedSections = 0

    /// Before a large sgemm: use `threads` unless a single-threaded section is running.
    func prepareForGemm(threads: Int) {
        lock.lock()
        defer { lock.unlock() }
        if singleThreadedSections == 0, OpenBLAS.threads != threads { OpenBLAS.setThreads(threads) }
    }

    /// Runs `body` with OpenBLAS single-threaded (the caller parallelizes), then restores `threads`.
    func singleThreaded<R>(restoring threads: Int, _ body: () throws -> R) rethrows -> R {
        lock.lock()
        singleThreadedSections += 1
        if OpenBLAS.threads != 1 { OpenBLAS.setThreads(1) }
        lock.unlock()
        defer {
            lock.lock()
            singleThreadedSections -= 1
            if singleThreadedSections == 0 { OpenBLAS.setThreads(threads) }
            lock.unlock()
        }
        return try body()
    }
}
