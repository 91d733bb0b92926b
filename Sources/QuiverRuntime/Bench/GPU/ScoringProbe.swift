import Foundation
import QuiverScoring

/// The scoring section: for every catalog size and precision, `Scorer.search` (the path
/// `quiver score` and `Engine` take, catalog resident on the device where it fits) timed at each
/// batch and k, as catalog bytes read per second, and each configuration's top-k ids compared
/// with the CPU backend's on the same catalog.
///
/// Scores are inner products (`Metric.dot`) of stored values; reduced catalogs are scored as
/// stored, without rescoring, since the pass over the reduced catalog is what is measured.
struct ScoringProbe {
    let device: any ComputeBackend
    let reference: any ComputeBackend
    let plan: GPUSuitePlan
    let peaks: DevicePeaks
    let catalogs: SyntheticCatalogs
    /// Test seam: applied to each device result before it is compared.
    let alter: (@Sendable (inout RankedLists) -> Void)?
    let log: (String) -> Void

    /// Rows for one catalog in one precision, in batch-then-k order. Stops at the first
    /// configuration whose ids differ from the CPU's (it is the last row returned).
    func run(rows: Int, precision: GPUSuitePlan.Precision) throws -> [ScoringRow] {
        let catalog = try Catalog(path: try catalogs.path(rows: rows, precision))
        let d = plan.dimension
        let maxBatch = plan.batches.max() ?? 1
        let allQueries = SyntheticData.gridValues(count: maxBatch * d, seed: plan.seed, stream: 1)
        let sample = min(plan.verifyQueries, maxBatch)
        let threads = ProcessInfo.processInfo.activeProcessorCount

        // The CPU reference first, at the largest k: smaller k are its prefixes (tie rule).
        let maxK = min(plan.ks.max() ?? 10, rows)
        let expected = try RankedLists(Scorer(backend: reference, catalog: catalog, metric: .dot, threads: threads)
            .search(Tensor(shape: [sample, d], floats: Array(allQueries[0..<(sample * d)])), k: maxK))

        let scorer = try Scorer(backend: device, catalog: catalog, metric: .dot, threads: threads)
        let bytes = catalog.rows * catalog.rowBytes + (catalog.scales == nil ? 0 : catalog.rows * 4)
        var out: [ScoringRow] = []
        for batch in plan.batches {
            let queries = try Tensor(shape: [batch, d], floats: Array(allQueries[0..<(batch * d)]))
            for k in plan.ks {
                var last: TopKResult?
                let times = try RepeatTimer.measure(plan.repeats) { last = try scorer.search(queries, k: k) }
                var got = RankedLists(last!)
                alter?(&got)
                let check = TopKVerifier.compare(device: got, reference: expected, queries: min(batch, sample))
                let median = RepeatTimer.median(times)
                let gbps = Double(bytes) / median / 1e9
                let row = ScoringRow(rows: rows, dimension: d, precision: precision, batch: batch, k: got.k, bytesPerPass: bytes,
                                     repeats: times.count, medianMs: median * 1e3, gbPerS: gbps,
                                     fractionOfBandwidth: peaks.memoryGBps.map { gbps / $0 }, queriesPerS: Double(batch) / median,
                                     placement: scorer.placementDescription, verification: check)
                out.append(row)
                log(Self.describe(row))
                if !check.passed { return out }
            }
        }
        return out
    }

    static func describe(_ r: ScoringRow) -> String {
        let share = r.fractionOfBandwidth.map { String(format: " (%.0f%% of bandwidth)", $0 * 100) } ?? ""
        let verdict = r.verification.passed
            ? "ids match the CPU backend on \(r.verification.queries) queries"
            : "MISMATCH vs the CPU backend: \(r.verification.firstMismatch ?? "?") (\(r.verification.mismatches) of \(r.verification.entries) ids differ)"
        return String(format: "[scoring] %d × %d %@, batch %d, k %d: %.3f ms, %@ GB/s%@, %@ queries/s; %@",
                      r.rows, r.dimension, r.precision.rawValue, r.batch, r.k, r.medianMs, GPUSuiteReport.figure(r.gbPerS), share,
                      GPUSuiteReport.figure(r.queriesPerS), verdict)
    }
}
