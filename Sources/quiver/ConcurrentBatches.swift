import ArgumentParser
import QuiverRuntime

/// `--concurrent-batches auto|N` of `serve` and `bench`: how many batches run at once, and how
/// many threads a CPU backend gives each.
///
/// On the CPU, `auto` runs one single-threaded batch per core: on 2 cores that measured 1.9x the
/// throughput of one batch on both cores at 1 row per batch, 1.3x at 8 rows and 1.1x at 16 (a
/// small batch's GEMMs barely use a second OpenBLAS thread, and the threads of one GEMM wait for
/// each other), at about the same latency for a single request. The OpenCL backend runs one
/// batch at a time (one in-order command queue).
struct ConcurrentBatches {
    /// Batches at once on the CPU backend (OpenCL: 1).
    var cpuBatches: Int
    /// Threads of the CPU backend: every core shared among the batches.
    var cpuThreads: Int

    /// - Parameters: flag: `auto` (or nil) or a positive count; cores: the CPU's threads.
    static func resolve(_ flag: String?, cores: Int) throws -> ConcurrentBatches {
        let cores = max(1, cores)
        let batches: Int
        switch flag?.lowercased() {
        case nil, "auto": batches = cores
        case let text?:
            guard let n = Int(text), n >= 1 else {
                throw ValidationError("--concurrent-batches must be auto or a positive count, got \(text)")
            }
            batches = n
        }
        return ConcurrentBatches(cpuBatches: batches, cpuThreads: max(1, cores / batches))
    }

    /// Batches at once for `backend`.
    func batches(on backend: any ComputeBackend) -> Int {
        backend.device.backend == "cpu" ? cpuBatches : 1
    }
}
