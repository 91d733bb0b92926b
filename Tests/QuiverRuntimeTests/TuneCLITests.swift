import Foundation
import QuiverOpenCL
import QuiverRuntime
import QuiverTestSupport
import Testing

/// `quiver tune` as a user runs it: the cache it writes and merges, `quiver devices` reporting it,
/// `--reset`, a corrupt cache, and a tuner killed mid-run.
@Suite(.serialized) struct TuneCLITests {
    static let other = TuningEntry(
        key: TuningKey(device: .init(name: "Other GPU", vendor: "Acme", driverVersion: "1.0"), kernelSourceHash: "0011223344556677"),
        kernels: TunedKernels(gemm: .init(tileM: 32)), tunedAt: "2026-01-01T00:00:00Z", mode: "full")

    func openCLDevice() throws -> OpenCLDevice? {
        (try TestBackends.backend("opencl") as? OpenCLBackend)?.openCLDevice
    }

    @Test func quickTuneWritesMergesAndResetsTheCache() throws {
        guard let device = try openCLDevice() else { return }
        let dir = try Scratch.directory("tune-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tuning.json").path
        let json = dir.appendingPathComponent("report.json").path
        try TuningCache(path: path).store(Self.other)
        let env = ["QUIVER_CACHE_DIR": dir.appendingPathComponent("cache").path]

        let r = try CLITests.run(["tune", "--quick", "--cache", path, "--json", json], env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("speedup") && r.stdout.contains("gemm") && r.stdout.contains("topk"), "\(r.stdout)")
        #expect(r.stderr.contains("saved to \(path)"), "\(r.stderr)")
        guard case .loaded(let file) = TuningCache(path: path).read() else { Issue.record("cache unreadable"); return }
        #expect(file.entries.count == 2)
        #expect(file.entries.contains(Self.other), "the other device's entry is kept")
        let mine = try #require(file.entries.first { $0.key.device == TuningKey.Device(device) })
        #expect(mine.key.kernelSourceHash == KernelSourceHash.current() && mine.mode == "quick")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        #expect((report?["families"] as? [Any])?.count == 3)

        let devices = try CLITests.run(["devices", "--json"], env: ["QUIVER_TUNING_CACHE": path])
        let listed = (try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [String: Any])?["openCLDevices"] as? [[String: Any]]
        #expect(listed?.first { $0["name"] as? String == device.name }?["tuned"] as? Bool == true, "\(devices.stdout)")

        let reset = try CLITests.run(["tune", "--reset", "--cache", path], env: env)
        #expect(reset.status == 0 && reset.stderr.contains("removed the tuning of"), "\(reset.stderr)")
        guard case .loaded(let after) = TuningCache(path: path).read() else { Issue.record("cache unreadable"); return }
        #expect(after.entries == [Self.other])
        let untuned = try CLITests.run(["devices"], env: ["QUIVER_TUNING_CACHE": path])
        #expect(untuned.stdout.contains("kernels: not tuned"), "\(untuned.stdout)")
    }

    @Test func corruptCacheIsReportedAndTheDefaultsRun() throws {
        guard try openCLDevice() != nil else { return }
        let dir = try Scratch.directory("tune-corrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tuning.json").path
        try Data("{\"format\": \"quiver-tuning\", \"entries\": [".utf8).write(to: URL(fileURLWithPath: path))
        let r = try CLITests.run(["gemm", "--backend", "opencl", "--m", "16", "--n", "16", "--k", "16", "--repeats", "1"],
                                 env: ["QUIVER_TUNING_CACHE": path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: tuning cache \(path) is ignored"), "\(r.stderr)")
        #expect(r.stdout.contains("ok"))
    }

    /// kill -9 while variants are being built and timed: the previous cache is untouched.
    @Test func killedTunerLeavesThePreviousCacheIntact() throws {
        guard let device = try openCLDevice() else { return }
        let exe = try #require(CLITests.binary, "quiver binary not built")
        let dir = try Scratch.directory("tune-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tuning.json").path
        let kernels = dir.appendingPathComponent("cache/kernels").path
        let mine = TuningEntry(key: TuningKey(device: TuningKey.Device(device), kernelSourceHash: KernelSourceHash.current() ?? ""),
                               kernels: TunedKernels(gemm: .init(tileM: 16, tileN: 16, tileK: 8, workPerThreadM: 2, workPerThreadN: 2)),
                               tunedAt: "2026-01-01T00:00:00Z", mode: "full")
        try TuningCache(path: path).store(Self.other)
        try TuningCache(path: path).store(mine)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let process = Process()
        process.executableURL = exe
        process.arguments = ["tune", "--cache", path]   // the full run: minutes on PoCL, seconds on a GPU
        process.environment = ProcessInfo.processInfo.environment.merging(["QUIVER_CACHE_DIR": dir.appendingPathComponent("cache").path]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Mid-tuning = the first variant's program binary has been written to the kernel cache.
        var started = false
        for _ in 0..<2400 where process.isRunning {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: kernels), names.contains(where: { $0.hasSuffix(".clbin") }) {
                started = true
                break
            }
            usleep(50_000)
        }
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(started && wasRunning, "the tuner must be killed while it builds and times variants")
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the previous cache file is unchanged")
        guard case .loaded(let file) = TuningCache(path: path).read() else { Issue.record("cache unreadable"); return }
        #expect(file.entries.count == 2)
        let backend = try OpenCLBackend(device: device, options: .init(diskCache: false, tuning: .file(path)))
        #expect(backend.tuningStatus.isTuned && backend.kernelConfig.gemm == mine.kernels.gemm)
    }
}
