import Foundation

/// OpenCL C sources for every kernel family, embedded in the binary at build time so a `quiver`
/// binary copied anywhere still has them. Set `QUIVER_KERNEL_DIR` to read `<family>.cl` from that
/// directory instead (for iterating on a kernel without rebuilding).
public enum KernelSources {
    /// The kernel families, one `.cl` file each.
    public enum Family: String, CaseIterable, Sendable {
        case gemm, elementwise, rowwise, attention, topk
    }

    /// Source text of `family`, from `QUIVER_KERNEL_DIR` when set, else the embedded copy.
    public static func source(_ family: Family) throws -> String {
        if let dir = ProcessInfo.processInfo.environment["QUIVER_KERNEL_DIR"], !dir.isEmpty {
            let path = URL(fileURLWithPath: dir).appendingPathComponent("\(family.rawValue).cl").path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KernelSourceError(message: "QUIVER_KERNEL_DIR is set but \(path) cannot be read; unset it to use the embedded kernels")
            }
            return text
        }
        return embedded(family)
    }

    /// The copy compiled into the binary.
    public static func embedded(_ family: Family) -> String {
        let bytes: [UInt8] = switch family {
        case .gemm: PackageResources.gemm_cl
        case .elementwise: PackageResources.elementwise_cl
        case .rowwise: PackageResources.rowwise_cl
        case .attention: PackageResources.attention_cl
        case .topk: PackageResources.topk_cl
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A kernel source could not be read (only possible with `QUIVER_KERNEL_DIR`).
public struct KernelSourceError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
