import COpenCL
import QuiverCore

/// Small helpers shared by the OpenCL host code: status checks and typed `clGet*Info` queries.
///
/// Every failing OpenCL call becomes `QuiverError.openCL(call:code:detail:)`; nothing here traps.
enum CL {
    /// Throws `QuiverError.openCL` unless `code` is `CL_SUCCESS`.
    @inline(__always)
    static func check(_ code: cl_int, _ call: @autoclosure () -> String, _ detail: @autoclosure () -> String = "") throws {
        if code != CL_SUCCESS {
            throw QuiverError.openCL(call: call(), code: code, detail: detail())
        }
    }

    /// Loads libOpenCL (once) or throws `backendUnavailable` with install hints.
    static func ensureLoaded() throws {
        let status = OpenCLDiscovery.loaderStatus()
        guard status.loaded else {
            throw QuiverError.backendUnavailable(
                "OpenCL loader (libOpenCL.so.1) not found: \(status.reason)",
                hint: "install ocl-icd-libopencl1 and a driver (pocl-opencl-icd for CPUs); in containers also check /etc/OpenCL/vendors/*.icd")
        }
    }

    // MARK: - Info queries

    /// Reads a variable-size info value through a `clGetXxxInfo`-shaped function.
    static func infoBytes(_ call: String, _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) throws -> [UInt8] {
        var size = 0
        try check(query(0, nil, &size), call, "querying the size")
        var bytes = [UInt8](repeating: 0, count: max(size, 1))
        try bytes.withUnsafeMutableBytes { raw in
            try check(query(size, raw.baseAddress, nil), call)
        }
        return Array(bytes.prefix(size))
    }

    /// Decodes a NUL-terminated C string result, trimming trailing NULs and spaces.
    static func string(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self).trimmingSpaces()
    }

    static func deviceString(_ d: cl_device_id, _ param: Int32) throws -> String {
        string(try infoBytes("clGetDeviceInfo(\(paramName(param)))") { qclGetDeviceInfo(d, cl_device_info(param), $0, $1, $2) })
    }

    static func platformString(_ p: cl_platform_id, _ param: Int32) throws -> String {
        string(try infoBytes("clGetPlatformInfo(\(paramName(param)))") { qclGetPlatformInfo(p, cl_platform_info(param), $0, $1, $2) })
    }

    /// A fixed-size scalar device info value (cl_uint, cl_ulong, size_t, cl_bitfield).
    static func deviceValue<T: FixedWidthInteger>(_ d: cl_device_id, _ param: Int32, as: T.Type = T.self) throws -> T {
        var value: T = 0
        try check(qclGetDeviceInfo(d, cl_device_info(param), MemoryLayout<T>.size, &value, nil),
                  "clGetDeviceInfo(\(paramName(param)))")
        return value
    }

    /// Human-readable names for the info parameters used in error messages.
    static func paramName(_ param: Int32) -> String {
        switch param {
        case CL_DEVICE_NAME: "CL_DEVICE_NAME"
        case CL_DEVICE_VENDOR: "CL_DEVICE_VENDOR"
        case CL_DEVICE_VERSION: "CL_DEVICE_VERSION"
        case CL_DRIVER_VERSION: "CL_DRIVER_VERSION"
        case CL_DEVICE_OPENCL_C_VERSION: "CL_DEVICE_OPENCL_C_VERSION"
        case CL_DEVICE_EXTENSIONS: "CL_DEVICE_EXTENSIONS"
        case CL_DEVICE_TYPE: "CL_DEVICE_TYPE"
        case CL_DEVICE_MAX_COMPUTE_UNITS: "CL_DEVICE_MAX_COMPUTE_UNITS"
        case CL_DEVICE_GLOBAL_MEM_SIZE: "CL_DEVICE_GLOBAL_MEM_SIZE"
        case CL_DEVICE_MAX_MEM_ALLOC_SIZE: "CL_DEVICE_MAX_MEM_ALLOC_SIZE"
        case CL_DEVICE_LOCAL_MEM_SIZE: "CL_DEVICE_LOCAL_MEM_SIZE"
        case CL_DEVICE_MAX_WORK_GROUP_SIZE: "CL_DEVICE_MAX_WORK_GROUP_SIZE"
        case CL_PLATFORM_NAME: "CL_PLATFORM_NAME"
        case CL_PLATFORM_VERSION: "CL_PLATFORM_VERSION"
        default: "0x" + String(param, radix: 16)
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.last, c == " " || c == "\n" || c == "\t" || c == "\r" { s = s.dropLast() }
        while let c = s.first, c == " " || c == "\n" || c == "\t" || c == "\r" { s = s.dropFirst() }
        return String(s)
    }
}
