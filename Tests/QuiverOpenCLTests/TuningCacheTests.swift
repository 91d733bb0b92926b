import Foundation
import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

/// The tuning cache file: keys, merging, atomic replacement, corrupt files, and the backend
/// loading a tuned configuration.
@Suite struct TuningCacheTests {
    static let otherDevice = TuningKey.Device(name: "Other GPU", vendor: "Acme", driverVersion: "1.0")

    func entry(_ device: TuningKey.Device, hash: String = KernelSourceHash.current() ?? "", gemm: KernelConfig.GEMM) -> TuningEntry {
        TuningEntry(key: TuningKey(device: device, kernelSourceHash: hash), kernels: TunedKernels(gemm: gemm),
                    tunedAt: "2026-01-01T00:00:00Z", mode: "quick")
    }

    func files(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func storeMergesOtherDevicesAndReplacesTheSameDevice() throws {
        let dir = try Scratch.directory("tuning-merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = TuningCache(path: dir.appendingPathComponent("sub/tuning.json").path)
        let mine = TuningKey.Device(name: "My GPU", vendor: "Acme", driverVersion: "2.0")
        try cache.store(entry(Self.otherDevice, gemm: .init(tileM: 32)))
        try cache.store(entry(mine, hash: "stale", gemm: .init(tileM: 16, workPerThreadM: 2)))
        try cache.store(entry(mine, gemm: .init(tileM: 128, workPerThreadM: 8)))

        guard case .loaded(let file) = cache.read() else { Issue.record("cache not readable"); return }
        #expect(file.entries.map(\.key.device) == [mine, Self.otherDevice], "one entry per device, sorted by name")
        #expect(file.entries[0].kernels.gemm?.tileM == 128, "the re-tuned device's entry replaced its older one")
        #expect(file.entries[1].kernels.gemm?.tileM == 32, "the other device's entry is kept")
        #expect(try files(in: dir.appendingPathComponent("sub")) == ["tuning.json", "tuning.json.lock"], "no temp files left")

        // Keyed by the kernel sources: an entry for other sources is stale, not used.
        try cache.store(entry(mine, hash: "0123456789abcdef", gemm: .init(tileM: 128, workPerThreadM: 8)))
        guard case .stale = cache.lookup(mine) else { Issue.record("an entry for other kernel sources must be stale"); return }
        guard case .tuned(let e) = cache.lookup(Self.otherDevice) else { Issue.record("other device lost"); return }
        #expect(e.kernels.gemm?.tileM == 32)
        guard case .untuned = cache.lookup(TuningKey.Device(name: "My GPU", vendor: "Acme", driverVersion: "2.1")) else {
            Issue.record("a different driver version is a different key"); return
        }
        #expect(try cache.remove(mine) == 1)
        guard case .loaded(let after) = cache.read() else { Issue.record("cache not readable"); return }
        #expect(after.entries.map(\.key.device) == [Self.otherDevice])
    }

    /// Every way the file can be unusable: the backend says why and runs the defaults.
    @Test func corruptCacheIsIgnoredWithAWarning() throws {
        guard let device = try TestDevice.device.get() else { return }
        let dir = try Scratch.directory("tuning-corrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tuning.json").path
        let valid = try TuningFile(entries: [entry(TuningKey.Device(device), gemm: .init(tileM: 32, tileN: 16))]).encoded()
        let impossible = try TuningFile(entries: [entry(TuningKey.Device(device),
                                                        gemm: .init(tileM: 4096, tileN: 4096, tileK: 1, workPerThreadM: 1, workPerThreadN: 1))]).encoded()
        let cases: [(String, Data)] = [
            ("not JSON", Data("not json at all {".utf8)),
            ("truncated", valid.prefix(valid.count / 2)),
            ("empty", Data()),
            ("another format", Data(#"{"format": "something-else", "version": 1, "entries": []}"#.utf8)),
            ("a future version", Data(#"{"format": "quiver-tuning", "version": 99, "entries": []}"#.utf8)),
            ("an entry the device cannot run", impossible),
        ]
        let defaults = KernelConfig.defaults(for: device)
        for (what, bytes) in cases {
            try bytes.write(to: URL(fileURLWithPath: path))
            let be = try OpenCLBackend(device: device, options: .init(diskCache: false, tuning: .file(path)))
            let warning = be.tuningStatus.warning
            #expect(warning?.contains(path) == true, "\(what): the warning names the file, got \(String(describing: warning))")
            #expect(be.kernelConfig == defaults, "\(what): the defaults are used")
            #expect(be.device.details.contains { $0.0 == "tuning" && $0.1.contains("defaults") })
        }
        // A directory where the file should be cannot be read either.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let be = try OpenCLBackend(device: device, options: .init(diskCache: false, tuning: .file(path)))
        #expect(be.tuningStatus.warning != nil && be.kernelConfig == defaults)
        try FileManager.default.removeItem(atPath: path)

        // Storing over a corrupt file replaces it and says so.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        let result = try TuningCache(path: path).store(entry(Self.otherDevice, gemm: .init()))
        #expect(result.replacedCorruptFile?.contains("not a Quiver tuning file") == true)
        guard case .loaded(let file) = TuningCache(path: path).read() else { Issue.record("not rewritten"); return }
        #expect(file.entries.count == 1)
    }

    /// A backend created after tuning loads the device's entry, and it changes the programs it builds.
    @Test func tunedConfigChangesTheProgramsTheBackendBuilds() throws {
        guard let device = try TestDevice.device.get() else { return }
        let dir = try Scratch.directory("tuning-load")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tuning.json").path
        let gemm = KernelConfig.GEMM(tileM: 32, tileN: 16, tileK: 8, workPerThreadM: 4, workPerThreadN: 2)
        let attention = KernelConfig.Attention(queriesPerGroup: 16, keysPerTile: 8)
        try TuningCache(path: path).store(TuningEntry(
            key: TuningKey(device: TuningKey.Device(device), kernelSourceHash: try #require(KernelSourceHash.current())),
            kernels: TunedKernels(gemm: gemm, attention: attention), tunedAt: "2026-01-01T00:00:00Z", mode: "full"))
        try TuningCache(path: path).store(entry(Self.otherDevice, gemm: .init(tileM: 8, tileN: 8, tileK: 8, workPerThreadM: 2, workPerThreadN: 2)))

        let tuned = try OpenCLBackend(device: device, options: .init(diskCache: false, tuning: .file(path)))
        let untuned = try OpenCLBackend(device: device, options: .init(diskCache: false, tuning: .disabled))
        #expect(tuned.tuningStatus == .tuned(cache: path, tunedAt: "2026-01-01T00:00:00Z", mode: "full"))
        #expect(untuned.tuningStatus == .untuned(cache: nil))
        #expect(tuned.kernelConfig.gemm == gemm && tuned.kernelConfig.attention == attention)
        #expect(tuned.kernelConfig.topK == untuned.kernelConfig.topK, "families without a tuned entry keep the defaults")

        var rng = TestSeed.rng("tuned-gemm")
        let (m, n, k) = (37, 29, 23)
        let a = rng.floats(m * k), b = rng.floats(n * k)
        let want = Reference.gemm(a.doubles, b.doubles, m: m, n: n, k: k, transposeB: true, bias: nil, activation: "identity")
        for be in [tuned, untuned] {
            let c = try be.buffer([m, n], .f32)
            try be.gemm(try be.f32([m, k], a), try be.f32([n, k], b), transposeB: true, bias: nil, activation: .identity, into: c)
            expectClose(try be.values(c), want, "gemm \(be.tuningStatus.summary) \(TestSeed.replay)")
        }
        let tunedDefines = "-D TS_M=32 -D TS_N=16 -D TS_K=8 -D WPT_M=4 -D WPT_N=2"
        let defaults = untuned.kernelConfig.gemm
        let defaultDefines = "-D TS_M=\(defaults.tileM) -D TS_N=\(defaults.tileN) -D TS_K=\(defaults.tileK) "
            + "-D WPT_M=\(defaults.workPerThreadM) -D WPT_N=\(defaults.workPerThreadN)"
        #expect(tuned.programCache.programKeys.contains { $0.hasPrefix("gemm|") && $0.contains(tunedDefines) }, "\(tuned.programCache.programKeys)")
        #expect(!tuned.programCache.programKeys.contains { $0.contains(defaultDefines) })
        #expect(untuned.programCache.programKeys.contains { $0.hasPrefix("gemm|") && $0.contains(defaultDefines) })
    }

    /// GEMM parameters recorded before the vector width existed read as width 1; new ones round-trip.
    @Test func gemmEntriesWithoutAVectorWidthReadAsWidthOne() throws {
        let old = #"{"tileM":32,"tileN":16,"tileK":8,"workPerThreadM":4,"workPerThreadN":2}"#
        let decoded = try JSONDecoder().decode(KernelConfig.GEMM.self, from: Data(old.utf8))
        #expect(decoded == KernelConfig.GEMM(tileM: 32, tileN: 16, tileK: 8, workPerThreadM: 4, workPerThreadN: 2, vectorWidth: 1))
        let wide = KernelConfig.GEMM(tileM: 64, tileN: 64, tileK: 32, workPerThreadM: 8, workPerThreadN: 8, vectorWidth: 4)
        #expect(try JSONDecoder().decode(KernelConfig.GEMM.self, from: JSONEncoder().encode(wide)) == wide)
    }

    @Test func defaultLocationFollowsTheEnvironment() {
        #expect(TuningCache.defaultLocation(environment: ["QUIVER_TUNING_CACHE": "/x/t.json", "HOME": "/h"])?.path == "/x/t.json")
        #expect(TuningCache.defaultLocation(environment: ["QUIVER_TUNING_CACHE": "off", "HOME": "/h"]) == nil)
        #expect(TuningCache.defaultLocation(environment: ["QUIVER_CACHE_DIR": "/q", "XDG_CACHE_HOME": "/x", "HOME": "/h"])?.path == "/q/tuning.json")
        #expect(TuningCache.defaultLocation(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"])?.path == "/x/quiver/tuning.json")
        #expect(TuningCache.defaultLocation(environment: ["HOME": "/h"])?.path == "/h/.cache/quiver/tuning.json")
        #expect(TuningCache.defaultLocation(environment: [:]) == nil)
    }
}
