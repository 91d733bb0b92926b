/// Every error Quiver reports. Messages say what went wrong, where, and what to do about it.
public enum QuiverError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Operand shapes do not fit together: `op`, then a sentence naming the shapes.
    case shapeMismatch(op: String, detail: String)
    /// An operand has a dtype the op does not take.
    case unsupportedDType(op: String, operand: String, dtype: DType, expected: [DType])
    /// An argument is out of range or inconsistent.
    case invalidArgument(String)
    /// A tensor made by one backend was passed to another.
    case foreignTensor(op: String, backend: String)
    /// The requested backend or device cannot be used; `hint` says how to fix it.
    case backendUnavailable(String, hint: String)
    /// An OpenCL call failed.
    case openCL(call: String, code: Int32, detail: String)
    /// An OpenCL kernel failed to compile; `log` is the compiler's build log.
    case kernelBuild(kernel: String, options: String, log: String)
    /// Reading or writing a file failed.
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, detail):
            return "\(op): shape mismatch: \(detail)"
        case let .unsupportedDType(op, operand, dtype, expected):
            let list = expected.map(\.rawValue).joined(separator: " or ")
            return "\(op): \(operand) has dtype \(dtype), expected \(list)"
        case let .invalidArgument(message):
            return message
        case let .foreignTensor(op, backend):
            return "\(op): a tensor from another backend was passed to the \(backend) backend; "
                + "create tensors with the backend that runs the op"
        case let .backendUnavailable(message, hint):
            return hint.isEmpty ? message : "\(message). \(hint)"
        case let .openCL(call, code, detail):
            let name = OpenCLStatus.name(code)
            return "\(call) failed with \(name) (\(code))" + (detail.isEmpty ? "" : ": \(detail)")
        case let .kernelBuild(kernel, options, log):
            return "OpenCL kernel \(kernel) failed to compile with options '\(options)':\n\(log)"
        case let .io(path, detail):
            return "\(path): \(detail)"
        }
    }
}

/// Names for OpenCL status codes, so errors read `CL_MEM_OBJECT_ALLOCATION_FAILURE`, not `-4`.
public enum OpenCLStatus {
    public static func name(_ code: Int32) -> String {
        switch code {
        case -1: "CL_DEVICE_NOT_FOUND"
        case -2: "CL_DEVICE_NOT_AVAILABLE"
        case -3: "CL_COMPILER_NOT_AVAILABLE"
        case -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case -5: "CL_OUT_OF_RESOURCES"
        case -6: "CL_OUT_OF_HOST_MEMORY"
        case -11: "CL_BUILD_PROGRAM_FAILURE"
        case -30: "CL_INVALID_VALUE"
        case -33: "CL_INVALID_DEVICE"
        case -34: "CL_INVALID_CONTEXT"
        case -36: "CL_INVALID_COMMAND_QUEUE"
        case -38: "CL_INVALID_MEM_OBJECT"
        case -42: "CL_INVALID_BINARY"
        case -44: "CL_INVALID_PROGRAM"
        case -45: "CL_INVALID_PROGRAM_EXECUTABLE"
        case -46: "CL_INVALID_KERNEL_NAME"
        case -48: "CL_INVALID_KERNEL"
        case -49: "CL_INVALID_ARG_INDEX"
        case -50: "CL_INVALID_ARG_VALUE"
        case -51: "CL_INVALID_ARG_SIZE"
        case -52: "CL_INVALID_KERNEL_ARGS"
        case -54: "CL_INVALID_WORK_GROUP_SIZE"
        case -55: "CL_INVALID_WORK_ITEM_SIZE"
        case -61: "CL_INVALID_BUFFER_SIZE"
        case -63: "CL_INVALID_GLOBAL_WORK_SIZE"
        case -1001: "CL_PLATFORM_NOT_FOUND_KHR"
        default: "OpenCL error"
        }
    }
}
