import Foundation
import QuiverCPU

/// Makes OpenBLAS use its AVX-512 kernels where the CPU has them.
///
/// OpenBLAS picks its kernels once, when the library loads (before `main`): from
/// `OPENBLAS_CORETYPE` if set, else by CPU detection. Either can leave an AVX-512 CPU on the AVX2
/// (Haswell) kernels, ~1.5× slower sgemm: older OpenBLAS builds misdetect some AVX-512 CPUs, and
/// on the build machines `OPENBLAS_CORETYPE=Haswell` is set machine-wide (OpenBLAS 0.3.21 itself
/// detects their AMD EPYC as Cooperlake). So the CLI re-executes itself once with
/// `OPENBLAS_CORETYPE` set to an AVX-512 core when OpenBLAS loaded a weaker one.
///
/// `QUIVER_OPENBLAS_CORETYPE` controls this: unset or `auto` (the above), `keep` (never change
/// what the environment says), or a core name to force (e.g. `Haswell`, `SkylakeX`).
public enum OpenBLASEnvironment {
    /// The variable OpenBLAS reads at load time.
    public static let variable = "OPENBLAS_CORETYPE"
    /// Quiver's own setting: auto | keep | a core name.
    public static let policyVariable = "QUIVER_OPENBLAS_CORETYPE"
    /// Set on the re-executed process so it never loops.
    static let marker = "QUIVER_OPENBLAS_REEXEC"

    /// The `OPENBLAS_CORETYPE` to restart with, or nil when the loaded kernels are the right ones.
    public static func wantedCoreType(environment: [String: String] = ProcessInfo.processInfo.environment,
                                      cpuFlags: Set<String> = OpenBLAS.currentCPUFlags(),
                                      detectedCore: String = OpenBLAS.coreName) -> String? {
        if environment[marker] != nil { return nil }
        let policy = environment[policyVariable]?.trimmingCharacters(in: .whitespaces) ?? ""
        switch policy.lowercased() {
        case "keep":
            return nil
        case "", "auto":
            return OpenBLAS.recommendedCoreType(cpuFlags: cpuFlags, detectedCore: detectedCore)
        default:
            return policy.lowercased() == detectedCore.lowercased() ? nil : policy
        }
    }

    /// A sentence for `quiver devices` when the kernels in use are not the ones Quiver would pick.
    public static func advice(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let core = wantedCoreType(environment: environment) else { return nil }
        let source = environment[variable].map { "\(variable)=\($0) from the environment" } ?? "CPU detection"
        return "OpenBLAS runs its \(OpenBLAS.coreName) kernels (\(source)) but this CPU can use \(core); "
            + "the quiver CLI restarts itself with \(variable)=\(core) (set \(policyVariable)=keep to prevent that); "
            + "programs embedding Quiver should start with \(variable)=\(core)"
    }

    /// Re-executes the current process with `OPENBLAS_CORETYPE` set when `wantedCoreType()` is
    /// non-nil. Returns normally (doing nothing) when no change is needed or the re-exec fails.
    public static func reexecIfBeneficial() {
        guard let core = wantedCoreType() else { return }
        setenv(variable, core, 1)
        setenv(marker, "1", 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", cArgs)
        // execv only returns on failure: carry on with the kernels already loaded.
        unsetenv(marker)
        for p in cArgs { free(p) }
    }
}
