import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

/// The GPU benchmark suite's parts that need no device: the table of known peaks, the top-k
/// verifier, the generated data and the goals.
@Suite struct GPUSuitePartsTests {
    // MARK: peaks

    @Test func knownDevicesMatchTheNamesNVIDIADriversReport() {
        let gib: UInt64 = 1 << 30
        func label(_ name: String, _ memoryGiB: UInt64) -> String? { KnownDevices.lookup(name: name, globalMemoryBytes: memoryGiB * gib)?.label }
        #expect(label("NVIDIA H100 80GB HBM3", 79) == "NVIDIA H100 SXM5 80GB")
        #expect(label("NVIDIA H100 PCIe", 79) == "NVIDIA H100 PCIe 80GB")
        #expect(label("NVIDIA H100 NVL", 93) == "NVIDIA H100 NVL")
        #expect(label("NVIDIA H200", 140) == "NVIDIA H200 SXM 141GB")
        #expect(label("NVIDIA A100-SXM4-80GB", 79) == "NVIDIA A100 SXM4 80GB")
        #expect(label("NVIDIA A100-SXM4-40GB", 39) == "NVIDIA A100 40GB")
        #expect(label("NVIDIA A100 80GB PCIe", 79) == "NVIDIA A100 PCIe 80GB")
        #expect(label("NVIDIA L4", 22) == "NVIDIA L4")
        #expect(label("NVIDIA L40S", 44) == "NVIDIA L40S")
        #expect(label("Tesla T4", 15) == "NVIDIA T4")
        // Unlisted devices stay unknown rather than borrowing a neighbour's figures.
        #expect(label("NVIDIA A10G", 22) == nil)
        #expect(label("cpu-skylake-avx512-Intel(R) Xeon(R) CPU", 8) == nil)
        let h100 = KnownDevices.lookup(name: "NVIDIA H100 80GB HBM3", globalMemoryBytes: 79 * gib)
        #expect(h100?.fp32GFLOPS == 67_000 && h100?.memoryGBps == 3_350)
    }

    @Test func overridesWinAndUnknownStaysUnknown() {
        let pocl = DevicePeaks.resolve(deviceName: "cpu-haswell-AMD EPYC", globalMemoryBytes: 1 << 33, overrideGFLOPS: 120)
        #expect(pocl == DevicePeaks(fp32GFLOPS: 120, memoryGBps: nil, fp32Source: "--peak-gflops", memorySource: "unknown"))
        let h100 = DevicePeaks.resolve(deviceName: "NVIDIA H100 80GB HBM3", globalMemoryBytes: 85_000_000_000, overrideGBps: 3000)
        #expect(h100 == DevicePeaks(fp32GFLOPS: 67_000, memoryGBps: 3000, fp32Source: "table: NVIDIA H100 SXM5 80GB", memorySource: "--peak-bandwidth"))
    }

    // MARK: verifier

    @Test func verifierComparesEveryIdOfTheSampledQueries() {
        // Reference: 3 queries, k = 4; the device answered k = 2 for the same queries.
        let reference = RankedLists(k: 4, rows: [7, 3, 9, 1, 2, 4, 6, 8, 5, 0, 11, 12], scores: [9, 8, 7, 6, 5, 4, 3, 2, 9, 8, 7, 6])
        let device = RankedLists(k: 2, rows: [7, 3, 2, 4, 5, 0], scores: [9, 8, 5, 4, 9, 8])
        let same = TopKVerifier.compare(device: device, reference: reference, queries: 3)
        #expect(same.passed && same.queries == 3 && same.entries == 6 && same.mismatches == 0)

        var wrong = device
        wrong.rows[3] = 6  // query 1, rank 1
        let caught = TopKVerifier.compare(device: wrong, reference: reference, queries: 3)
        #expect(!caught.passed && caught.mismatches == 1)
        #expect(caught.firstMismatch == "query 1, rank 1: device row 6 (score 4.0), CPU row 4 (score 4.0)")
        // Only the sampled queries count.
        #expect(TopKVerifier.compare(device: wrong, reference: reference, queries: 1).passed)

        var swapped = device
        swapped.rows.swapAt(0, 1)  // the same ids in another order
        #expect(TopKVerifier.compare(device: swapped, reference: reference, queries: 3).mismatches == 2)

        let nothing = TopKVerifier.compare(device: device, reference: RankedLists(k: 1, rows: [7], scores: [9]), queries: 3)
        #expect(!nothing.passed && nothing.entries == 0, "a reference with a smaller k cannot vouch for anything")
    }

