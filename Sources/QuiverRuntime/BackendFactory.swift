import Foundation
import QuiverCore
import QuiverCPU
import QuiverOpenCL

/// A created backend and one sentence saying why it was picked (shown to the user).
public struct BackendSelection: Sendable {
    public let backend: any ComputeBackend
    public let reason: String

    /// For an OpenCL backend, where its kernel parameters came from (tuned, defaults, …); nil for the CPU.
    public var kernelTuning: String? { (backend as? OpenCLBackend)?.tuningStatus.summary }

    /// Problems to show the user, e.g. a corrupt tuning cache that was ignored.
    public var warnings: [String] { [(backend as? OpenCLBackend)?.tuningStatus.warning].compactMap { $0 } }
}

/// Creates the backend the user asked for. The one place that knows the concrete backends.
public enum BackendFactory {
    /// Resolves `choice` and `device` (flags already merged with the environment) into a backend.
    /// `auto` takes the first OpenCL GPU (or the `device` the user named); otherwise the CPU, with
    /// `cpuThreads` threads (nil: `QUIVER_THREADS` or every core).
    public static func make(_ choice: BackendChoice, device selector: DeviceSelector? = nil,
                            openCLOptions: OpenCLBackend.Options = .init(), cpuThreads: Int? = nil) throws -> BackendSelection {
        switch choice {
        case .cpu:
            return BackendSelection(backend: CPUBackend(threads: cpuThreads), reason: "cpu backend requested")
        case .opencl:
            let devices = try OpenCLDiscovery.devices()
            let device = try pick(selector, from: devices, requireGPU: false)
            return BackendSelection(backend: try OpenCLBackend(device: device, options: openCLOptions),
                                    reason: "opencl backend requested: device \(device.index) \(device.name)")
        case .auto:
            let (device, why) = autoPick(selector: selector)
            if let device {
                return BackendSelection(backend: try OpenCLBackend(device: device, options: openCLOptions),
                                        reason: "auto picked opencl: \(why)")
            }
            return BackendSelection(backend: CPUBackend(threads: cpuThreads), reason: "auto picked cpu: \(why)")
        }
    }

    /// Threads a CPU backend made without a count uses: `QUIVER_THREADS`, else every core.
    public static var defaultCPUThreads: Int { CPUBackend.defaultThreads() }

    /// The OpenCL device `auto` would use (nil: the CPU backend), with the reason in words.
    public static func autoPick(selector: DeviceSelector?) -> (OpenCLDevice?, String) {
        let devices: [OpenCLDevice]
        do {
            devices = try OpenCLDiscovery.devices()
        } catch {
            return (nil, "OpenCL is unavailable (\(error))")
        }
        if let selector {
            do {
                let device = try pick(selector, from: devices, requireGPU: false)
                return (device, "device \(device.index) \(device.name) matches --device \(selector)")
            } catch {
                return (nil, "\(error)")
            }
        }
        if let gpu = devices.first(where: { $0.type == .gpu }) {
            return (gpu, "device \(gpu.index) \(gpu.name) is a GPU")
        }
        if devices.isEmpty {
            return (nil, "no OpenCL platform or device found")
        }
        return (nil, "no OpenCL GPU found (the OpenCL CPU devices are slower than OpenBLAS; use --backend opencl to force one)")
    }

    /// The device matching `selector` (or the first device, preferring GPUs, when nil).
    static func pick(_ selector: DeviceSelector?, from devices: [OpenCLDevice], requireGPU: Bool) throws -> OpenCLDevice {
        guard !devices.isEmpty else {
            throw QuiverError.backendUnavailable(
                "no OpenCL device found", hint: "install a driver (pocl-opencl-icd for CPUs, the GPU vendor's ICD) or use --backend cpu; `quiver devices` shows what is installed")
        }
        let listing = devices.map { "\($0.index): \($0.name)" }.joined(separator: "; ")
        switch selector {
        case nil:
            return devices.first(where: { $0.type == .gpu }) ?? devices[0]
        case .index(let i):
            guard let device = devices.first(where: { $0.index == i }) else {
                throw QuiverError.invalidArgument("no OpenCL device with index \(i); devices are \(listing)")
            }
            return device
        case .name(let text):
            let needle = text.lowercased()
            guard let device = devices.first(where: {
                $0.name.lowercased().contains(needle) || $0.platformName.lowercased().contains(needle)
            }) else {
                throw QuiverError.invalidArgument("no OpenCL device name contains '\(text)'; devices are \(listing)")
            }
            return device
        }
    }
}
