import COpenCL
import Foundation
import QuiverCore

/// One OpenCL device, with the facts Quiver needs to size kernels and buffers.
///
/// Values are read once by `OpenCLDiscovery.devices()`. The raw platform/device handles are kept
/// for `OpenCLBackend`; OpenCL handles are thread-safe to share, hence `@unchecked Sendable`.
public struct OpenCLDevice: @unchecked Sendable, CustomStringConvertible {
    /// Position in the flattened list (platform order, then device order); what `--device N` selects.
    public let index: Int
    public let platformName: String
    /// `CL_PLATFORM_VERSION`, e.g. "OpenCL 3.0 CUDA 12.4".
    public let platformVersion: String
    public let name: String
    public let vendor: String
    public let type: DeviceInfo.Kind
    public let computeUnits: Int
    /// `CL_DEVICE_MAX_CLOCK_FREQUENCY` in MHz (the driver's figure; 0 when it reports none).
    public let maxClockMHz: Int
    /// `CL_DEVICE_GLOBAL_MEM_SIZE` in bytes.
    public let globalMemoryBytes: UInt64
    /// `CL_DEVICE_MAX_MEM_ALLOC_SIZE` in bytes: the largest single buffer.
    public let maxAllocationBytes: UInt64
    /// `CL_DEVICE_LOCAL_MEM_SIZE` in bytes (per work-group).
    public let localMemoryBytes: UInt64
    /// `CL_DEVICE_MAX_WORK_GROUP_SIZE` (work-items).
    public let maxWorkGroupSize: Int
    /// `CL_DEVICE_VERSION`, e.g. "OpenCL 3.0 CUDA".
    public let openCLVersion: String
    /// `CL_DEVICE_OPENCL_C_VERSION`, e.g. "OpenCL C 1.2".
    public let openCLCVersion: String
    /// `CL_DRIVER_VERSION`.
    public let driverVersion: String
    /// The device lists `cl_khr_fp16` (Quiver uses f16 for storage only either way).
    public let supportsFP16: Bool

    let platformID: cl_platform_id
    let deviceID: cl_device_id

    public var description: String {
        "#\(index) \(name) (\(type.rawValue), \(platformName), \(computeUnits) compute units, "
            + "\(globalMemoryBytes >> 20) MiB, max alloc \(maxAllocationBytes >> 20) MiB)"
    }
}

/// Finds OpenCL platforms and devices. Loading libOpenCL happens here, lazily, so a machine
/// without OpenCL only fails when OpenCL is actually asked for.
public enum OpenCLDiscovery {
    /// Whether the ICD loader could be loaded and, if not, why.
    public static func loaderStatus() -> (loaded: Bool, reason: String) {
        var buffer = [CChar](repeating: 0, count: 512)
        let ok = qcl_load(nil, &buffer, buffer.count) == 1
        if ok { return (true, "loaded") }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return (false, String(decoding: bytes, as: UTF8.self))
    }

    /// The ICD registrations the loader will read: one entry `"<path>: <library>"` per `*.icd`
    /// file in `$OCL_ICD_VENDORS` (when it names a directory) or `/etc/OpenCL/vendors`.
    /// Empty when the directory is missing or has no `.icd` files — the usual reason for
    /// "no platforms" in a container.
    public static func icdFiles() -> [String] {
        let dir = icdDirectory()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.filter { $0.hasSuffix(".icd") }.sorted().map { name in
            let path = (dir as NSString).appendingPathComponent(name)
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingSpaces() ?? "<unreadable>"
            return "\(path): \(text)"
        }
    }

    /// The directory the ICD loader reads: `$OCL_ICD_VENDORS` when it names a directory, else
    /// `/etc/OpenCL/vendors`.
    public static func icdDirectory() -> String {
        let env = ProcessInfo.processInfo.environment["OCL_ICD_VENDORS"] ?? ""
        var isDir: ObjCBool = false
        return !env.isEmpty && FileManager.default.fileExists(atPath: env, isDirectory: &isDir) && isDir.boolValue
            ? env : "/etc/OpenCL/vendors"
    }

