import Dispatch

/// Splits a loop over `count` independent items into at most `threads` contiguous chunks and runs
/// them with `DispatchQueue.concurrentPerform`. Work too small to pay for a dispatch runs inline.
struct Parallel: Sendable {
    let threads: Int

    /// Rough number of simple float operations below which a chunk is not worth a task (~10 µs).
    static let minWorkPerTask = 1 << 15

    /// Calls `body` on disjoint ranges that cover `0..<count`, possibly concurrently.
    /// `costPerItem` is an estimate of the float operations one item needs.
    func forEach(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let (total, overflow) = count.multipliedReportingOverflow(by: max(costPerItem, 1))
        let worth = overflow ? Int.max : total / Parallel.minWorkPerTask
        let tasks = min(threads, count, max(worth, 1))
        guard tasks > 1 else { return body(0..<count) }
        let base = count / tasks, extra = count % tasks
        withoutActuallyEscaping(body) { body in
            // The chunks are disjoint and `concurrentPerform` returns only after all of them ran,
            // so sharing the (pointer-capturing) body across its threads is safe.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: tasks) { t in
                let lower = t * base + min(t, extra)
                body(lower..<(lower + base + (t < extra ? 1 : 0)))
            }
        }
    }
}
