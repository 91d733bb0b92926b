import Foundation

/// Latency percentiles of one run, milliseconds (exact, from every completed request).
public struct LatencyFigures: Codable, Sendable, Equatable {
    public var p50, p90, p95, p99, p999, max, mean: Double

    init(_ summary: LatencySummary) {
        func ms(_ p: Double) -> Double { (summary.percentile(p) ?? 0) * 1000 }
        (p50, p90, p95, p99, p999) = (ms(50), ms(90), ms(95), ms(99), ms(99.9))
        (max, mean) = ((summary.max ?? 0) * 1000, (summary.mean ?? 0) * 1000)
    }
}

/// Batches one batcher ran during a run.
public struct BatchFigures: Codable, Sendable, Equatable {
    public var batches: Int
    /// Rows per batch → number of batches (keys are the row counts as text, for JSON).
    public var sizes: [String: Int]
    public var meanRows: Double
    /// Mean run time of a batch and mean wait of a request before its batch started, ms.
    public var meanRunMs: Double
    public var meanQueueMs: Double
    /// Requests the engine finished after their deadline (slo: arrival + target).
    public var late: Int

    public init(_ w: BatcherWindow) {
        batches = w.batches
        sizes = Dictionary(uniqueKeysWithValues: w.batchRows.map { (String($0.key), $0.value) })
        meanRows = Double(w.batchRows.reduce(0) { $0 + $1.key * $1.value }) / Double(max(1, w.batches))
        meanRunMs = w.runTime * 1000 / Double(max(1, w.batches))
        meanQueueMs = w.queueDelay * 1000 / Double(max(1, w.queued))
        late = w.late
    }
}

/// Everything measured in one load run.
public struct RunResult: Codable, Sendable {
    /// "open" (Poisson arrivals at `offeredRate`) or "closed" (`concurrency` clients).
    public var mode: String
    public var offeredRate: Double?
    public var concurrency: Int?
    /// "single", "sweep" (a step of the rate search) or "profile" (a fraction of the found rate).
    public var phase: String
    public var durationS: Double
    public var sent: Int
    public var completed: Int
    /// Completed within the latency target.
    public var withinTarget: Int
    public var rejectedOverload: Int
    public var rejectedDeadline: Int
    public var failed: Int
    /// First failure message, if any.
    public var firstError: String?
    /// Completed requests per second of the measured window.
    public var throughput: Double
    /// Requests per second completed within the latency target.
    public var goodput: Double
    /// (rejected + failed) / sent.
    public var unservedFraction: Double
    public var latencyMs: LatencyFigures
    /// p99 ≤ target and unserved ≤ 1%.
    public var sustainable: Bool
    /// Per batcher ("text", "search", "features"), from `Engine.stats()`; empty over HTTP.
    public var batches: [String: BatchFigures]
    /// Empirical CDF of the latency: [milliseconds, fraction ≤].
    public var cdf: [[Double]]
    /// 1-minute load average at the start and end of the run.
    public var loadAverage: [Double]

    /// At most this fraction of requests may be refused or failed in a sustainable run.
    public static let maxUnserved = 0.01

    /// The sweep's pass rule: some requests completed, p99 (seconds) within `target`, and at
    /// most `maxUnserved` of the requests refused or failed.
    public static func sustainable(p99: Double?, unserved: Double, target: Double) -> Bool {
        guard let p99 else { return false }
        return p99 <= target && unserved <= maxUnserved
    }

    public init(_ run: LoadRun, mode: LoadMode, phase: String, latencyTarget: Double) {
        let samples = run.samples
        let completed = samples.filter { $0.outcome == .ok }
        let summary = LatencySummary(completed.map(\.latency))
        var failures = 0
        (rejectedOverload, rejectedDeadline, firstError) = (0, 0, nil)
        for sample in samples {
            switch sample.outcome {
            case .ok: break
            case .overloaded: rejectedOverload += 1
            case .deadline: rejectedDeadline += 1
            case let .failed(message):
                failures += 1
                if firstError == nil { firstError = message }
            }
        }
        switch mode {
        case let .open(rate): (self.mode, offeredRate, concurrency) = ("open", rate, nil)
        case let .closed(n): (self.mode, offeredRate, concurrency) = ("closed", nil, n)
        }
        self.phase = phase
        durationS = run.window
        sent = samples.count
        self.completed = completed.count
        failed = failures
        withinTarget = completed.filter { $0.latency <= latencyTarget }.count
        throughput = Double(completed.count) / max(run.window, 1e-9)
        goodput = Double(withinTarget) / max(run.window, 1e-9)
        unservedFraction = samples.isEmpty ? 0 : Double(samples.count - completed.count) / Double(samples.count)
        latencyMs = LatencyFigures(summary)
        sustainable = Self.sustainable(p99: summary.percentile(99), unserved: unservedFraction, target: latencyTarget)
        batches = run.stats.filter { $0.value.batches > 0 }.mapValues(BatchFigures.init)
        cdf = summary.cdf().map { [($0.value * 1e6).rounded() / 1e3, $0.fraction] }
        loadAverage = run.loadAverage
    }
}

/// The runs of one scheduling policy and, after a sweep, the rate it sustains.
public struct PolicyResult: Codable, Sendable {
    /// As given to `--policy`/`--policies`, e.g. "slo" or "window:8:5ms".
    public var policy: String
    /// Highest offered rate (req/s) found sustainable by `--sweep`; nil without a sweep or if none was.
    public var maxSustainableRate: Double?
    public var runs: [RunResult]

    public init(policy: String, maxSustainableRate: Double? = nil, runs: [RunResult] = []) {
        (self.policy, self.maxSustainableRate, self.runs) = (policy, maxSustainableRate, runs)
    }

    /// The sustainable run at the highest offered rate (what the CDF panel shows), else the last run.
    public var headline: RunResult? {
        runs.filter { $0.sustainable && $0.offeredRate != nil }.max { $0.offeredRate! < $1.offeredRate! } ?? runs.last
    }
}

/// A `quiver bench` result file (`--json`).
public struct BenchDocument: Codable, Sendable {
    public var tool = "quiver bench"
    /// ISO 8601, UTC.
    public var date: String
    /// "engine" (in process) or the endpoint URL.
    public var target: String
    /// Backend and device, e.g. "cpu on AMD EPYC … (2 threads)"; "remote" over HTTP.
    public var backend: String
    public var model: String?
    public var workload: String
    public var latencyTargetMs: Double
    /// Engine settings shared by every policy (batch budget, queue capacity, …).
    public var settings: [String: String]
    public var cores: Int
    public var policies: [PolicyResult]

    public init(target: String, backend: String, model: String?, workload: String, latencyTargetMs: Double,
                settings: [String: String], policies: [PolicyResult] = []) {
        let formatter = ISO8601DateFormatter()
        date = formatter.string(from: Date())
        (self.target, self.backend, self.model, self.workload, self.latencyTargetMs, self.settings) =
            (target, backend, model, workload, latencyTargetMs, settings)
        cores = ProcessInfo.processInfo.activeProcessorCount
        self.policies = policies
    }

    /// Key-sorted, snake_case JSON on one line (a sweep has ~100 runs with a CDF each; `jq .` reads it).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    public static func read(_ data: Data) throws -> BenchDocument {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(BenchDocument.self, from: data)
    }
}
