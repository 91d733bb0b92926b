import Foundation

/// The Markdown form of a `GPUSuiteDocument` (`--report FILE.md`): device, goals, then one table
/// per section.
public enum GPUSuiteReport {
    /// Writes the Markdown report to `path` (a `.md` file; temp file, then rename).
    public static func write(_ doc: GPUSuiteDocument, to path: String) throws {
        guard (path as NSString).pathExtension.lowercased() == "md" else {
            throw QuiverError.invalidArgument("--report \(path): the GPU suite writes Markdown; use a .md file name (and --json for the data)")
        }
        try Data(markdown(doc).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func markdown(_ doc: GPUSuiteDocument) -> String {
        let d = doc.device
        var s = "# quiver bench --suite gpu (\(doc.size.rawValue)): \(d.name)\n\n"
        s += "\(doc.date) · seed \(doc.seed) · host \(doc.hostCores) cores, load average \(doc.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " → "))\n\n"
        s += "| device | |\n|---|---|\n"
        s += "| name / vendor | \(d.name) / \(d.vendor) (\(d.type)) |\n"
        s += "| platform / driver | \(d.platform) (\(d.platformVersion)) / \(d.driverVersion) |\n"
        s += "| OpenCL | \(d.openCLVersion), \(d.openCLCVersion) |\n"
        s += "| compute units / max clock | \(d.computeUnits) / \(d.maxClockMHz) MHz |\n"
        s += "| global / local memory, max allocation | \(DeviceReport.bytes(d.globalMemoryBytes)) / \(DeviceReport.bytes(d.localMemoryBytes)), \(DeviceReport.bytes(d.maxAllocationBytes)) |\n"
        s += "| FP32 peak | \(doc.peaks.fp32GFLOPS.map { f0($0) + " GFLOP/s" } ?? "unknown") (\(doc.peaks.fp32Source)) |\n"
        s += "| memory bandwidth | \(doc.peaks.memoryGBps.map { f0($0) + " GB/s" } ?? "unknown") (\(doc.peaks.memorySource)) |\n\n"
        if !doc.kernels.isEmpty { s += "Kernel parameters: `\(doc.kernels)`\n\n" }

        if !doc.goals.isEmpty {
            s += "## Goals (H100, --size full)\n\n| goal | measured | met |\n|---|---|---|\n"
            for g in doc.goals { s += "| \(g.goal) | \(g.measured) | \(g.met.map { $0 ? "yes" : "no" } ?? "unknown") |\n" }
            s += "\n"
        }
        let v = doc.verification
        s += "Verification: \(v.scoringConfigurations) scoring configurations, \(v.scoringIds) top-k ids of \(v.scoringQueries) queries compared with the CPU backend, "
        s += "\(v.scoringMismatches) differ; \(v.gemmChecks) GEMMs checked against float64, \(v.gemmFailures) wrong. **\(v.passed ? "passed" : "FAILED")**\n\n"

        if !doc.gemm.isEmpty {
            s += "## GEMM (FP32)\n\nGFLOP/s = 2·M·N·K / median time from launch to synchronize; inputs resident on the device.\n\n| shape | M×N×K | median ms | GFLOP/s | best GFLOP/s | % of peak | max rel. error |\n|---|---|---:|---:|---:|---:|---:|\n"
            for r in doc.gemm {
                let t = r.shape
                s += "| \(t.label) | \(t.m)×\(t.n)×\(t.k)\(t.transposeB ? " (Bᵀ)" : "") | \(f3(r.medianMs)) | \(figure(r.gflops)) | \(figure(r.bestGflops)) | \(pct(r.fractionOfPeak)) | \(String(format: "%.1e", r.maxRelativeError)) |\n"
            }
            s += "\n"
        }
        if !doc.scoring.isEmpty {
            s += "## Scoring pass (Scorer.search, inner product)\n\n"
            s += "GB/s = catalog bytes (rows × dim × element size, + 4 B/row int8 scale) / median time of one `Scorer.search` call "
            s += "(queries uploaded, top-k downloaded). ids vs CPU: top-k ids of the first queries compared with the CPU backend's, rank by rank.\n\n"
            s += "| rows × dim | precision | batch | k | median ms | GB/s | % of bandwidth | queries/s | placement | ids vs CPU |\n"
            s += "|---|---|---:|---:|---:|---:|---:|---:|---|---|\n"
            for r in doc.scoring {
                let check = r.verification.passed ? "\(r.verification.entries) match" : "**\(r.verification.mismatches) differ**"
                s += "| \(r.rows) × \(r.dimension) | \(r.precision.rawValue) | \(r.batch) | \(r.k) | \(f3(r.medianMs)) | \(figure(r.gbPerS)) | \(pct(r.fractionOfBandwidth)) | \(figure(r.queriesPerS)) | \(r.placement) | \(check) |\n"
            }
            s += "\n"
        }
        if let e = doc.encode {
            s += "## Encode (\(e.model), \(e.tokens) tokens per sentence)\n\nToken ids in, pooled and normalized embeddings on the host out; tokenization excluded.\n\n| batch | median ms per batch | sentences/s |\n|---:|---:|---:|\n"
            for r in e.runs { s += "| \(r.batch) | \(f3(r.medianMs)) | \(figure(r.sentencesPerS)) |\n" }
            s += "\nmax |device − CPU backend| over one batch of embeddings: \(String(format: "%.1e", e.maxAbsDifferenceVsCPU))\n\n"
        }
        if let q = doc.search {
            let l = q.run.latencyMs
            s += "## Search latency (Engine.search, 1 client, closed loop, policy \(q.policy))\n\n"
            s += "One query vector per request through the scheduler and scorer; latency measured by the client.\n\n"
            s += "| rows × dim | k | requests | p50 ms | p90 ms | p99 ms | max ms | requests/s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
            s += "| \(q.rows) × \(q.dimension) | \(q.k) | \(q.run.completed) | \(f3(l.p50)) | \(f3(l.p90)) | \(f3(l.p99)) | \(f3(l.max)) | \(figure(q.run.throughput)) |\n\n"
        }
        return s
    }

    /// Three significant digits without an exponent: 3350, 412, 41.2, 4.12, 0.0412.
    public static func figure(_ v: Double) -> String {
        guard v.isFinite, v != 0 else { return v == 0 ? "0" : "\(v)" }
        let decimals = max(0, 2 - Int(log10(abs(v)).rounded(.down)))
        return String(format: "%.\(decimals)f", v)
    }

    static func f0(_ v: Double) -> String { String(format: "%.0f", v) }
    static func f3(_ v: Double) -> String { String(format: "%.3f", v) }
    static func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
}
