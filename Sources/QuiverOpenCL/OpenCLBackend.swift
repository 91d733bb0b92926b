import COpenCL
import Foundation
import QuiverCore
import QuiverKernels

/// `ComputeBackend` on one OpenCL device (GPUs; PoCL on CPUs).
///
/// Ops are enqueued on one in-order queue and run asynchronously; `download` and `synchronize`
/// wait. Kernels are compiled lazily per (family, `-D` options) and cached in memory and on disk
/// (`programCache`). Tensors larger than the device's maximum allocation are split along their
/// first axis into several buffers, and every op iterates over chunk-aligned pieces.
/// Thread-safe: the queue and program cache are shared, kernel launches are serialized per kernel.
public final class OpenCLBackend: ComputeBackend, @unchecked Sendable {
    public struct Options: Sendable {
        /// Split tensors above this many bytes instead of the device's `CL_DEVICE_MAX_MEM_ALLOC_SIZE`
        /// (only ever lowers it; for tests of the splitting paths).
        public var maxAllocationBytes: UInt64?
        /// Where compiled program binaries are kept. nil → `$QUIVER_CACHE_DIR/kernels`, else
        /// `$XDG_CACHE_HOME/quiver/kernels`, else `~/.cache/quiver/kernels`.
        public var cacheDirectory: String?
        /// false: keep programs in memory only.
        public var diskCache: Bool
        /// Kernel tile sizes and work-group sizes; nil → `KernelConfig.defaults(for:)`.
        public var kernels: KernelConfig?

        public init(maxAllocationBytes: UInt64? = nil, cacheDirectory: String? = nil, diskCache: Bool = true,
                    kernels: KernelConfig? = nil) {
            self.maxAllocationBytes = maxAllocationBytes
            self.cacheDirectory = cacheDirectory
            self.diskCache = diskCache
            self.kernels = kernels
        }

