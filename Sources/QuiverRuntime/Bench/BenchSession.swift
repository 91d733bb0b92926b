import Foundation

/// What `quiver bench` runs against each policy's target.
public struct BenchPlan: Sendable {
    /// Load of a single run (no sweep).
    public var mode: LoadMode
    /// Measured seconds per run, after `warmup` seconds whose requests are not counted.
    public var duration: Double
    public var warmup: Double
    public var seed: UInt64
    /// The p99 target, seconds (goodput and the sweep's pass rule).
    public var latencyTarget: Double
    /// Search for the highest sustainable open-loop rate instead of a single run.
    public var sweep: RateSweep?
    /// After a sweep, also measure these fractions of the rate found (e.g. 0.8: "p99 still within
    /// target at 80% of the maximum").
    public var profile: [Double]

    public init(mode: LoadMode, duration: Double, warmup: Double, seed: UInt64, latencyTarget: Double,
                sweep: RateSweep? = nil, profile: [Double] = []) {
        (self.mode, self.duration, self.warmup, self.seed, self.latencyTarget, self.sweep, self.profile) =
            (mode, duration, warmup, seed, latencyTarget, sweep, profile)
    }
}

/// Runs a `BenchPlan` against one policy's target.
public enum BenchSession {
    /// Every run of `plan` against `target`, logged as it finishes.
    public static func run(policy: String, target: any BenchTarget, workload: Workload, plan: BenchPlan,
                           log: @Sendable (String) -> Void) async -> PolicyResult {
        var result = PolicyResult(policy: policy)
        func measure(_ mode: LoadMode, phase: String) async -> RunResult {
            let generator = LoadGenerator(mode: mode, duration: plan.duration, warmup: plan.warmup, seed: plan.seed)
            let run = RunResult(await generator.run(target, workload), mode: mode, phase: phase, latencyTarget: plan.latencyTarget)
            result.runs.append(run)
            log("[\(policy)] \(describe(run))")
            return run
        }
        guard let sweep = plan.sweep else {
            _ = await measure(plan.mode, phase: "single")
            return result
        }
        let outcome = await sweep.run { rate in await measure(.open(rate: rate), phase: "sweep").sustainable }
        result.maxSustainableRate = outcome.maxSustainableRate
        if let best = outcome.maxSustainableRate {
            log("[\(policy)] max sustainable rate: \(BenchReport.number(best)) req/s")
            for fraction in plan.profile where fraction > 0 && fraction < 1 {
                _ = await measure(.open(rate: best * fraction), phase: "profile")
            }
        } else {
            log("[\(policy)] no rate down to \(BenchReport.number(sweep.minRate)) req/s was sustainable")
        }
        return result
    }

    /// One line: load, latency, rates, refusals, batch size, verdict.
    public static func describe(_ r: RunResult) -> String {
        let load = r.offeredRate.map { "open \(BenchReport.number($0)) req/s" } ?? "closed \(r.concurrency ?? 0) clients"
        let l = r.latencyMs
        var s = "\(load): p50 \(f1(l.p50)) p90 \(f1(l.p90)) p99 \(f1(l.p99)) max \(f1(l.max)) ms; "
        s += "\(f1(r.throughput)) req/s done, goodput \(f1(r.goodput)); "
        s += "\(r.sent) sent, \(r.rejectedOverload) overloaded, \(r.rejectedDeadline) deadline, \(r.failed) failed"
        if let text = r.batches["text"] ?? r.batches.values.first {
            s += "; batches: \(f1(text.meanRows)) rows, run \(f1(text.meanRunMs)) ms, queued \(f1(text.meanQueueMs)) ms, \(text.late) late"
        }
        if let error = r.firstError { s += "; first error: \(error)" }
        return s + (r.sustainable ? " → ok" : " → over")
    }

    private static func f1(_ v: Double) -> String { String(format: "%.1f", v) }
}
