import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

/// The GPU benchmark suite end to end on the OpenCL device (PoCL in CI): the small suite through
/// the CLI, and a corrupted device result failing it. Nothing here asserts on elapsed time.
@Suite(.serialized) struct GPUSuiteTests {
    // MARK: end to end (OpenCL)

    /// The OpenCL backend the suite runs on, or nil (with the reason printed) when there is no
    /// OpenCL device and QUIVER_ALLOW_NO_OPENCL=1 allows that; without it a missing device fails.
    static func openCL() throws -> (any ComputeBackend)? {
        guard let backend = try TestBackends.backend("opencl") else {
            print("GPUSuiteTests: skipped, no OpenCL device (QUIVER_ALLOW_NO_OPENCL=1)")
            return nil
        }
        return backend
    }

    /// A wrong device answer must fail the suite: the test seam swaps two ids of one list, and
    /// the same plan without it passes (so the failure is the comparison's doing).
    @Test func alteredDeviceResultFailsTheSuite() async throws {
        guard let device = try Self.openCL() else { return }
        var plan = GPUSuitePlan.preset(.small)
        (plan.sections, plan.catalogRows, plan.precisions, plan.batches, plan.ks, plan.verifyQueries) = ([.scoring], [3000], [.f32], [8], [10], 4)
        let cpu = try #require(try TestBackends.backend("cpu"))
        let clean = try await GPUSuite(device: device, reference: cpu, options: GPUSuite.Options(plan: plan)) { _ in }.run()
        #expect(clean.verification.passed && clean.verification.scoringIds == 40)

        var options = GPUSuite.Options(plan: plan)
        options.alterDeviceResults = { lists in lists.rows.swapAt(2 * lists.k + 3, 2 * lists.k + 4) }  // query 2, ranks 3 and 4
        var saved: GPUSuiteDocument?
        do {
            _ = try await GPUSuite(device: device, reference: cpu, options: options) { _ in }.run { saved = $0 }
            Issue.record("the suite accepted a corrupted top-k")
        } catch let failure as GPUSuite.VerificationFailed {
            #expect(failure.description.contains("query 2, rank 3") && failure.description.contains("2 of 40 ids differ"), "\(failure)")
            #expect(failure.document.verification.scoringMismatches == 2 && !failure.document.verification.passed)
            #expect(saved?.scoring.count == 1, "the failing row is saved before the suite stops")
        }
    }

    /// Flag mistakes are refused before a device is opened or a catalog generated.
    @Test func suiteFlagsAreCheckedFirst() throws {
        let cases: [([String], String)] = [
            (["--backend", "cpu", "--model", "m"], "runs on the OpenCL backend"),
            ([], "the encode section needs a text model"),
            (["--sections", "gemm,tuning"], "unknown section 'tuning'"),
            (["--sections", "gemm", "--report", "x.svg"], "give a .md file name"),
            (["--sections", "gemm", "--peak-gflops", "0"], "--peak-gflops must be positive"),
        ]
        for (args, message) in cases {
            let r = try CLITests.run(["bench", "--suite", "gpu"] + args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("[device]"), "\(args) got as far as the device")
        }
    }

    @Test func smallSuiteThroughTheCLIWritesEverySection() throws {
        guard try Self.openCL() != nil else { return }
        let model = EncodeCLITests.model
        guard FileManager.default.fileExists(atPath: model) else {
            Issue.record("model missing at \(model): run scripts/fetch-model.sh"); return
        }
        let dir = try Scratch.directory("gpu-suite")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("out/gpu.json"), report = dir.appendingPathComponent("out/gpu.md")
        let r = try CLITests.run(["bench", "--suite", "gpu", "--size", "small", "--model", model, "--backend", "opencl",
                                  "--peak-gflops", "1000", "--peak-bandwidth", "50", "--scratch", dir.path,
                                  "--json", json.path, "--report", report.path])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try GPUSuiteDocument.read(Data(contentsOf: json))
        let plan = GPUSuitePlan.preset(.small)

        #expect(!doc.device.name.isEmpty && doc.device.computeUnits > 0 && doc.device.globalMemoryBytes > 0 && doc.device.maxAllocationBytes > 0)
        #expect(doc.peaks.fp32Source == "--peak-gflops" && doc.peaks.memoryGBps == 50)

        #expect(doc.gemm.map(\.shape) == plan.gemmShapes)
        #expect(doc.gemm.allSatisfy { $0.passed && $0.gflops > 0 && $0.medianMs > 0 && $0.fractionOfPeak == $0.gflops / 1000 })

        #expect(doc.scoring.count == plan.catalogRows.count * plan.precisions.count * plan.batches.count * plan.ks.count)
        for row in doc.scoring {
            let elementBytes = ["f32": 4, "f16": 2, "int8": 1][row.precision.rawValue]!
            #expect(row.bytesPerPass == row.rows * row.dimension * elementBytes + (row.precision == .int8 ? 4 * row.rows : 0))
            #expect(row.gbPerS > 0 && row.queriesPerS > 0 && row.fractionOfBandwidth == row.gbPerS / 50)
            #expect(row.verification.passed && row.verification.queries == min(row.batch, plan.verifyQueries)
                    && row.verification.entries == row.verification.queries * row.k, "\(row)")
        }
        #expect(Set(doc.scoring.map(\.precision)) == Set(GPUSuitePlan.Precision.allCases))
        #expect(Set(doc.scoring.map(\.rows)) == Set(plan.catalogRows) && Set(doc.scoring.map(\.batch)) == Set(plan.batches))

        let encode = try #require(doc.encode)
        #expect(encode.model == "all-MiniLM-L6-v2" && encode.tokens == plan.encodeTokens)
        #expect(encode.runs.map(\.batch) == plan.encodeBatches && encode.runs.allSatisfy { $0.sentencesPerS > 0 })
        #expect(encode.maxAbsDifferenceVsCPU < 1e-3)

        let search = try #require(doc.search)
        #expect(search.rows == plan.searchRows && search.run.completed > 0 && search.run.failed == 0)
        #expect(search.run.latencyMs.p50 > 0 && search.run.latencyMs.p99 >= search.run.latencyMs.p50)

        let v = doc.verification
        #expect(v.passed && v.gemmChecks == plan.gemmShapes.count && v.scoringConfigurations == doc.scoring.count)
        #expect(v.scoringIds == doc.scoring.reduce(0) { $0 + $1.verification.entries } && v.scoringIds > 0)
        #expect(doc.goals.count == 3 && doc.goals.allSatisfy { $0.measured != "not run" })

        let markdown = try String(contentsOf: report, encoding: .utf8)
        for heading in ["## GEMM", "## Scoring pass", "## Encode", "## Search latency", "## Goals"] {
            #expect(markdown.contains(heading), "\(heading) missing from the report")
        }
        #expect(r.stderr.contains("[scoring]") && r.stderr.contains("ids match the CPU backend"), "progress goes to stderr")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"], "generated catalogs are deleted")
    }
}
