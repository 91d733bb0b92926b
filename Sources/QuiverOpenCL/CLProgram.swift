import COpenCL
import Foundation
import QuiverCore

/// A built OpenCL program (one kernel family compiled with one set of `-D` options) and the
/// kernel objects created from it, created on first use and kept for the program's lifetime.
final class CLProgram: @unchecked Sendable {
    let handle: cl_program
    let family: String
    let options: String
    private let deviceID: cl_device_id
    private let lock = NSLock()
    private var kernels: [String: CLKernel] = [:]

    init(handle: cl_program, family: String, options: String, deviceID: cl_device_id) {
        self.handle = handle
        self.family = family
        self.options = options
        self.deviceID = deviceID
    }

    deinit {
        kernels.removeAll()
        _ = qclReleaseProgram(handle)
    }

    /// The kernel `name` of this program (created once, then shared).
    func kernel(_ name: String) throws -> CLKernel {
        try lock.withLock {
            if let k = kernels[name] { return k }
            var err: cl_int = 0
            guard let k = qclCreateKernel(handle, name, &err), err == CL_SUCCESS else {
                throw QuiverError.openCL(call: "clCreateKernel", code: err, detail: "kernel \(name) of \(family).cl (\(options))")
            }
            var wg = 0
            var localMem: cl_ulong = 0
            var st = qclGetKernelWorkGroupInfo(k, deviceID, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE), MemoryLayout<Int>.size, &wg, nil)
            if st == CL_SUCCESS {
                st = qclGetKernelWorkGroupInfo(k, deviceID, cl_kernel_work_group_info(CL_KERNEL_LOCAL_MEM_SIZE), MemoryLayout<cl_ulong>.size, &localMem, nil)
            }
            guard st == CL_SUCCESS else {
                _ = qclReleaseKernel(k)
                throw QuiverError.openCL(call: "clGetKernelWorkGroupInfo", code: st, detail: "kernel \(name) of \(family).cl")
            }
            let kernel = CLKernel(handle: k, name: "\(family).\(name)", workGroupSize: wg, localMemoryBytes: localMem)
            kernels[name] = kernel
            return kernel
        }
    }
}

/// One kernel object. `clSetKernelArg` + enqueue must not interleave between threads on the same
/// kernel object, so launches hold `lock` (see `KernelLauncher`).
final class CLKernel: @unchecked Sendable {
    let handle: cl_kernel
    /// "family.kernel", for error messages.
    let name: String
    /// `CL_KERNEL_WORK_GROUP_SIZE`: the largest work-group this compiled kernel can run with.
    let workGroupSize: Int
    /// `CL_KERNEL_LOCAL_MEM_SIZE`: statically allocated local memory, bytes.
    let localMemoryBytes: UInt64
    let lock = NSLock()

    init(handle: cl_kernel, name: String, workGroupSize: Int, localMemoryBytes: UInt64) {
        self.handle = handle
        self.name = name
        self.workGroupSize = workGroupSize
        self.localMemoryBytes = localMemoryBytes
    }

    deinit { _ = qclReleaseKernel(handle) }
}

/// FNV-1a, 64-bit: the disk-cache key and the integrity check of cached binaries.
/// Not cryptographic; it only has to make accidental collisions and corruption unlikely.
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add<S: Sequence>(bytes: S) where S.Element == UInt8 {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    /// Adds a string followed by a NUL separator, so ("ab","c") and ("a","bc") differ.
    mutating func add(_ s: String) {
        add(bytes: s.utf8)
        add(bytes: CollectionOfOne(UInt8(0)))
    }

    static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = FNV1a64()
        h.add(bytes: bytes)
        return h.value
    }

    var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
