import Foundation
import QuiverCore
import QuiverCPU
import Testing

@Suite struct OpenBLASTests {
    let avx512: Set<String> = ["fpu", "sse2", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]

    @Test func recommendsSkylakeXOnAVX512WhenOpenBLASPickedAnAVX2Core() {
        #expect(OpenBLAS.recommendedCoreType(cpuFlags: avx512, detectedCore: "Haswell") == "SkylakeX")
        #expect(OpenBLAS.recommendedCoreType(cpuFlags: avx512, detectedCore: "Zen") == "SkylakeX")
    }

    @Test func noRecommendationWhenAlreadyAVX512OrMissingFlags() {
        for core in ["SkylakeX", "skylakex", "COOPERLAKE", "SapphireRapids"] {
            #expect(OpenBLAS.recommendedCoreType(cpuFlags: avx512, detectedCore: core) == nil, "\(core)")
        }
        for missing in ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"] {
            #expect(OpenBLAS.recommendedCoreType(cpuFlags: avx512.subtracting([missing]), detectedCore: "Haswell") == nil,
                    "without \(missing)")
        }
        #expect(OpenBLAS.recommendedCoreType(cpuFlags: [], detectedCore: "Haswell") == nil)
    }

    @Test func parsesTheFirstFlagsLine() {
        let text = """
            processor\t: 0
            model name\t: AMD EPYC 9B45
            flags\t\t: fpu vme avx2 avx512f  avx512bw
            bugs\t\t: sysret_ss_attrs
            processor\t: 1
            flags\t\t: fpu only_second
            """
        #expect(OpenBLAS.cpuFlags(cpuinfo: text) == ["fpu", "vme", "avx2", "avx512f", "avx512bw"])
        #expect(OpenBLAS.cpuFlags(cpuinfo: "processor : 0\n") == [])
        #expect(OpenBLAS.cpuFlags(cpuinfo: "") == [])
    }

    @Test func reportsCoreConfigAndThreads() {
        let b = CPUBackend(threads: 2)
        #expect(!OpenBLAS.coreName.isEmpty && OpenBLAS.config.contains("OpenBLAS"))
        #expect(OpenBLAS.threads >= 1)
        let d = b.device
        #expect(d.backend == "cpu" && d.kind == .cpu && d.computeUnits == 2 && d.globalMemoryBytes > 0)
        #expect(d.details.map(\.0) == ["threads", "openblas core", "openblas config", "openblas threads"])
        #expect(d.details.first?.1 == "2")
        #expect(CPUBackend(threads: 0).threads == 1)
    }

    @Test func defaultThreadsReadQuiverThreads() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(CPUBackend.defaultThreads(environment: ["QUIVER_THREADS": "3"]) == 3)
        #expect(CPUBackend.defaultThreads(environment: [:]) == cores)
        for bad in ["0", "-2", "two", ""] {
            #expect(CPUBackend.defaultThreads(environment: ["QUIVER_THREADS": bad]) == cores, "QUIVER_THREADS=\(bad)")
        }
    }
}
