import Foundation
import QuiverOpenCL

/// `quiver bench --suite gpu`: in one process, on one OpenCL device, device facts, GEMM
/// throughput against the FP32 peak, scoring-pass bandwidth against the memory bandwidth (each
/// configuration's top-k checked against the CPU backend), encoder throughput and single-query
/// search latency through `Engine`. Sections run in the order gemm, encode, search, scoring, so
/// the search catalog is generated once and reused by the scoring section.
public struct GPUSuite {
    public struct Options {
        public var plan: GPUSuitePlan
        /// Text model for the encode section (folder or hub id); required when it runs.
        public var model: String?
        /// Overrides of the table's FP32 peak (GFLOP/s) and memory bandwidth (GB/s).
        public var peakGFLOPS: Double?
        public var peakGBps: Double?
        /// Where catalogs are generated (a subfolder is created and removed); nil: the temp folder.
        public var scratch: String?
        /// Test seam: alters each device top-k before it is compared with the CPU's, to prove
        /// that a wrong result fails the suite.
        public var alterDeviceResults: (@Sendable (inout RankedLists) -> Void)?

        public init(plan: GPUSuitePlan, model: String? = nil, peakGFLOPS: Double? = nil, peakGBps: Double? = nil, scratch: String? = nil) {
            (self.plan, self.model, self.peakGFLOPS, self.peakGBps, self.scratch) = (plan, model, peakGFLOPS, peakGBps, scratch)
        }
    }

    /// Thrown when a device result differs from the reference; the document holds every row
    /// measured so far, the failing one included.
    public struct VerificationFailed: Error, CustomStringConvertible {
        public let document: GPUSuiteDocument
        public let description: String
    }

    /// The OpenCL backend measured.
    let device: OpenCLBackend
    /// The CPU backend the device's results are checked against.
    public let reference: any ComputeBackend
    public let options: Options
    let log: @Sendable (String) -> Void

    /// `device` must be an OpenCL backend (`BackendFactory.make(.opencl, …)`); throws otherwise.
    public init(device: any ComputeBackend, reference: any ComputeBackend, options: Options, log: @escaping @Sendable (String) -> Void) throws {
        guard let cl = device as? OpenCLBackend else {
            throw QuiverError.invalidArgument("the GPU suite runs on an OpenCL device; got the \(device.device.backend) backend")
        }
        (self.device, self.reference, self.options, self.log) = (cl, reference, options, log)
    }

