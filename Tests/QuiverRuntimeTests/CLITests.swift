import Foundation
import Testing
import QuiverTestSupport

/// Runs the built `quiver` binary the way a user does.
@Suite(.serialized) struct CLITests {
    struct Run { var status: Int32; var stdout: String; var stderr: String }
    struct MissingBinary: Error, CustomStringConvertible {
        var description: String { "quiver binary not found next to the tests; run `swift build` first" }
    }

    /// The `quiver` binary next to the test bundle (swift test builds every product).
    static var binary: URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quiver"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/quiver"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func run(_ args: [String], env: [String: String] = [:], binary: URL? = nil, cwd: URL? = nil) throws -> Run {
        guard let exe = binary ?? Self.binary else {
            throw MissingBinary()
        }
        let process = Process()
        process.executableURL = exe
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        if let cwd { process.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func devicesWithoutOpenCLLoaderStillListsCPU() throws {
        let r = try Self.run(["devices"], env: ["QUIVER_OPENCL_LIBRARY": "/nonexistent/libOpenCL.so.1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("none (loader missing)") && r.stdout.contains("/nonexistent/libOpenCL.so.1"), "\(r.stdout)")
        #expect(r.stdout.contains("CPU backend:") && r.stdout.contains("auto picks: cpu"), "\(r.stdout)")
    }

    @Test func devicesWithLoaderButNoDriverExplainsICDFiles() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-empty-icd-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try Self.run(["devices"], env: ["OCL_ICD_VENDORS": empty.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("none (no platform)") && r.stdout.contains(".icd"), "\(r.stdout)")
        #expect(r.stdout.contains("auto picks: cpu"))
    }

    @Test func devicesJSONListsEverything() throws {
        let r = try Self.run(["devices", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let cpu = object?["cpu"] as? [String: Any]
        #expect(cpu?["cores"] as? Int ?? 0 >= 1)
        #expect(object?["autoPick"] is String && object?["openCLDevices"] is [Any])
        if (try? TestBackends.backend("opencl")) ?? nil != nil {
            #expect((object?["openCLDevices"] as? [Any])?.isEmpty == false)
        }
    }

    /// Starts the CLI with `OPENBLAS_CORETYPE=Haswell` inherited (as on the build machines): on an
    /// AVX-512 CPU it must run AVX-512 kernels anyway, and keep Haswell when told to.
    @Test func cliUsesAVX512KernelsWhereTheCPUHasThem() throws {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) else { return }
        func core(_ env: [String: String]) throws -> String {
            let r = try Self.run(["devices", "--json"], env: env)
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return ((object?["cpu"] as? [String: Any])?["openBLASCore"] as? String ?? "").lowercased()
        }
        let upgraded = try core(["OPENBLAS_CORETYPE": "Haswell", "QUIVER_OPENBLAS_CORETYPE": ""])
        #expect(["skylakex", "cooperlake", "sapphirerapids"].contains(upgraded), "OpenBLAS core \(upgraded)")
        #expect(try core(["OPENBLAS_CORETYPE": "Haswell", "QUIVER_OPENBLAS_CORETYPE": "keep"]) == "haswell")
    }

    @Test(arguments: ["cpu", "opencl"])
    func gemmDemoChecksItself(backend: String) throws {
        if backend == "opencl", try TestBackends.backend("opencl") == nil { return }
        let r = try Self.run(["gemm", "--m", "33", "--n", "17", "--k", "65", "--repeats", "1", "--backend", backend])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("check: 256 sampled entries vs float64") && r.stdout.contains("(ok)"), "\(r.stdout)")
        #expect(r.stderr.contains("backend: \(backend)"), "\(r.stderr)")
    }

    @Test func binaryCopiedElsewhereRunsEmbeddedKernels() throws {
        guard let exe = Self.binary, try TestBackends.backend("opencl") != nil else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-copy-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("quiver")
        try FileManager.default.copyItem(at: exe, to: copy)
        let r = try Self.run(["gemm", "--m", "20", "--n", "30", "--k", "40", "--transpose-b", "--repeats", "1", "--backend", "opencl"],
                             env: ["QUIVER_KERNEL_DIR": "", "QUIVER_CACHE_DIR": dir.appendingPathComponent("cache").path],
                             binary: copy, cwd: dir)
        #expect(r.status == 0 && r.stdout.contains("(ok)"), "\(r.stdout)\n\(r.stderr)")
    }

    @Test func badArgumentsFailWithAMessage() throws {
        let r = try Self.run(["gemm", "--backend", "cuda"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown backend 'cuda'; use one of: auto, cpu, opencl"), "\(r.stderr)")
        let d = try Self.run(["gemm", "--backend", "opencl", "--device", "no-such-gpu", "--m", "2", "--n", "2", "--k", "2"])
        #expect(d.status != 0 && d.stderr.contains("no-such-gpu"), "\(d.stderr)")
    }
}
