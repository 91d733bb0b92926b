import Foundation

/// One GEMM of the suite: time, throughput and share of the FP32 peak.
public struct GEMMRow: Codable, Sendable {
    public var shape: GPUSuitePlan.GEMMShape
    public var repeats: Int
    public var medianMs: Double
    /// GFLOP/s of the median run (2·M·N·K / time) and of the best run.
    public var gflops: Double
    public var bestGflops: Double
    /// `gflops` / the FP32 peak; nil when the peak is unknown.
    public var fractionOfPeak: Double?
    /// Largest sampled |c − exact| / Σ|a·b| against float64.
    public var maxRelativeError: Double
    public var passed: Bool

    public init(shape: GPUSuitePlan.GEMMShape, repeats: Int, medianMs: Double, gflops: Double, bestGflops: Double,
                fractionOfPeak: Double?, maxRelativeError: Double, passed: Bool) {
        (self.shape, self.repeats, self.medianMs, self.gflops, self.bestGflops) = (shape, repeats, medianMs, gflops, bestGflops)
        (self.fractionOfPeak, self.maxRelativeError, self.passed) = (fractionOfPeak, maxRelativeError, passed)
    }
}

/// One scoring pass configuration: `Scorer.search` of `batch` queries against the catalog.
public struct ScoringRow: Codable, Sendable {
    public var rows: Int
    public var dimension: Int
    public var precision: GPUSuitePlan.Precision
    public var batch: Int
    public var k: Int
    /// Catalog bytes one pass reads: rows × dimension × element size, plus the per-row int8 scale.
    public var bytesPerPass: Int
    public var repeats: Int
    public var medianMs: Double
    /// `bytesPerPass` / median time, GB/s (10⁹ B/s).
    public var gbPerS: Double
    /// `gbPerS` / the device's memory bandwidth; nil when that is unknown.
    public var fractionOfBandwidth: Double?
    public var queriesPerS: Double
    /// "resident on the device" or "streamed in tiles of N rows" (`Scorer.placementDescription`).
    public var placement: String
    /// The first queries' ids against the CPU backend's.
    public var verification: TopKComparison

    public init(rows: Int, dimension: Int, precision: GPUSuitePlan.Precision, batch: Int, k: Int, bytesPerPass: Int, repeats: Int,
                medianMs: Double, gbPerS: Double, fractionOfBandwidth: Double?, queriesPerS: Double, placement: String,
                verification: TopKComparison) {
        (self.rows, self.dimension, self.precision, self.batch, self.k) = (rows, dimension, precision, batch, k)
        (self.bytesPerPass, self.repeats, self.medianMs, self.gbPerS) = (bytesPerPass, repeats, medianMs, gbPerS)
        (self.fractionOfBandwidth, self.queriesPerS, self.placement, self.verification) = (fractionOfBandwidth, queriesPerS, placement, verification)
    }
}

/// Encoder throughput at one batch size.
public struct EncodeRow: Codable, Sendable {
    public var batch: Int
    public var repeats: Int
    /// Median seconds per batch (tokens in, pooled embeddings back on the host).
    public var medianMs: Double
    public var sentencesPerS: Double
}

public struct EncodeSection: Codable, Sendable {
    public var model: String
    /// Tokens per sentence, [CLS] and [SEP] included (every sentence has exactly this many).
    public var tokens: Int
    public var runs: [EncodeRow]
    /// Largest |device − CPU backend| over the embedding of one batch, a sanity check.
    public var maxAbsDifferenceVsCPU: Double
}

/// End-to-end single-query search through `Engine` (scheduler + scorer), one closed-loop client.
public struct SearchSection: Codable, Sendable {
    public var rows: Int
    public var dimension: Int
    public var k: Int
    public var policy: String
    /// Latency percentiles, throughput and batch sizes, as `quiver bench` records a run.
    public var run: RunResult
}

/// One of the H100 goals against what this run measured.
public struct GoalRow: Codable, Sendable {
    public var goal: String
    /// The measured figure in words (e.g. "62% (f16, 10000000 rows, batch 8, k 10)"), or "unknown".
    public var measured: String
    /// nil when the figure cannot be judged (unknown peak, section not run).
    public var met: Bool?
}

/// Every check the suite made.
public struct VerificationSummary: Codable, Sendable {
    /// Scoring configurations compared with the CPU backend, queries and ids compared, ids that differed.
    public var scoringConfigurations = 0
    public var scoringQueries = 0
    public var scoringIds = 0
    public var scoringMismatches = 0
    /// GEMMs checked against float64 and how many failed.
    public var gemmChecks = 0
    public var gemmFailures = 0

    public var passed: Bool { scoringMismatches == 0 && gemmFailures == 0 }
}

/// The result of `quiver bench --suite gpu` (`--json`).
public struct GPUSuiteDocument: Codable, Sendable {
    public var tool = "quiver bench --suite gpu"
    /// ISO 8601, UTC.
    public var date: String
    public var size: GPUSuitePlan.Size
    public var seed: UInt64
    public var hostCores: Int
    /// 1-minute load average of the host when the suite started and when it ended (other work
    /// on a shared machine moves every figure).
    public var loadAverage: [Double]
    /// The OpenCL device, as `quiver devices --json` lists it.
    public var device: DeviceReport.OpenCLEntry
    public var peaks: DevicePeaks
    /// The OpenCL kernel parameters in use (tile sizes, work-group shapes), as Swift prints
    /// `KernelConfig`: the defaults, or what a tuning cache set for this device.
    public var kernels: String = ""
    public var gemm: [GEMMRow] = []
    public var scoring: [ScoringRow] = []
    public var encode: EncodeSection?
    public var search: SearchSection?
    public var goals: [GoalRow] = []
    public var verification = VerificationSummary()

    public init(size: GPUSuitePlan.Size, seed: UInt64, device: DeviceReport.OpenCLEntry, peaks: DevicePeaks) {
        date = ISO8601DateFormatter().string(from: Date())
        (self.size, self.seed, self.device, self.peaks) = (size, seed, device, peaks)
        hostCores = ProcessInfo.processInfo.activeProcessorCount
        loadAverage = LoadGenerator.loadAverage().map { [$0] } ?? []
    }

    /// Key-sorted, indented JSON with the property names as keys (camelCase, like
    /// `quiver devices --json`, whose device entry it embeds).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    public static func read(_ data: Data) throws -> GPUSuiteDocument {
        try JSONDecoder().decode(GPUSuiteDocument.self, from: data)
    }
}