    /// Runs every section of the plan. `save` receives the document after each section (so an
    /// interrupted or failed run keeps what it measured) and once more at the end.
    public func run(save: (GPUSuiteDocument) throws -> Void = { _ in }) async throws -> GPUSuiteDocument {
        let plan = options.plan
        if plan.sections.contains(.encode), options.model == nil {
            throw QuiverError.invalidArgument("the encode section needs a text model: pass --model DIR (all-MiniLM-L6-v2), or leave it out with --sections gemm,scoring,search")
        }
        let cl = device.openCLDevice
        let peaks = DevicePeaks.resolve(deviceName: cl.name, globalMemoryBytes: cl.globalMemoryBytes,
                                        overrideGFLOPS: options.peakGFLOPS, overrideGBps: options.peakGBps)
        var doc = GPUSuiteDocument(size: plan.size, seed: plan.seed, device: DeviceReport.OpenCLEntry(cl, tuning: device.tuningStatus), peaks: peaks)
        doc.kernels = String(describing: device.kernelConfig)
        log("[device] \(cl.name) (\(cl.vendor)), driver \(cl.driverVersion), \(cl.computeUnits) compute units at up to \(cl.maxClockMHz) MHz, "
            + "\(DeviceReport.bytes(cl.globalMemoryBytes)) global, \(DeviceReport.bytes(cl.localMemoryBytes)) local, max allocation \(DeviceReport.bytes(cl.maxAllocationBytes))")
        log("[device] FP32 peak: \(peaks.fp32GFLOPS.map { String(format: "%.0f GFLOP/s", $0) } ?? "unknown") (\(peaks.fp32Source)); "
            + "memory bandwidth: \(peaks.memoryGBps.map { String(format: "%.0f GB/s", $0) } ?? "unknown") (\(peaks.memorySource))")

        func finish(_ doc: inout GPUSuiteDocument) throws {
            doc.goals = GPUGoals.evaluate(doc)
            try save(doc)
        }
        if plan.sections.contains(.gemm) {
            for shape in plan.gemmShapes {
                let row = try gemm(shape, peaks: peaks)
                doc.gemm.append(row)
                doc.verification.gemmChecks += 1
                if !row.passed {
                    doc.verification.gemmFailures += 1
                    try finish(&doc)
                    throw VerificationFailed(document: doc, description: String(
                        format: "GEMM %@ (%d×%d×%d) is wrong: max error %.2e of Σ|a·b| against float64", shape.label, shape.m, shape.n, shape.k, row.maxRelativeError))
                }
            }
            try finish(&doc)
        }
        if plan.sections.contains(.encode) {
            doc.encode = try EncodeProbe(device: device, reference: reference, plan: plan, model: options.model!, log: log).run()
            try finish(&doc)
        }
        let catalogs = try SyntheticCatalogs(directory: options.scratch, dimension: plan.dimension, seed: plan.seed, log: log)
        defer { catalogs.removeAll() }
        if plan.sections.contains(.search) {
            doc.search = try await SearchProbe(device: device, plan: plan, catalogs: catalogs, log: log).run()
            if !plan.sections.contains(.scoring) || !plan.catalogRows.contains(plan.searchRows) {
                catalogs.remove(rows: plan.searchRows, .f32)
            }
            try finish(&doc)
        }
        if plan.sections.contains(.scoring) {
            let probe = ScoringProbe(device: device, reference: reference, plan: plan, peaks: peaks, catalogs: catalogs,
                                     alter: options.alterDeviceResults, log: log)
            for rows in plan.catalogRows {
                for precision in plan.precisions {
                    let measured = try probe.run(rows: rows, precision: precision)
                    doc.scoring += measured
                    for row in measured {
                        doc.verification.scoringConfigurations += 1
                        doc.verification.scoringQueries += row.verification.queries
                        doc.verification.scoringIds += row.verification.entries
                        doc.verification.scoringMismatches += row.verification.mismatches
                    }
                    if let bad = measured.last, !bad.verification.passed {
                        try finish(&doc)
                        throw VerificationFailed(document: doc, description: "scoring \(rows) × \(plan.dimension) \(precision.rawValue), batch \(bad.batch), k \(bad.k): "
                            + "the device's top-k differs from the CPU backend's: \(bad.verification.firstMismatch ?? "nothing compared") "
                            + "(\(bad.verification.mismatches) of \(bad.verification.entries) ids differ)")
                    }
                    if precision != .f32 { catalogs.remove(rows: rows, precision) }
                }
                catalogs.remove(rows: rows, .f32)
            }
            try finish(&doc)
        }
        doc.goals = GPUGoals.evaluate(doc)
        if let load = LoadGenerator.loadAverage() { doc.loadAverage.append(load) }
        for goal in doc.goals {
            log("[goal] \(goal.goal): \(goal.measured) → \(goal.met.map { $0 ? "met" : "not met" } ?? "unknown")")
        }
        try save(doc)
        return doc
    }

    /// One GEMM on grid values (exact in float32, so the float64 check is strict), timed.
    private func gemm(_ shape: GPUSuitePlan.GEMMShape, peaks: DevicePeaks) throws -> GEMMRow {
        let plan = options.plan
        let a = SyntheticData.gridValues(count: shape.m * shape.k, seed: plan.seed, stream: 10)
        let b = SyntheticData.gridValues(count: shape.n * shape.k, seed: plan.seed, stream: 11)
        let r = try GEMMProbe.measure(on: device, m: shape.m, n: shape.n, k: shape.k, transposeB: shape.transposeB,
                                      a: a, b: b, repeats: plan.repeats, seed: plan.seed)
        let row = GEMMRow(shape: shape, repeats: r.times.count, medianMs: r.medianSeconds * 1e3, gflops: r.medianGFLOPS,
                          bestGflops: r.bestGFLOPS, fractionOfPeak: peaks.fp32GFLOPS.map { r.medianGFLOPS / $0 },
                          maxRelativeError: r.maxRelativeError, passed: r.passed)
        log(String(format: "[gemm] %@: %d×%d×%d%@: %.3f ms, %@ GFLOP/s%@; max error %.1e (%@)", shape.label, shape.m, shape.n, shape.k,
                   shape.transposeB ? " (Bᵀ)" : "", row.medianMs, GPUSuiteReport.figure(row.gflops),
                   row.fractionOfPeak.map { String(format: " (%.0f%% of peak)", $0 * 100) } ?? "", row.maxRelativeError, row.passed ? "ok" : "WRONG"))
        return row
    }
}
