import COpenCL
import QuiverCore

/// An OpenCL context and one in-order command queue on a single device.
///
/// In-order execution gives ops their sequential meaning (an op sees the results of the ops
/// enqueued before it); host transfers are blocking, so host memory is never read after return.
/// OpenCL 1.2 handles are thread-safe, hence `@unchecked Sendable`.
final class OpenCLContext: @unchecked Sendable {
    let device: OpenCLDevice
    let context: cl_context
    let queue: cl_command_queue
    /// A 64-byte buffer bound to kernel arguments a launch does not read (absent bias, empty operands),
    /// so no kernel ever receives a NULL buffer.
    let dummy: cl_mem

    init(device: OpenCLDevice) throws {
        self.device = device
        var err: cl_int = 0
        var deviceID: cl_device_id? = device.deviceID
        var props: [cl_context_properties] = [
            cl_context_properties(CL_CONTEXT_PLATFORM), cl_context_properties(Int(bitPattern: device.platformID)), 0,
        ]
        guard let ctx = qclCreateContext(&props, 1, &deviceID, nil, nil, &err), err == CL_SUCCESS else {
            throw QuiverError.openCL(call: "clCreateContext", code: err, detail: "device \(device.name)")
        }
        guard let q = qclCreateCommandQueue(ctx, device.deviceID, 0, &err), err == CL_SUCCESS else {
            _ = qclReleaseContext(ctx)
            throw QuiverError.openCL(call: "clCreateCommandQueue", code: err, detail: "device \(device.name)")
        }
        guard let d = qclCreateBuffer(ctx, cl_mem_flags(CL_MEM_READ_WRITE), 64, nil, &err), err == CL_SUCCESS else {
            _ = qclReleaseCommandQueue(q)
            _ = qclReleaseContext(ctx)
            throw QuiverError.openCL(call: "clCreateBuffer", code: err, detail: "64-byte placeholder buffer")
        }
        context = ctx
        queue = q
        dummy = d
    }

    deinit {
        _ = qclFinish(queue)
        _ = qclReleaseMemObject(dummy)
        _ = qclReleaseCommandQueue(queue)
        _ = qclReleaseContext(context)
    }

    /// A new device buffer of `bytes` bytes (> 0), filled with zeros.
    func allocateZeroed(bytes: Int) throws -> cl_mem {
        var err: cl_int = 0
        guard let mem = qclCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &err), err == CL_SUCCESS else {
            throw QuiverError.openCL(call: "clCreateBuffer", code: err, detail: "\(bytes) bytes on \(device.name)")
        }
        var zero: UInt8 = 0
        let st = qclEnqueueFillBuffer(queue, mem, &zero, 1, 0, bytes, 0, nil, nil)
        if st != CL_SUCCESS {
            _ = qclReleaseMemObject(mem)
            throw QuiverError.openCL(call: "clEnqueueFillBuffer", code: st, detail: "zeroing \(bytes) bytes")
        }
        return mem
    }

    func finish() throws {
        try CL.check(qclFinish(queue), "clFinish")
    }
}