    /// Every device of every platform, flattened in platform order then device order.
    ///
    /// Throws `backendUnavailable` when libOpenCL cannot be loaded; returns `[]` when the loader
    /// works but finds no platform (no ICD registered) or no device.
    ///
    /// Enumerates once per process, under a lock: ocl-icd 2.3.1 (Debian 12) initializes without a
    /// lock, and concurrent first calls to clGetPlatformIDs crashed the test runner. Devices do
    /// not come and go while a process runs, so later calls return the first answer.
    public static func devices() throws -> [OpenCLDevice] {
        discoveryLock.lock()
        defer { discoveryLock.unlock() }
        if let discovered { return try discovered.get() }
        let result = Result { try enumerate() }
        discovered = result
        return try result.get()
    }

    private static let discoveryLock = NSLock()
    nonisolated(unsafe) private static var discovered: Result<[OpenCLDevice], Error>?

    private static func enumerate() throws -> [OpenCLDevice] {
        try CL.ensureLoaded()
        var count: cl_uint = 0
        let status = qclGetPlatformIDs(0, nil, &count)
        if status == -1001 || (status == CL_SUCCESS && count == 0) { return [] }  // CL_PLATFORM_NOT_FOUND_KHR
        try CL.check(status, "clGetPlatformIDs", "counting platforms")
        var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
        try CL.check(qclGetPlatformIDs(count, &platforms, nil), "clGetPlatformIDs")

        var result: [OpenCLDevice] = []
        for case let platform? in platforms {
            let platformName = (try? CL.platformString(platform, CL_PLATFORM_NAME)) ?? "unknown platform"
            let platformVersion = (try? CL.platformString(platform, CL_PLATFORM_VERSION)) ?? ""
            var n: cl_uint = 0
            let st = qclGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &n)
            if st == CL_DEVICE_NOT_FOUND || n == 0 { continue }
            try CL.check(st, "clGetDeviceIDs", "platform \(platformName)")
            var ids = [cl_device_id?](repeating: nil, count: Int(n))
            try CL.check(qclGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), n, &ids, nil),
                         "clGetDeviceIDs", "platform \(platformName)")
            for case let id? in ids {
                result.append(try describe(id, platform: platform, platformName: platformName,
                                           platformVersion: platformVersion, index: result.count))
            }
        }
        return result
    }

    static func describe(_ d: cl_device_id, platform: cl_platform_id, platformName: String,
                         platformVersion: String, index: Int) throws -> OpenCLDevice {
        let rawType: cl_device_type = try CL.deviceValue(d, CL_DEVICE_TYPE)
        let kind: DeviceInfo.Kind =
            rawType & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
            : rawType & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
            : rawType & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
        let extensions = (try? CL.deviceString(d, CL_DEVICE_EXTENSIONS)) ?? ""
        return OpenCLDevice(
            index: index,
            platformName: platformName,
            platformVersion: platformVersion,
            name: try CL.deviceString(d, CL_DEVICE_NAME),
            vendor: (try? CL.deviceString(d, CL_DEVICE_VENDOR)) ?? "",
            type: kind,
            computeUnits: Int(try CL.deviceValue(d, CL_DEVICE_MAX_COMPUTE_UNITS, as: cl_uint.self)),
            maxClockMHz: Int((try? CL.deviceValue(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, as: cl_uint.self)) ?? 0),
            globalMemoryBytes: try CL.deviceValue(d, CL_DEVICE_GLOBAL_MEM_SIZE, as: cl_ulong.self),
            maxAllocationBytes: try CL.deviceValue(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, as: cl_ulong.self),
            localMemoryBytes: try CL.deviceValue(d, CL_DEVICE_LOCAL_MEM_SIZE, as: cl_ulong.self),
            maxWorkGroupSize: Int(try CL.deviceValue(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, as: Int.self)),
            openCLVersion: (try? CL.deviceString(d, CL_DEVICE_VERSION)) ?? "",
            openCLCVersion: (try? CL.deviceString(d, CL_DEVICE_OPENCL_C_VERSION)) ?? "",
            driverVersion: (try? CL.deviceString(d, CL_DRIVER_VERSION)) ?? "",
            supportsFP16: extensions.split(separator: " ").contains("cl_khr_fp16"),
            platformID: platform,
            deviceID: d)
    }
}
