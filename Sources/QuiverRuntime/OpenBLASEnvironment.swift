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

    /// How long (2^n cycles) an idle OpenBLAS worker spins in `sched_yield` before it sleeps; read
    /// at load. OpenBLAS's default (2^28 cycles, ~0.1 s) makes its idle worker compete with
    /// Quiver's own parallel ops between GEMMs: `perf` showed 15% of an encode in `sched_yield`,
    /// and 2^10 made all-MiniLM-L6-v2 encoding ~14% faster on 2 cores.
    public static let threadTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT"
    public static let threadTimeout = "10"

    /// The variables to add before OpenBLAS loads (empty: the process is fine as it is).
    public static func wantedEnvironment(environment: [String: String] = ProcessInfo.processInfo.environment,
                                         cpuFlags: Set<String> = OpenBLAS.currentCPUFlags(),
                                         detectedCore: String = OpenBLAS.coreName) -> [String: String] {
        if environment[marker] != nil { return [:] }
        var wanted: [String: String] = [:]
        if let core = wantedCoreType(environment: environment, cpuFlags: cpuFlags, detectedCore: detectedCore) {
            wanted[variable] = core
        }
        if (environment[threadTimeoutVariable] ?? "").isEmpty, environment[policyVariable]?.lowercased() != "keep" {
            wanted[threadTimeoutVariable] = threadTimeout
        }
        return wanted
    }

    /// Re-executes the current process once with `wantedEnvironment()` added, when it is not
    /// empty. Returns normally (doing nothing) when no change is needed or the re-exec fails.
    public static func reexecIfBeneficial() {
        let wanted = wantedEnvironment()
        guard !wanted.isEmpty else { return }
        for (name, value) in wanted { setenv(name, value, 1) }
        setenv(marker, "1", 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", cArgs)
        // execv only returns on failure: carry on with the kernels already loaded.
        unsetenv(marker)
        for name in wanted.keys { unsetenv(name) }
        for p in cArgs { free(p) }
    }
}
