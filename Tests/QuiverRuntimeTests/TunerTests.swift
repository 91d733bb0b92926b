import Foundation
import QuiverOpenCL
@testable import QuiverRuntime
import QuiverTestSupport
import Testing

/// The tuner on tiny shapes with injected variants (no timing is asserted: only which variants
/// are measured, skipped or rejected, and what is stored and loaded).
@Suite(.serialized) struct TunerTests {
    /// An untuned OpenCL backend (its defaults are the baseline), or nil when OpenCL is absent and allowed.
    func backend() throws -> OpenCLBackend? {
        guard let any = try TestBackends.backend("opencl"), let shared = any as? OpenCLBackend else { return nil }
        return try OpenCLBackend(device: shared.openCLDevice, options: .init(diskCache: false, tuning: .disabled))
    }

    func variant(_ kernel: TuneKernel, _ be: OpenCLBackend, isDefault: Bool = false, defines: String = "",
                 _ change: (inout KernelConfig) -> Void = { _ in }) -> TuneVariant {
        var config = be.kernelConfig
        change(&config)
        var v = TuneVariant(kernel: kernel, config: config, isDefault: isDefault)
        v.extraDefines = defines
        return v
    }

    static let smallGEMM = KernelConfig.GEMM(tileM: 16, tileN: 16, tileK: 8, workPerThreadM: 2, workPerThreadN: 2)

