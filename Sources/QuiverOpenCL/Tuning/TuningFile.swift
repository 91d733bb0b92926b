import Foundation
import QuiverCore

/// The kernel parameters `quiver tune` chose for one device. Only the tuned families are stored;
/// the others (and any family left nil) keep `KernelConfig.defaults(for:)`, so a later change of
/// those defaults still reaches tuned devices.
public struct TunedKernels: Codable, Hashable, Sendable {
    public var gemm: KernelConfig.GEMM?
    public var attention: KernelConfig.Attention?
    public var topK: KernelConfig.TopK?

    public init(gemm: KernelConfig.GEMM? = nil, attention: KernelConfig.Attention? = nil, topK: KernelConfig.TopK? = nil) {
        self.gemm = gemm
        self.attention = attention
        self.topK = topK
    }

    /// `base` with the tuned families replaced.
    public func applied(to base: KernelConfig) -> KernelConfig {
        var c = base
        if let gemm { c.gemm = gemm }
        if let attention { c.attention = attention }
        if let topK { c.topK = topK }
        return c
    }

    /// Why `device` cannot run these parameters (work-group size, local memory, malformed tiles),
    /// or nil when it can. Checked on load, so a hand-edited or foreign entry never reaches a launch.
    public func problem(on device: OpenCLDevice) -> String? {
        let maxWG = device.maxWorkGroupSize
        let local = Int(min(device.localMemoryBytes, UInt64(Int.max)))
        if let gemm {
            if (try? gemm.validate()) == nil { return "GEMM tiles \(gemm) are malformed" }
            if gemm.workGroupSize > maxWG || gemm.localMemoryBytes > local {
                return "GEMM needs \(gemm.workGroupSize) work-items and \(gemm.localMemoryBytes) bytes of local memory"
            }
        }
        if let attention {
            // Head size 64 is the largest Quiver's models use; 32 is all-MiniLM's.
            if attention.queriesPerGroup < 1 || attention.keysPerTile < 1 || attention.queriesPerGroup > maxWG {
                return "attention blocks \(attention.queriesPerGroup)×\(attention.keysPerTile) do not fit"
            }
        }
        if let topK {
            if (try? topK.validate()) == nil { return "top-k parameters \(topK) are malformed" }
            if topK.workGroupSize > maxWG || topK.localMemoryBytes > local || topK.mergeGroupSize > maxWG {
                return "top-k needs \(topK.workGroupSize) work-items and \(topK.localMemoryBytes) bytes of local memory"
            }
        }
        return nil
    }
}

/// One device's tuned parameters in the tuning cache.
public struct TuningEntry: Codable, Hashable, Sendable {
    public var key: TuningKey
    public var kernels: TunedKernels
    /// ISO 8601, UTC.
    public var tunedAt: String
    /// "quick" or "full" (`quiver tune --quick` or not).
    public var mode: String

    public init(key: TuningKey, kernels: TunedKernels, tunedAt: String, mode: String) {
        self.key = key
        self.kernels = kernels
        self.tunedAt = tunedAt
        self.mode = mode
    }
}

/// The tuning cache document: `{"format": "quiver-tuning", "version": 1, "entries": [...]}`, one
/// entry per device (name + vendor + driver), sorted by device so rewrites are stable.
public struct TuningFile: Codable, Equatable, Sendable {
    public static let formatName = "quiver-tuning"
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    public var entries: [TuningEntry]

    public init(entries: [TuningEntry] = []) {
        format = Self.formatName
        version = Self.currentVersion
        self.entries = entries
    }

    /// Parses a cache file; throws a sentence saying what is wrong with it.
    public static func decode(_ data: Data) throws -> TuningFile {
        let file: TuningFile
        do {
            file = try JSONDecoder().decode(TuningFile.self, from: data)
        } catch {
            throw QuiverError.invalidArgument("not a Quiver tuning file (\(Self.describe(error)))")
        }
        guard file.format == formatName else {
            throw QuiverError.invalidArgument("format is '\(file.format)', expected '\(formatName)'")
        }
        guard file.version == currentVersion else {
            throw QuiverError.invalidArgument("version \(file.version) is not \(currentVersion) (written by another Quiver release)")
        }
        return file
    }

    /// Indented JSON with sorted keys and a final newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// This file with `entry` replacing every entry of the same device (any kernel hash: older
    /// hashes are stale once a device is re-tuned), other devices kept.
    public func merging(_ entry: TuningEntry) -> TuningFile {
        var merged = removing(entry.key.device)
        merged.entries.append(entry)
        merged.entries.sort { ($0.key.device.name, $0.key.device.vendor, $0.key.device.driverVersion)
            < ($1.key.device.name, $1.key.device.vendor, $1.key.device.driverVersion) }
        return merged
    }

    /// This file without the entries of `device`.
    public func removing(_ device: TuningKey.Device) -> TuningFile {
        var copy = self
        copy.entries.removeAll { $0.key.device == device }
        return copy
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return "invalid JSON: \(c.debugDescription)"
        case DecodingError.keyNotFound(let key, let c): return "missing '\(key.stringValue)' at \(path(c))"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c): return "\(c.debugDescription) at \(path(c))"
        default: return "\(error)"
        }
    }

    private static func path(_ c: DecodingError.Context) -> String {
        c.codingPath.isEmpty ? "the top level" : c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
