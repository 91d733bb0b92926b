import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

@Suite struct BackendSelectionTests {
    @Test func choiceParsesFlagThenEnvironment() throws {
        #expect(try BackendChoice.resolve(flag: "OpenCL", environment: [:]) == .opencl)
        #expect(try BackendChoice.resolve(flag: nil, environment: ["QUIVER_BACKEND": "cpu"]) == .cpu)
        #expect(try BackendChoice.resolve(flag: "cpu", environment: ["QUIVER_BACKEND": "opencl"]) == .cpu)
        #expect(try BackendChoice.resolve(flag: nil, environment: [:]) == .auto)
        let error = #expect(throws: QuiverError.self) { try BackendChoice.resolve(flag: "cuda", environment: [:]) }
        #expect(error?.description == "unknown backend 'cuda'; use one of: auto, cpu, opencl")
    }

    @Test func deviceSelectorIsIndexOrName() {
        #expect(DeviceSelector(parsing: "1") == .index(1))
        #expect(DeviceSelector(parsing: "nvidia") == .name("nvidia"))
        #expect(DeviceSelector(parsing: "-1") == .name("-1"))
        #expect(DeviceSelector.resolve(flag: nil, environment: ["QUIVER_DEVICE": "2"]) == .index(2))
        #expect(DeviceSelector.resolve(flag: nil, environment: [:]) == nil)
    }

    @Test func cpuBackendIsAlwaysAvailable() throws {
        let selection = try BackendFactory.make(.cpu)
        #expect(selection.backend.device.backend == "cpu")
        #expect(selection.backend.device.computeUnits >= 1)
    }

    @Test func openCLDeviceByIndexAndNameWithClearErrors() throws {
        guard try TestBackends.backend("opencl") != nil else { return }
        let first = try BackendFactory.make(.opencl, device: .index(0)).backend.device
        #expect(first.backend == "opencl")
        let byName = try BackendFactory.make(.opencl, device: .name(String(first.name.prefix(6)).uppercased())).backend.device
        #expect(byName.name == first.name)
        let badIndex = #expect(throws: QuiverError.self) { try BackendFactory.make(.opencl, device: .index(99)) }
        #expect(badIndex?.description.contains("no OpenCL device with index 99; devices are 0: \(first.name)") == true)
        let badName = #expect(throws: QuiverError.self) { try BackendFactory.make(.opencl, device: .name("no-such-gpu")) }
        #expect(badName?.description.contains("no OpenCL device name contains 'no-such-gpu'") == true)
    }

    @Test func autoPrefersAGPUAndExplainsItsChoice() throws {
        let selection = try BackendFactory.make(.auto)
        let report = DeviceReport.collect()
        let hasGPU = report.openCLDevices.contains { $0.type == "gpu" }
        #expect(selection.backend.device.backend == (hasGPU ? "opencl" : "cpu"), "\(selection.reason)")
        #expect(selection.reason.hasPrefix("auto picked \(hasGPU ? "opencl" : "cpu"): "))
        #expect(report.autoPick == (hasGPU ? "opencl:" + String(report.openCLDevices.first { $0.type == "gpu" }!.index) : "cpu"))
    }

    @Test func openBLASCoreTypePolicy() {
        let avx512: Set<String> = ["avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]
        let want = OpenBLASEnvironment.wantedCoreType
        #expect(want([:], avx512, "Haswell") == "SkylakeX")
        #expect(want(["OPENBLAS_CORETYPE": "Haswell"], avx512, "Haswell") == "SkylakeX", "an inherited weaker core is overridden")
        #expect(want([:], avx512, "SkylakeX") == nil && want([:], avx512, "Cooperlake") == nil)
        #expect(want([:], ["avx2", "fma"], "Haswell") == nil, "no AVX-512: nothing to gain")
        #expect(want(["QUIVER_OPENBLAS_CORETYPE": "keep", "OPENBLAS_CORETYPE": "Haswell"], avx512, "Haswell") == nil)
        #expect(want(["QUIVER_OPENBLAS_CORETYPE": "Haswell"], avx512, "Cooperlake") == "Haswell", "an explicit core is forced")
        #expect(want(["QUIVER_OPENBLAS_CORETYPE": "haswell"], avx512, "Haswell") == nil)
        #expect(want(["QUIVER_OPENBLAS_REEXEC": "1"], avx512, "Haswell") == nil, "never loops")
    }

    @Test func openBLASThreadTimeoutIsAddedUnlessSetOrKept() {
        let avx512: Set<String> = ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]
        let env = OpenBLASEnvironment.wantedEnvironment
        #expect(env([:], avx512, "SkylakeX") == ["OPENBLAS_THREAD_TIMEOUT": "10"])
        #expect(env([:], avx512, "Haswell") == ["OPENBLAS_THREAD_TIMEOUT": "10", "OPENBLAS_CORETYPE": "SkylakeX"])
        #expect(env(["OPENBLAS_THREAD_TIMEOUT": "20"], avx512, "SkylakeX") == [:])
        #expect(env(["QUIVER_OPENBLAS_CORETYPE": "keep"], avx512, "Haswell") == [:])
        #expect(env(["QUIVER_OPENBLAS_REEXEC": "1"], avx512, "Haswell") == [:])
    }

    @Test func deviceReportRendersTextAndJSON() throws {
        let report = DeviceReport.collect()
        let text = report.text()
        #expect(text.contains("CPU backend:") && text.contains("auto picks: \(report.autoPick)"))
        #expect(report.cpu.cores >= 1 && !report.cpu.openBLASCore.isEmpty)
        let decoded = try JSONDecoder().decode(DeviceReport.self, from: Data(try report.json().utf8))
        #expect(decoded.openCLDevices.count == report.openCLDevices.count && decoded.autoPick == report.autoPick)
    }
}
