import Foundation
import QuiverCPU

/// Makes OpenBLAS use its AVX-512 kernels on CPUs it misdetects.
///
/// Debian 12's OpenBLAS 0.3.21 picks its Haswell (AVX2) kernels on AVX-512 CPUs such as recent AMD
/// EPYCs; with `OPENBLAS_CORETYPE=SkylakeX` sgemm runs ~1.5–1.7× faster (Benchmarks/gemm). OpenBLAS
/// reads the variable once, when the library loads (before `main`), so a process that wants the
/// better kernels has to start with it set: the CLI re-executes itself once with the variable added.
/// A value the user set (any value) is respected.
public enum OpenBLASEnvironment {
    /// Environment variable OpenBLAS reads at load time.
    public static let variable = "OPENBLAS_CORETYPE"
    /// Set on the re-executed process so it never loops.
    static let marker = "QUIVER_OPENBLAS_REEXEC"

    /// The core type to request, or nil when OpenBLAS already uses the best kernels or the user set one.
    public static func wantedCoreType(environment: [String: String] = ProcessInfo.processInfo.environment,
                                      cpuFlags: Set<String> = OpenBLAS.currentCPUFlags(),
                                      detectedCore: String = OpenBLAS.coreName) -> String? {
        if let set = environment[variable], !set.isEmpty { return nil }
        if environment[marker] != nil { return nil }
        return OpenBLAS.recommendedCoreType(cpuFlags: cpuFlags, detectedCore: detectedCore)
    }

    /// Re-executes the current process with `OPENBLAS_CORETYPE` set when `wantedCoreType()` is
    /// non-nil. Returns normally (doing nothing) when no change is needed or re-exec fails.
    public static func reexecIfBeneficial() {
        guard let core = wantedCoreType() else { return }
        setenv(variable, core, 1)
        setenv(marker, "1", 1)
        let args = CommandLine.arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", cArgs)
        // execv only returns on failure: carry on with the detected kernels.
        unsetenv(variable)
        for p in cArgs { free(p) }
    }
}
