import QuiverKernels

/// What a tuned configuration is valid for: one device under one driver, with Quiver's kernel
/// sources as they were when it was tuned.
///
/// Two keys with the same `device` but different `kernelSourceHash` describe the same device
/// before and after a kernel edit (or a Quiver upgrade): the older entry is stale and ignored.
public struct TuningKey: Codable, Hashable, Sendable {
    /// `CL_DEVICE_NAME`, `CL_DEVICE_VENDOR` and `CL_DRIVER_VERSION`.
    public struct Device: Codable, Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var vendor: String
        public var driverVersion: String

        public init(name: String, vendor: String, driverVersion: String) {
            self.name = name
            self.vendor = vendor
            self.driverVersion = driverVersion
        }

        public init(_ device: OpenCLDevice) {
            self.init(name: device.name, vendor: device.vendor, driverVersion: device.driverVersion)
        }

        public var description: String { "\(name) (\(vendor), driver \(driverVersion))" }
    }

    public var device: Device
    /// `KernelSourceHash.current()` when the entry was tuned (16 hex digits).
    public var kernelSourceHash: String

    public init(device: Device, kernelSourceHash: String) {
        self.device = device
        self.kernelSourceHash = kernelSourceHash
    }
}

/// A fingerprint of the kernel sources Quiver builds (every family, in `Family.allCases` order),
/// FNV-1a 64 as 16 hex digits. Honors `QUIVER_KERNEL_DIR`, so editing a kernel there makes tuned
/// entries stale too.
public enum KernelSourceHash {
    /// The fingerprint of the sources this process would build; nil when one cannot be read
    /// (only possible with `QUIVER_KERNEL_DIR`).
    public static func current() -> String? {
        var h = FNV1a64()
        for family in KernelSources.Family.allCases {
            guard let source = try? KernelSources.source(family) else { return nil }
            h.add(family.rawValue)
            h.add(source)
        }
        return h.hex
    }
}
