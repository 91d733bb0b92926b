import CBLAS
import Foundation

/// The OpenBLAS library the CPU backend links: which kernels it picked, its thread count, and
/// whether a better core type could be forced.
///
/// OpenBLAS reads `OPENBLAS_CORETYPE` once, when the library loads, so switching kernels needs the
/// variable set before the process starts (QuiverRuntime / the CLI re-exec for that); this type
/// only reports and recommends.
public enum OpenBLAS {
    /// Kernel family OpenBLAS chose at load time, e.g. "Haswell" or "SkylakeX".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name).trimmingCharacters(in: .whitespaces)
    }

    /// Build configuration string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var config: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the threads OpenBLAS uses (process-wide). Values below 1 mean 1; OpenBLAS caps the
    /// value at its compiled maximum.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(clamping: max(n, 1)))
    }

    /// The cpuinfo flags every AVX-512 OpenBLAS kernel (SkylakeX) needs.
    static let skylakeXFlags: Set<String> = ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]
    /// OpenBLAS core names that already use AVX-512 kernels.
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// The `OPENBLAS_CORETYPE` worth forcing on this CPU, or nil when OpenBLAS's own choice is fine.
    /// Returns "SkylakeX" when the CPU has the AVX-512 subsets SkylakeX kernels need (F, BW, VL, DQ, CD)
    /// but OpenBLAS picked a non-AVX-512 core (Debian 12's 0.3.21 picks Haswell on AVX-512 AMD EPYC,
    /// about 1.7x slower sgemm).
    public static func recommendedCoreType(cpuFlags: Set<String>, detectedCore: String) -> String? {
        guard skylakeXFlags.isSubset(of: cpuFlags) else { return nil }
        let core = detectedCore.trimmingCharacters(in: .whitespaces).lowercased()
        return avx512Cores.contains(core) ? nil : "SkylakeX"
    }

    /// Flags from the first `flags` line of `/proc/cpuinfo` text (x86); empty when there is none.
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            guard line[..<colon].trimmingCharacters(in: .whitespaces) == "flags" else { continue }
            return Set(line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        }
        return []
    }

    /// Flags of this machine's CPU (empty where `/proc/cpuinfo` is unreadable, e.g. macOS).
    public static func currentCPUFlags() -> Set<String> {
        cpuFlags(cpuinfo: HostInfo.cpuinfo() ?? "")
    }
}
