import Foundation
import QuiverCore
import QuiverCPU
import QuiverOpenCL

/// Everything `quiver devices` shows: the OpenCL devices (or why there are none), the CPU backend,
/// and which backend `auto` picks.
public struct DeviceReport: Codable, Sendable {
    public struct OpenCLEntry: Codable, Sendable {
        public var index: Int
        public var platform: String
        public var platformVersion: String
        public var name: String
        public var vendor: String
        public var type: String
        public var computeUnits: Int
        /// `CL_DEVICE_MAX_CLOCK_FREQUENCY`, MHz (0: not reported).
        public var maxClockMHz: Int
        public var globalMemoryBytes: UInt64
        public var maxAllocationBytes: UInt64
        public var localMemoryBytes: UInt64
        public var maxWorkGroupSize: Int
        public var openCLVersion: String
        public var openCLCVersion: String
        public var driverVersion: String
        public var fp16: Bool
        /// Whether the tuning cache has parameters for this device and the current kernels
        /// (optional so reports written before `quiver tune` existed still decode).
        public var tuned: Bool?
        /// Where its kernel parameters come from (`TuningStatus.summary`).
        public var tuning: String?
    }

    public struct CPUEntry: Codable, Sendable {
        public var name: String
        public var cores: Int
        public var memoryBytes: UInt64
        public var openBLASCore: String
        public var openBLASThreads: Int
        public var openBLASConfig: String
        /// Set when OpenBLAS runs kernels slower than the CPU supports (e.g. Haswell on AVX-512).
        public var openBLASAdvice: String?
    }

    /// OpenCL status: "ok", "no platform", or "loader missing".
    public var openCLStatus: String
    /// Why OpenCL has no devices, with what to install; nil when devices were found.
    public var openCLProblem: String?
    public var openCLDevices: [OpenCLEntry]
    public var cpu: CPUEntry
    /// "cpu" or "opencl:<index>".
    public var autoPick: String
    public var autoReason: String

    /// Probes the machine. Never throws: every failure becomes part of the report.
    public static func collect(selector: DeviceSelector? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> DeviceReport {
        var status = "ok"
        var problem: String? = nil
        var entries: [OpenCLEntry] = []
        do {
            let devices = try OpenCLDiscovery.devices()
            let cache = TuningCache.defaultLocation(environment: environment)
            entries = devices.map { device in
                let status = cache?.resolve(for: device).status ?? .untuned(cache: nil)
                return OpenCLEntry(device, tuning: status)
            }
            if devices.isEmpty {
                status = "no platform"
                let icds = OpenCLDiscovery.icdFiles()
                problem = icds.isEmpty
                    ? "the OpenCL loader is installed but no driver is registered (/etc/OpenCL/vendors/*.icd is empty). Install pocl-opencl-icd (CPU) or your GPU's OpenCL driver; in containers add /etc/OpenCL/vendors/nvidia.icd containing libnvidia-opencl.so.1"
                    : "the OpenCL loader found no platform; registered drivers: \(icds.joined(separator: ", ")). Check that each listed library exists and loads"
            }
        } catch {
            status = "loader missing"
            problem = "\(error)"
        }
        let cpuBackend = CPUBackend()
        let info = cpuBackend.device
        let cpu = CPUEntry(
            name: info.name, cores: info.computeUnits, memoryBytes: info.globalMemoryBytes,
            openBLASCore: OpenBLAS.coreName, openBLASThreads: OpenBLAS.threads, openBLASConfig: OpenBLAS.config,
            openBLASAdvice: OpenBLASEnvironment.advice(environment: environment))
        let (device, reason) = BackendFactory.autoPick(selector: selector)
        return DeviceReport(openCLStatus: status, openCLProblem: problem, openCLDevices: entries, cpu: cpu,
                            autoPick: device.map { "opencl:\($0.index)" } ?? "cpu", autoReason: reason)
    }

    /// Indented JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Human-readable listing.
    public func text() -> String {
        var lines: [String] = ["OpenCL devices:"]
        if let openCLProblem { lines.append("  none (\(openCLStatus)): \(openCLProblem)") }
        for d in openCLDevices {
            lines.append("  [\(d.index)] \(d.name) (\(d.type), \(d.platform))")
            lines.append("      compute units \(d.computeUnits) at up to \(d.maxClockMHz) MHz, global memory \(Self.bytes(d.globalMemoryBytes)), max allocation \(Self.bytes(d.maxAllocationBytes)), local memory \(Self.bytes(d.localMemoryBytes))")
            lines.append("      \(d.openCLCVersion), driver \(d.driverVersion), fp16 \(d.fp16 ? "yes" : "no"), max work-group \(d.maxWorkGroupSize)")
            if let tuning = d.tuning { lines.append("      kernels: \(tuning)") }
        }
        lines.append("CPU backend:")
        lines.append("  \(cpu.name): \(cpu.cores) threads, memory \(Self.bytes(cpu.memoryBytes))")
        lines.append("  OpenBLAS core \(cpu.openBLASCore), threads \(cpu.openBLASThreads) (\(cpu.openBLASConfig))")
        if let advice = cpu.openBLASAdvice { lines.append("  note: \(advice)") }
        lines.append("auto picks: \(autoPick) — \(autoReason)")
        return lines.joined(separator: "\n")
    }

    static func bytes(_ n: UInt64) -> String {
        let gib = Double(n) / 1_073_741_824
        if gib >= 1 { return String(format: "%.1f GiB", gib) }
        let mib = Double(n) / 1_048_576
        if mib >= 1 { return String(format: "%.1f MiB", mib) }
        return String(format: "%.0f KiB", Double(n) / 1024)
    }
}

extension DeviceReport.OpenCLEntry {
    init(_ d: OpenCLDevice, tuning: TuningStatus) {
        self.init(index: d.index, platform: d.platformName, platformVersion: d.platformVersion, name: d.name,
                  vendor: d.vendor, type: d.type.rawValue, computeUnits: d.computeUnits, maxClockMHz: d.maxClockMHz,
                  globalMemoryBytes: d.globalMemoryBytes, maxAllocationBytes: d.maxAllocationBytes,
                  localMemoryBytes: d.localMemoryBytes, maxWorkGroupSize: d.maxWorkGroupSize,
                  openCLVersion: d.openCLVersion, openCLCVersion: d.openCLCVersion,
                  driverVersion: d.driverVersion, fp16: d.supportsFP16, tuned: tuning.isTuned, tuning: tuning.summary)
    }
}
