import COpenCL
import QuiverCore

/// One kernel argument, in the kernel's parameter order.
enum KernelArg {
    /// A `__global` buffer.
    case mem(cl_mem)
    /// An `int` (32-bit); host values must fit (launch sizes are kept below 2^31).
    case int(Int)
    /// A `ulong` (64-bit), used for element offsets into buffers.
    case ulong(Int)
    /// A `float`.
    case float(Float)
}

/// Sets arguments and enqueues NDRanges. Global sizes are rounded up to multiples of the local
/// size (PoCL 3.1 has no non-uniform work-groups), so every kernel bounds-checks its indices.
enum KernelLauncher {
    /// Enqueues `kernel` over `global` work-items (per dimension, before padding) in work-groups
    /// of `local`. Does nothing when any global size is 0.
    static func launch(_ kernel: CLKernel, on context: OpenCLContext, args: [KernelArg], global: [Int], local: [Int]) throws {
        guard global.count == local.count, !global.isEmpty, local.allSatisfy({ $0 > 0 }) else {
            throw QuiverError.invalidArgument("internal: bad NDRange for \(kernel.name): global \(global), local \(local)")
        }
        guard global.allSatisfy({ $0 > 0 }) else { return }
        let groupSize = local.reduce(1, *)
        guard groupSize <= kernel.workGroupSize else {
            throw QuiverError.invalidArgument(
                "OpenCL kernel \(kernel.name) needs work-groups of \(groupSize) work-items but the device allows "
                    + "\(kernel.workGroupSize) for it (CL_KERNEL_WORK_GROUP_SIZE); choose a smaller kernel configuration")
        }
        let padded = zip(global, local).map { g, l in (g + l - 1) / l * l }
        try kernel.lock.withLock {
            for (i, arg) in args.enumerated() {
                try set(kernel, UInt32(i), arg)
            }
            let st = padded.withUnsafeBufferPointer { g in
                local.withUnsafeBufferPointer { l in
                    qclEnqueueNDRangeKernel(context.queue, kernel.handle, cl_uint(g.count), nil, g.baseAddress, l.baseAddress, 0, nil, nil)
                }
            }
            try CL.check(st, "clEnqueueNDRangeKernel", "\(kernel.name), global \(padded), local \(local)")
        }
    }

    private static func set(_ kernel: CLKernel, _ index: UInt32, _ arg: KernelArg) throws {
        let st: cl_int
        switch arg {
        case .mem(let m):
            var v: cl_mem? = m
            st = qclSetKernelArg(kernel.handle, index, MemoryLayout<cl_mem?>.size, &v)
        case .int(let i):
            guard let narrow = Int32(exactly: i) else {
                throw QuiverError.invalidArgument("\(kernel.name): argument \(index) = \(i) does not fit a 32-bit int")
            }
            var v = narrow
            st = qclSetKernelArg(kernel.handle, index, 4, &v)
        case .ulong(let u):
            var v = UInt64(max(u, 0))
            st = qclSetKernelArg(kernel.handle, index, 8, &v)
        case .float(let f):
            var v = f
            st = qclSetKernelArg(kernel.handle, index, 4, &v)
        }
        try CL.check(st, "clSetKernelArg", "\(kernel.name), argument \(index)")
    }
}
