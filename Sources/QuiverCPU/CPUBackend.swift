import Foundation
import QuiverCore

/// The CPU backend: OpenBLAS `sgemm` for matrix products, vectorized Swift (SIMD16) for everything
/// else, split over `threads` cores with `DispatchQueue.concurrentPerform`. Ops run synchronously:
/// when an op returns its output is ready, so `synchronize()` has nothing to wait for.
///
/// OpenBLAS's thread count is process-wide: `init` sets it to `threads`, and `gemm` sets it back
/// when another backend instance changed it.
public final class CPUBackend: ComputeBackend {
    /// Threads used by every op (OpenBLAS and Swift loops alike).
    public let threads: Int
    public let device: DeviceInfo
    let parallel: Parallel
    /// Memory of released tensors, reused by `buffer` (see `CPUBufferPool`).
    let pool: CPUBufferPool

    /// - Parameter threads: cores to use; nil means `QUIVER_THREADS` when it is set to a positive
    ///   integer, else all active cores. Values below 1 mean 1.
    public init(threads: Int? = nil) {
        let n = max(threads ?? HostInfo.defaultThreads(), 1)
        self.threads = n
        parallel = Parallel(threads: n)
        BLASThreads.shared.prepareForGemm(threads: n)
        let memory = HostInfo.physicalMemory
        pool = CPUBufferPool(capacity: Int(min(memory / 16, 1 << 29)))
        device = DeviceInfo(
            backend: "cpu",
            name: HostInfo.cpuinfo().flatMap(HostInfo.modelName(cpuinfo:)) ?? "CPU",
            kind: .cpu,
            computeUnits: n,
            globalMemoryBytes: memory,
            maxAllocationBytes: memory,
            details: [
                ("threads", String(n)),
                ("openblas core", OpenBLAS.coreName),
                ("openblas config", OpenBLAS.config),
                ("openblas threads", String(OpenBLAS.threads)),
            ])
    }

    /// Threads a backend made with `threads: nil` uses: `QUIVER_THREADS` when it is set to a
    /// positive integer, else the active processor count.
    public static func defaultThreads(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        HostInfo.defaultThreads(environment: environment)
    }

    /// `tensor` as a CPUTensor, or `QuiverError.foreignTensor`.
    func cpu(_ tensor: DeviceTensor, _ op: String) throws -> CPUTensor {
        guard let t = tensor as? CPUTensor else { throw QuiverError.foreignTensor(op: op, backend: "cpu") }
        return t
    }

    // MARK: buffers and transfers

    /// A new zero-filled tensor, possibly in memory a released tensor used before (see
    /// `CPUBufferPool`). Throws for negative dimensions or more bytes than the host has.
    public func buffer(_ shape: Shape, _ dtype: DType) throws -> DeviceTensor {
        try buffer(shape, dtype, zeroed: true)
    }

    /// As `buffer`, without the zero fill when the memory is reused.
    public func uninitializedBuffer(_ shape: Shape, _ dtype: DType) throws -> DeviceTensor {
        try buffer(shape, dtype, zeroed: false)
    }

    private func buffer(_ shape: Shape, _ dtype: DType, zeroed: Bool) throws -> DeviceTensor {
        var count = 1, overflow = false
        for d in shape.dims {
            guard d >= 0 else { throw QuiverError.invalidArgument("buffer: shape \(shape) has a negative dimension") }
            if !overflow { (count, overflow) = count.multipliedReportingOverflow(by: d) }
        }
        let (bytes, bytesOverflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, !bytesOverflow, UInt64(bytes) <= device.maxAllocationBytes else {
            throw QuiverError.invalidArgument(
                "buffer: \(shape) \(dtype) needs more than the \(device.maxAllocationBytes) bytes of host memory; use a smaller batch or tile")
        }
        return CPUTensor(shape: shape, dtype: dtype, storage: pool.storage(bytes: bytes, zeroed: zeroed), pool: pool)
    }

    public func upload(_ host: Tensor, to tensor: DeviceTensor) throws {
        try OpChecks.transfer("upload", host: host, device: tensor)
        let t = try cpu(tensor, "upload")
        guard host.storage.byteCount >= host.byteCount else {
            throw QuiverError.invalidArgument(
                "upload: host tensor \(host.shape) \(host.dtype) needs \(host.byteCount) bytes but its storage holds \(host.storage.byteCount)")
        }
        host.withUnsafeBytes { src in
            if let base = src.baseAddress, !src.isEmpty { t.data.copyMemory(from: base, byteCount: src.count) }
        }
    }

    public func download(_ tensor: DeviceTensor) throws -> Tensor {
        let t = try cpu(tensor, "download")
        let host = Tensor(zeros: t.shape, t.dtype)
        host.withUnsafeMutableBytes { dst in
            if let base = dst.baseAddress, !dst.isEmpty { base.copyMemory(from: t.data, byteCount: dst.count) }
        }
        return host
    }

    /// f32 ↔ f16 with round-to-nearest-even (Swift `Float16`), or a copy when the dtypes match.
    public func convert(_ x: DeviceTensor, into out: DeviceTensor) throws {
        try OpChecks.convert(x, out: out)
        let (tx, to) = (try cpu(x, "convert"), try cpu(out, "convert"))
        let count = tx.shape.count
        switch (tx.dtype, to.dtype) {
        case (.f32, .f16):
            let (src, dst) = (tx.floats, to.halves)
            parallel.forEach(count, costPerItem: 4) { r in
                for i in r { dst[i] = Float16(src[i]) }
            }
        case (.f16, .f32):
            let (src, dst) = (tx.halves, to.floats)
            parallel.forEach(count, costPerItem: 4) { r in
                for i in r { dst[i] = Float(src[i]) }
            }
        default:
            if tx !== to { to.data.copyMemory(from: tx.data, byteCount: tx.byteCount) }
        }
    }

    /// A tensor over `host`'s bytes, no copy: a memory-mapped catalog is scored in place.
    public func view(_ host: Tensor) -> DeviceTensor? {
        guard host.storage.byteCount >= host.byteCount else { return nil }
        return CPUTensor(shape: host.shape, dtype: host.dtype, sharing: host.storage)
    }

    /// Nothing to wait for: every op finishes before it returns.
    public func synchronize() throws {}
}
