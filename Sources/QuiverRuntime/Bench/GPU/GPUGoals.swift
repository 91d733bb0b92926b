import Foundation

/// Issue 8's goals for an H100 at `--size full`, judged on a suite document. They are reported,
/// never enforced: on other devices and sizes they only show how far off the figures are.
public enum GPUGoals {
    public static let scoringFraction = 0.8
    public static let scoringMaxBatch = 8
    public static let gemmFraction = 0.6
    public static let searchP99Ms = 2.0

    public static func evaluate(_ doc: GPUSuiteDocument) -> [GoalRow] {
        [scoring(doc), gemm(doc), search(doc)]
    }

    /// The worst scoring configuration with batch ≤ 8 must read the catalog at ≥ 80% of the
    /// memory bandwidth.
    static func scoring(_ doc: GPUSuiteDocument) -> GoalRow {
        let goal = "scoring pass ≥ \(percent(scoringFraction)) of memory bandwidth at batch ≤ \(scoringMaxBatch) (worst configuration)"
        let rows = doc.scoring.filter { $0.batch <= scoringMaxBatch }
        guard let worst = rows.min(by: { $0.gbPerS < $1.gbPerS }) else { return GoalRow(goal: goal, measured: "not run", met: nil) }
        let what = "\(worst.precision.rawValue), \(worst.rows) rows, batch \(worst.batch), k \(worst.k)"
        guard let fraction = worst.fractionOfBandwidth else {
            return GoalRow(goal: goal, measured: "\(GPUSuiteReport.figure(worst.gbPerS)) GB/s (\(what)); bandwidth unknown", met: nil)
        }
        return GoalRow(goal: goal, measured: "\(percent(fraction)) (\(what))", met: fraction >= scoringFraction)
    }

    /// The largest GEMM (most FLOPs) must reach ≥ 60% of the FP32 peak.
    static func gemm(_ doc: GPUSuiteDocument) -> GoalRow {
        let goal = "GEMM ≥ \(percent(gemmFraction)) of FP32 peak (largest shape)"
        guard let largest = doc.gemm.max(by: { $0.shape.flops < $1.shape.flops }) else { return GoalRow(goal: goal, measured: "not run", met: nil) }
        let s = largest.shape
        let what = "\(s.m)×\(s.n)×\(s.k)"
        guard let fraction = largest.fractionOfPeak else {
            return GoalRow(goal: goal, measured: "\(GPUSuiteReport.figure(largest.gflops)) GFLOP/s (\(what)); peak unknown", met: nil)
        }
        return GoalRow(goal: goal, measured: "\(percent(fraction)) (\(what))", met: fraction >= gemmFraction)
    }

    /// Single-query search p99 under 2 ms (the goal is for 1M × 384; other sizes are labelled).
    static func search(_ doc: GPUSuiteDocument) -> GoalRow {
        let goal = String(format: "single-query search over 1M × 384: p99 < %g ms", searchP99Ms)
        guard let s = doc.search else { return GoalRow(goal: goal, measured: "not run", met: nil) }
        return GoalRow(goal: goal, measured: String(format: "p99 %.3f ms (%d × %d)", s.run.latencyMs.p99, s.rows, s.dimension),
                       met: s.run.latencyMs.p99 < searchP99Ms)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.0f%%", fraction * 100) }
}
