import COpenCL
import Foundation
import QuiverCore
import QuiverKernels

/// Builds OpenCL programs lazily, one per (kernel family, `-D` options) pair, and caches them
/// in memory and, as program binaries, on disk.
///
/// Disk files are named `<family>-<key>.clbin`, key = FNV-1a 64 of (source text, build options,
/// device name, driver version, platform version), so a driver upgrade or an edited kernel never
/// loads a stale binary. Each file is `"QVCLBIN1"`, payload length (u64 LE), FNV-1a 64 of the
/// payload (u64 LE), then the driver's binary. Files are written to a temp name and renamed. A
/// corrupt or rejected file falls back to a source build and is rewritten; a directory that cannot
/// be created or written disables disk caching silently. Thread-safe.
public final class ProgramCache: @unchecked Sendable {
    /// What happened on each `program` request since the cache was created.
    public struct Stats: Equatable, Sendable {
        /// Served from memory.
        public var memoryHits = 0
        /// Loaded from a binary on disk.
        public var diskHits = 0
        /// Compiled from source.
        public var builds = 0
    }

    /// The disk cache directory, or nil when disk caching is off (disabled or not writable).
    public let directory: String?
    private let context: OpenCLContext
    private let lock = NSLock()
    private var programs: [String: CLProgram] = [:]
    private var counters = Stats()

    private static let magic = Array("QVCLBIN1".utf8)

    init(context: OpenCLContext, directory: String?) {
        self.context = context
        self.directory = directory.flatMap(Self.usableDirectory)
    }

    public var stats: Stats { lock.withLock { counters } }

    /// "family|options" of every program held in memory, sorted (what this cache has built or loaded).
    package var programKeys: [String] { lock.withLock { programs.keys.sorted() } }

    /// The build options every program gets in front of its `-D` list.
    static let baseOptions = "-cl-std=CL1.2"

    /// The program for `family` built with `defines` (e.g. "-D TS_M=64 -D ACT=1").
    func program(_ family: KernelSources.Family, defines: String) throws -> CLProgram {
        let options = defines.isEmpty ? Self.baseOptions : Self.baseOptions + " " + defines
        let memoryKey = family.rawValue + "|" + options
        return try lock.withLock {
            if let p = programs[memoryKey] {
                counters.memoryHits += 1
                return p
            }
            let source: String
            do { source = try KernelSources.source(family) } catch {
                throw QuiverError.io(path: "QUIVER_KERNEL_DIR", detail: "\(error)")
            }
            let path = diskPath(family: family, source: source, options: options)
            let program: CLProgram
            if let path, let cached = loadBinary(path: path, family: family, options: options) {
                counters.diskHits += 1
                program = cached
            } else {
                program = try build(family: family, source: source, options: options)
                counters.builds += 1
                if let path { store(program: program, path: path) }
            }
            programs[memoryKey] = program
            return program
        }
    }

    /// The cache file that a program of `family` with `defines` maps to (whether or not it exists);
    /// nil when disk caching is off. Exposed for tests and `quiver devices`.
    public func diskPath(family: KernelSources.Family, defines: String) -> String? {
        guard let source = try? KernelSources.source(family) else { return nil }
        let options = defines.isEmpty ? Self.baseOptions : Self.baseOptions + " " + defines
        return diskPath(family: family, source: source, options: options)
    }

    private func diskPath(family: KernelSources.Family, source: String, options: String) -> String? {
        guard let directory else { return nil }
        var h = FNV1a64()
        h.add(source)
        h.add(options)
        h.add(context.device.name)
        h.add(context.device.driverVersion)
        h.add(context.device.platformVersion)
        return (directory as NSString).appendingPathComponent("\(family.rawValue)-\(h.hex).clbin")
    }

    // MARK: - Building

