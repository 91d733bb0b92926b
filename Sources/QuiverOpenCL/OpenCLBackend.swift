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
        /// Kernel tile sizes and work-group sizes, used as given; nil → the device's entry in the
        /// tuning cache (`tuning`), else `KernelConfig.defaults(for:)`.
        public var kernels: KernelConfig?
        /// Where tuned kernel parameters are read from when `kernels` is nil.
        public var tuning: TuningSource

        public init(maxAllocationBytes: UInt64? = nil, cacheDirectory: String? = nil, diskCache: Bool = true,
                    kernels: KernelConfig? = nil, tuning: TuningSource = .automatic) {
            self.maxAllocationBytes = maxAllocationBytes
            self.cacheDirectory = cacheDirectory
            self.diskCache = diskCache
            self.kernels = kernels
            self.tuning = tuning
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
    /// Where `kernelConfig` came from (tuning cache, defaults, caller).
    public let tuningStatus: TuningStatus
    /// Largest single buffer, bytes (the device limit, or the lower `Options.maxAllocationBytes`).
    public let maxAllocationBytes: UInt64

    let context: OpenCLContext
    /// Whether `kernelConfig` came from the caller (then it is used as given, never shrunk).
    let customConfig: Bool
    /// Appended to every program's `-D` list (a test seam for the tuner: a corrupting define).
    let extraDefines: String

    public convenience init(device: OpenCLDevice, options: Options = .init()) throws {
        try CL.ensureLoaded()
        let context = try OpenCLContext(device: device)
        var maxAlloc = device.maxAllocationBytes
        if let limit = options.maxAllocationBytes {
            guard limit > 0 else { throw QuiverError.invalidArgument("OpenCLBackend: maxAllocationBytes must be > 0") }
            maxAlloc = min(maxAlloc, limit)
        }
        let config: KernelConfig
        let status: TuningStatus
        if let given = options.kernels {
            (config, status) = (given, .callerConfig)
        } else {
            let tuned = options.tuning.cache.map { $0.resolve(for: device) } ?? (nil, .untuned(cache: nil))
            (config, status) = (tuned.kernels?.applied(to: KernelConfig.defaults(for: device)) ?? KernelConfig.defaults(for: device),
                                tuned.status)
        }
        try config.gemm.validate()
        let dir = options.diskCache ? (options.cacheDirectory ?? Options.defaultCacheDirectory()) : nil
        self.init(context: context, programCache: ProgramCache(context: context, directory: dir), maxAllocationBytes: maxAlloc,
                  kernelConfig: config, customConfig: options.kernels != nil, tuningStatus: status, extraDefines: "")
    }

    private init(context: OpenCLContext, programCache: ProgramCache, maxAllocationBytes: UInt64, kernelConfig: KernelConfig,
                 customConfig: Bool, tuningStatus: TuningStatus, extraDefines: String) {
        let device = context.device
        openCLDevice = device
        self.context = context
        self.programCache = programCache
        self.maxAllocationBytes = maxAllocationBytes
        self.kernelConfig = kernelConfig
        self.customConfig = customConfig
        self.tuningStatus = tuningStatus
        self.extraDefines = extraDefines
        self.device = DeviceInfo(
            backend: "opencl", name: device.name, kind: device.type, computeUnits: device.computeUnits,
            globalMemoryBytes: device.globalMemoryBytes, maxAllocationBytes: maxAllocationBytes,
            details: [
                ("platform", "\(device.platformName) (\(device.platformVersion))"),
                ("driver", device.driverVersion),
                ("OpenCL C", device.openCLCVersion),
                ("fp16", device.supportsFP16 ? "cl_khr_fp16 (Quiver uses f16 as storage only)" : "storage only (no cl_khr_fp16)"),
                ("local memory", "\(device.localMemoryBytes / 1024) KB"),
                ("max work-group", "\(device.maxWorkGroupSize)"),
                ("kernel cache", programCache.directory ?? "memory only"),
                ("tuning", tuningStatus.summary),
            ])
    }

    /// A backend on the same context, queue and program cache that runs `kernels` exactly as
    /// given (no fallbacks), so tensors of either backend work on both. For the tuner: one
    /// variant per kernel configuration without re-uploading its inputs. `extraDefines` is
    /// appended to every program's options (tests inject a corrupting define through it).
    package func variant(kernels: KernelConfig, extraDefines: String = "") throws -> OpenCLBackend {
        try kernels.gemm.validate()
        try kernels.topK.validate()
        return OpenCLBackend(context: context, programCache: programCache, maxAllocationBytes: maxAllocationBytes,
                             kernelConfig: kernels, customConfig: true, tuningStatus: .callerConfig, extraDefines: extraDefines)
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
        try programCache.program(family, defines: extraDefines.isEmpty ? defines : defines + " " + extraDefines).kernel(name)
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