        /// The cache directory used when `cacheDirectory` is nil (nil when no location is known).
        public static func defaultCacheDirectory() -> String? {
            let env = ProcessInfo.processInfo.environment
            if let dir = env["QUIVER_CACHE_DIR"], !dir.isEmpty { return (dir as NSString).appendingPathComponent("kernels") }
            if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return (xdg as NSString).appendingPathComponent("quiver/kernels") }
            if let home = env["HOME"], !home.isEmpty { return (home as NSString).appendingPathComponent(".cache/quiver/kernels") }
            return nil
        }
    }

    /// The OpenCL device this backend runs on.
    public let openCLDevice: OpenCLDevice
    public let device: DeviceInfo
    /// Compiled programs (memory + disk); `programCache.stats` counts hits and builds.
    public let programCache: ProgramCache
    /// The kernel configuration in use.
    public let kernelConfig: KernelConfig
    /// Largest single buffer, bytes (the device limit, or the lower `Options.maxAllocationBytes`).
    public let maxAllocationBytes: UInt64

    let context: OpenCLContext
    /// Whether `kernelConfig` came from the caller (then it is used as given, never shrunk).
    let customConfig: Bool

    public init(device: OpenCLDevice, options: Options = .init()) throws {
        try CL.ensureLoaded()
        openCLDevice = device
        context = try OpenCLContext(device: device)
        var maxAlloc = device.maxAllocationBytes
        if let limit = options.maxAllocationBytes {
            guard limit > 0 else { throw QuiverError.invalidArgument("OpenCLBackend: maxAllocationBytes must be > 0") }
            maxAlloc = min(maxAlloc, limit)
        }
        maxAllocationBytes = maxAlloc
        customConfig = options.kernels != nil
        let config = options.kernels ?? KernelConfig.defaults(for: device)
        try config.gemm.validate()
        kernelConfig = config
        let dir = options.diskCache ? (options.cacheDirectory ?? Options.defaultCacheDirectory()) : nil
        programCache = ProgramCache(context: context, directory: dir)
        self.device = DeviceInfo(
            backend: "opencl", name: device.name, kind: device.type, computeUnits: device.computeUnits,
            globalMemoryBytes: device.globalMemoryBytes, maxAllocationBytes: maxAlloc,
            details: [
                ("platform", "\(device.platformName) (\(device.platformVersion))"),
                ("driver", device.driverVersion),
                ("OpenCL C", device.openCLCVersion),
                ("fp16", device.supportsFP16 ? "cl_khr_fp16 (Quiver uses f16 as storage only)" : "storage only (no cl_khr_fp16)"),
                ("local memory", "\(device.localMemoryBytes / 1024) KB"),
                ("max work-group", "\(device.maxWorkGroupSize)"),
                ("kernel cache", dir ?? "memory only"),
            ])
    }

    /// Program cache counters: memory hits, disk hits, source builds.
    public var cacheStats: ProgramCache.Stats { programCache.stats }

    // MARK: - Buffers

    public func buffer(_ shape: Shape, _ dtype: DType) throws -> DeviceTensor {
        guard shape.dims.allSatisfy({ $0 >= 0 }) else {
            throw QuiverError.invalidArgument("buffer: shape \(shape) has a negative dimension")
        }
        return try OpenCLTensor(shape: shape, dtype: dtype, context: context, maxAllocationBytes: maxAllocationBytes)
    }

    public func upload(_ host: Tensor, to tensor: DeviceTensor) throws {
        let t = try cl(tensor, "upload")
        try OpChecks.transfer("upload", host: host, device: t)
        let size = t.dtype.size
        for chunk in t.chunks {
            let st = qclEnqueueWriteBuffer(context.queue, chunk.mem, cl_bool(CL_TRUE), 0, chunk.elementCount * size,
                                           host.storage.pointer + chunk.elementStart * size, 0, nil, nil)
            try CL.check(st, "clEnqueueWriteBuffer", "upload of \(t.shape) \(t.dtype)")
        }
    }

    public func download(_ tensor: DeviceTensor) throws -> Tensor {
        let t = try cl(tensor, "download")
        let host = Tensor(zeros: t.shape, t.dtype)
        let size = t.dtype.size
        for chunk in t.chunks {
            let st = qclEnqueueReadBuffer(context.queue, chunk.mem, cl_bool(CL_TRUE), 0, chunk.elementCount * size,
                                          host.storage.pointer + chunk.elementStart * size, 0, nil, nil)
            try CL.check(st, "clEnqueueReadBuffer", "download of \(t.shape) \(t.dtype)")
        }
        return host
    }

    public func synchronize() throws {
        try context.finish()
    }

    // MARK: - Helpers for the op files

    /// `t` as a tensor of this backend, or `foreignTensor`.
    func cl(_ t: DeviceTensor, _ op: String) throws -> OpenCLTensor {
        guard let c = t as? OpenCLTensor, c.context === context else {
            throw QuiverError.foreignTensor(op: op, backend: "opencl")
        }
        return c
    }

    func kernel(_ family: KernelSources.Family, _ defines: String, _ name: String) throws -> CLKernel {
        try programCache.program(family, defines: defines).kernel(name)
    }

    /// A 1-D launch of `count` items with grid-stride kernels: the number of work-groups is capped
    /// (32 per compute unit), the kernel loops over the rest.
    func launchGridStride(_ k: CLKernel, args: [KernelArg], count: Int, groupSize: Int) throws {
        let wg = min(groupSize, k.workGroupSize)
        let groups = min((count + wg - 1) / wg, max(openCLDevice.computeUnits, 1) * 32)
        try KernelLauncher.launch(k, on: context, args: args, global: [groups * wg], local: [wg])
    }
}

extension Activation {
    /// The `ACT` code shared by gemm.cl and elementwise.cl.
    var kernelCode: Int {
        switch self {
        case .identity: 0
        case .relu: 1
        case .gelu: 2
        case .geluTanh: 3
        case .sigmoid: 4
        case .tanh: 5
        }
    }
}