    private func build(family: KernelSources.Family, source: String, options: String) throws -> CLProgram {
        var err: cl_int = 0
        let created: cl_program? = source.withCString { cstr in
            var ptr: UnsafePointer<CChar>? = cstr
            var length = strlen(cstr)
            return qclCreateProgramWithSource(context.context, 1, &ptr, &length, &err)
        }
        guard let handle = created, err == CL_SUCCESS else {
            throw QuiverError.openCL(call: "clCreateProgramWithSource", code: err, detail: "\(family.rawValue).cl")
        }
        var device: cl_device_id? = context.device.deviceID
        let st = qclBuildProgram(handle, 1, &device, options, nil, nil)
        guard st == CL_SUCCESS else {
            let log = buildLog(handle)
            _ = qclReleaseProgram(handle)
            if st == CL_BUILD_PROGRAM_FAILURE || st == CL_INVALID_BUILD_OPTIONS {
                throw QuiverError.kernelBuild(kernel: "\(family.rawValue).cl", options: options, log: log)
            }
            throw QuiverError.openCL(call: "clBuildProgram", code: st, detail: "\(family.rawValue).cl with '\(options)': \(log)")
        }
        return CLProgram(handle: handle, family: family.rawValue, options: options, deviceID: context.device.deviceID)
    }

    private func buildLog(_ program: cl_program) -> String {
        let bytes = try? CL.infoBytes("clGetProgramBuildInfo") {
            qclGetProgramBuildInfo(program, context.device.deviceID, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
        }
        return bytes.map(CL.string) ?? "(no build log)"
    }

    // MARK: - Disk cache

    /// A built program from the cache file at `path`, or nil when it is missing, corrupt, or the
    /// driver rejects it (the caller then builds from source and overwrites the file).
    private func loadBinary(path: String, family: KernelSources.Family, options: String) -> CLProgram? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        let header = Self.magic.count + 16
        guard bytes.count > header, Array(bytes[0..<Self.magic.count]) == Self.magic else { return nil }
        let length = Self.readU64(bytes, at: Self.magic.count)
        let checksum = Self.readU64(bytes, at: Self.magic.count + 8)
        let payload = bytes[header...]
        guard length == UInt64(payload.count), FNV1a64.hash(payload) == checksum else { return nil }

        var err: cl_int = 0
        var binaryStatus: cl_int = 0
        var device: cl_device_id? = context.device.deviceID
        var size = payload.count
        let created: cl_program? = payload.withUnsafeBufferPointer { buf in
            var ptr: UnsafePointer<UInt8>? = buf.baseAddress
            return qclCreateProgramWithBinary(context.context, 1, &device, &size, &ptr, &binaryStatus, &err)
        }
        guard let handle = created else { return nil }
        guard err == CL_SUCCESS, binaryStatus == CL_SUCCESS,
              qclBuildProgram(handle, 1, &device, options, nil, nil) == CL_SUCCESS
        else {
            _ = qclReleaseProgram(handle)
            return nil
        }
        return CLProgram(handle: handle, family: family.rawValue, options: options, deviceID: context.device.deviceID)
    }

    /// Writes the program's binary to `path` via a temp file + rename; failures are ignored
    /// (the cache is an optimization).
    private func store(program: CLProgram, path: String) {
        var size = 0
        guard qclGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil) == CL_SUCCESS,
              size > 0 else { return }
        var binary = [UInt8](repeating: 0, count: size)
        let st = binary.withUnsafeMutableBufferPointer { buf -> cl_int in
            var ptr: UnsafeMutablePointer<UInt8>? = buf.baseAddress
            return qclGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_BINARIES),
                                     MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &ptr, nil)
        }
        guard st == CL_SUCCESS else { return }
        var file = Self.magic
        Self.appendU64(&file, UInt64(binary.count))
        Self.appendU64(&file, FNV1a64.hash(binary))
        file += binary
        let tmp = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(file)) else { return }
        if rename(tmp, path) != 0 { unlink(tmp) }
    }

    /// `path` if it exists or can be created and a file can be written in it; else nil.
    private static func usableDirectory(_ path: String) -> String? {
        guard !path.isEmpty else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch { return nil }
        let probe = (path as NSString).appendingPathComponent(".probe.\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else { return nil }
        unlink(probe)
        return path
    }

    private static func readU64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    private static func appendU64(_ bytes: inout [UInt8], _ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