    @Test func wrongOrUnrunnableVariantsAreRecordedAndNeverChosen() throws {
        guard let be = try backend() else { return }
        let variants = [
            variant(.gemm, be, isDefault: true),
            // Valid tiles, but a define that turns the identity epilogue into ReLU: wrong output.
            variant(.gemm, be, defines: "-D ACT=1") { $0.gemm = Self.smallGEMM },
            variant(.gemm, be) { $0.gemm = Self.smallGEMM },
            variant(.gemm, be) { $0.gemm = .init(tileM: 128, tileN: 128, tileK: 8, workPerThreadM: 1, workPerThreadN: 1) },
            variant(.gemm, be) { $0.gemm = .init(tileM: 64, tileN: 64, tileK: 1 << 16, workPerThreadM: 8, workPerThreadN: 8) },
            variant(.gemm, be, defines: "-D ACT=(") { $0.gemm = Self.smallGEMM },
        ]
        let shapes: [TuneShape] = [.gemm(m: 33, n: 20, k: 24, activation: "identity"), .gemm(m: 17, n: 40, k: 8, activation: "gelu")]
        let tuner = Tuner(backend: be, reference: try #require(try TestBackends.backend("cpu")), shapes: shapes,
                          variants: [.gemm: variants], options: .init(quick: true, timedRuns: 1))
        var ticks = 0
        let report = try tuner.run { _ in ticks += 1 }
        #expect(ticks == variants.count * shapes.count)
        let family = try #require(report.families.first)
        let status = family.variants.map { $0.outcomes.map(\.status) }
        #expect(status[0] == [.measured, .measured])
        #expect(status[1] == [.rejected, .rejected], "\(family.variants[1].outcomes)")
        let rejected = family.variants[1].outcomes[0]
        #expect((rejected.error ?? 0) > (rejected.tolerance ?? .infinity))
        #expect(family.variants[1].outcomes[1].reason?.contains("not run") == true, "after one wrong shape the others are not run")
        #expect(status[2] == [.measured, .measured])
        #expect(status[3] == [.skipped, .skipped] && family.variants[3].outcomes[0].reason?.contains("CL_DEVICE_MAX_WORK_GROUP_SIZE") == true,
                "\(family.variants[3].outcomes[0])")
        #expect(status[4] == [.skipped, .skipped] && family.variants[4].outcomes[0].reason?.contains("local memory") == true)
        #expect(status[5] == [.skipped, .skipped] && family.variants[5].outcomes[0].reason?.contains("does not build") == true,
                "\(family.variants[5].outcomes[0])")
        #expect(family.variants.enumerated().allSatisfy { i, v in (v.score != nil) == [0, 2].contains(i) })
        let chosen = try #require(family.chosen)
        #expect([0, 2].contains(chosen))
        #expect(family.tuned == (chosen == 2 ? TunedKernels(gemm: Self.smallGEMM) : nil))
    }

    /// Selection alone: the fastest variant on a shape is passed over when it was rejected on another.
    @Test func selectionNeverPicksAVariantWithoutEveryShapeMeasured() {
        func ok(_ ms: Double) -> TuneOutcome { TuneOutcome(status: .measured, medianMs: ms) }
        let rejected = TuneOutcome(status: .rejected, error: 1, tolerance: 1e-4, reason: "wrong output")
        func v(_ outcomes: [TuneOutcome], isDefault: Bool = false) -> TuneVariantResult {
            TuneVariantResult(parameters: [:], label: "", isDefault: isDefault, isCombination: false, outcomes: outcomes, score: nil)
        }
        var family = TuneFamilyResult(kernel: .gemm, shapes: [.gemm(m: 1, n: 1, k: 1, activation: "identity"),
                                                              .gemm(m: 2, n: 2, k: 2, activation: "identity")],
                                      variants: [v([ok(10), ok(10)], isDefault: true), v([ok(1), rejected]), v([ok(8), ok(9)]),
                                                 v([ok(9.9), ok(10)])],
                                      chosen: nil, defaultIndex: 0, tuned: nil)
        TuneSelection.score(&family)
        #expect(family.variants[1].score == nil)
        #expect(TuneSelection.choose(family) == 2)
        family.variants[2].outcomes[1] = .skipped("device limit")
        TuneSelection.score(&family)
        #expect(TuneSelection.choose(family) == 0, "1% faster is within the 2% margin: the default stays")
    }

    /// Every family on tiny shapes: correct variants pass the check, the chosen parameters are
    /// stored, and a new backend for the device loads them.
    @Test func tunedEntryIsStoredAndLoadedByANewBackend() throws {
        guard let be = try backend() else { return }
        let variants: [TuneKernel: [TuneVariant]] = [
            .gemm: [variant(.gemm, be, isDefault: true), variant(.gemm, be) { $0.gemm = Self.smallGEMM }],
            .attention: [variant(.attention, be, isDefault: true), variant(.attention, be) { $0.attention = .init(queriesPerGroup: 16, keysPerTile: 8) }],
            .topk: [variant(.topk, be, isDefault: true),
                    variant(.topk, be) { $0.topK = .init(tileQ: 16, tileT: 16, tileD: 8, workPerThreadQ: 2, workPerThreadT: 2,
                                                         mergeGroupSize: 64, chunkRows: 128) }],
        ]
        let shapes: [TuneShape] = [.topK(queries: 5, items: 300, dimension: 16, k: 7), .gemm(m: 40, n: 24, k: 16, activation: "gelu"),
                                   .attention(batch: 2, sequence: 19, heads: 2, headDim: 8)]
        let tuner = Tuner(backend: be, reference: try #require(try TestBackends.backend("cpu")), shapes: shapes, variants: variants,
                          options: .init(quick: true, timedRuns: 1))
        var report = try tuner.run()
        #expect(report.families.map(\.kernel) == [.gemm, .attention, .topk], "families in a fixed order")
        for f in report.families {
            #expect(f.variants.allSatisfy { $0.outcomes.allSatisfy { $0.status == .measured } },
                    "\(f.kernel): \(f.variants.map(\.outcomes))")
        }
        let dir = try Scratch.directory("tuner-store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tuning.json").path
        #expect(try TuneStore.save(&report, from: tuner, to: path) == nil)
        let entry = try #require(report.entry)
        #expect(report.cachePath == path)
        for f in report.families {
            let chosen = try #require(f.chosen)
            #expect(f.tuned == nil || !f.variants[chosen].isDefault)
        }
        let loaded = try OpenCLBackend(device: be.openCLDevice, options: .init(diskCache: false, tuning: .file(path)))
        #expect(loaded.tuningStatus.isTuned)
        #expect(loaded.kernelConfig == entry.kernels.applied(to: be.kernelConfig))
        #expect(entry.key.device == TuningKey.Device(be.openCLDevice) && entry.key.kernelSourceHash == KernelSourceHash.current())
        let json = try JSONSerialization.jsonObject(with: report.json()) as? [String: Any]
        #expect((json?["families"] as? [Any])?.count == 3)
        #expect(report.table().contains("speedup"))
    }

    @Test func variantListsAreFixedAndStartWithTheDefault() throws {
        guard let be = try backend() else { return }
        for quick in [true, false] {
            for kernel in TuneKernel.allCases {
                let a = TuneSpace.variants(kernel, defaults: be.kernelConfig, quick: quick)
                let b = TuneSpace.variants(kernel, defaults: be.kernelConfig, quick: quick)
                #expect(a == b)
                #expect(a.first?.isDefault == true && a.first?.config == be.kernelConfig)
                #expect(a.dropFirst().allSatisfy { !$0.isDefault })
                #expect(Set(a.map(\.config)).count == a.count, "no duplicates")
                #expect(a.count >= (quick ? 2 : 10), "\(kernel) quick=\(quick): \(a.count)")
            }
        }
        #expect(TuneShape.standard(quick: false).contains(.topK(queries: 64, items: 65536, dimension: 384, k: 100)))
    }
}