    // MARK: generated data

    @Test func gridValuesAreSeededAndExactlyRepresentable() {
        let a = SyntheticData.gridValues(count: 200_003, seed: 3, stream: 1)
        #expect(a == SyntheticData.gridValues(count: 200_003, seed: 3, stream: 1))
        #expect(a != SyntheticData.gridValues(count: 200_003, seed: 3, stream: 2))
        #expect(a != SyntheticData.gridValues(count: 200_003, seed: 4, stream: 1))
        #expect(a.allSatisfy { $0 * 16 == ($0 * 16).rounded() && abs($0) <= 1 })
        let distinct = Set(a)
        #expect(distinct.count == 33 && distinct.contains(-1) && distinct.contains(1) && distinct.contains(0))
        // A prefix is the same sequence (the catalog writer relies on it).
        #expect(Array(a.prefix(70_000)) == SyntheticData.gridValues(count: 70_000, seed: 3, stream: 1))
    }

    @Test func writtenCatalogIsTheSequenceAcrossBlocks() throws {
        let dir = try Scratch.directory("gpu-suite-catalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.npy").path
        // 2 dims × 70 000 rows crosses the writer's 65 536-row block boundary.
        try SyntheticData.writeCatalog(rows: 70_000, dimension: 2, seed: 5, to: path)
        let t = try Npy.read(path: path)
        #expect(t.shape == Shape([70_000, 2]))
        #expect(t.floats() == SyntheticData.gridValues(count: 140_000, seed: 5, stream: 0))
    }

    // MARK: goals

    @Test func goalsJudgeTheWorstSmallBatchAndTheLargestGEMM() throws {
        var doc = GPUSuiteDocument(size: .full, seed: 1, device: try Self.someDeviceEntry(),
                                   peaks: DevicePeaks(fp32GFLOPS: 1000, memoryGBps: 100, fp32Source: "test", memorySource: "test"))
        func scoring(_ batch: Int, _ gbps: Double) -> ScoringRow {
            ScoringRow(rows: 10, dimension: 4, precision: .f16, batch: batch, k: 10, bytesPerPass: 80, repeats: 1, medianMs: 1, gbPerS: gbps,
                       fractionOfBandwidth: gbps / 100, queriesPerS: 1, placement: "resident on the device", verification: TopKComparison())
        }
        doc.scoring = [scoring(1, 95), scoring(8, 79), scoring(64, 10)]
        func gemm(_ n: Int, _ gflops: Double) -> GEMMRow {
            GEMMRow(shape: .init("g\(n)", m: n, n: n, k: n, transposeB: false), repeats: 1, medianMs: 1, gflops: gflops, bestGflops: gflops,
                    fractionOfPeak: gflops / 1000, maxRelativeError: 0, passed: true)
        }
        doc.gemm = [gemm(64, 900), gemm(4096, 650), gemm(16, 1)]
        let goals = GPUGoals.evaluate(doc)
        #expect(goals.map(\.met) == [false, true, nil])
        #expect(goals[0].measured == "79% (f16, 10 rows, batch 8, k 10)", "batch 64 is outside the goal")
        #expect(goals[1].measured == "65% (4096×4096×4096)")
        #expect(goals[2].measured == "not run")

        doc.peaks = DevicePeaks(fp32GFLOPS: nil, memoryGBps: nil, fp32Source: "unknown", memorySource: "unknown")
        doc.scoring = doc.scoring.map { var r = $0; r.fractionOfBandwidth = nil; return r }
        doc.gemm = doc.gemm.map { var r = $0; r.fractionOfPeak = nil; return r }
        #expect(GPUGoals.evaluate(doc).map(\.met) == [nil, nil, nil], "unknown peaks are never judged")
    }

    static func someDeviceEntry() throws -> DeviceReport.OpenCLEntry {
        let json = """
            {"index":0,"platform":"P","platformVersion":"OpenCL 3.0","name":"Test GPU","vendor":"V","type":"gpu","computeUnits":2,
             "maxClockMHz":1000,"globalMemoryBytes":1073741824,"maxAllocationBytes":268435456,"localMemoryBytes":49152,
             "maxWorkGroupSize":1024,"openCLVersion":"OpenCL 3.0","openCLCVersion":"OpenCL C 1.2","driverVersion":"1","fp16":false}
            """
        return try JSONDecoder().decode(DeviceReport.OpenCLEntry.self, from: Data(json.utf8))
    }
}
