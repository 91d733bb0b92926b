/// Exact order statistics of a set of samples: every sample is kept and sorted once, so
/// percentiles are samples, not bucket estimates.
public struct LatencySummary: Sendable {
    /// The samples, ascending.
    public let sorted: [Double]

    public init(_ samples: [Double]) { sorted = samples.sorted() }

    public var count: Int { sorted.count }
    public var max: Double? { sorted.last }
    public var mean: Double? { sorted.isEmpty ? nil : sorted.reduce(0, +) / Double(sorted.count) }

    /// Nearest-rank percentile (0 < p ≤ 100): the smallest sample `s` such that at least p% of
    /// the samples are ≤ `s`. nil when there are no samples.
    public func percentile(_ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        // p·n/100 with a tiny allowance, so 99·100/100 is rank 99 even after rounding error.
        let rank = Int((p * Double(sorted.count) / 100 - 1e-9).rounded(.up))
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }

    /// Points of the empirical CDF for plots: (sample, fraction of samples ≤ it) at the
    /// percentiles 1, 5, 10, …, 90, 91, …, 99, 99.5, 99.9, 100 (31 points; finer in the tail).
    public func cdf() -> [(value: Double, fraction: Double)] {
        guard !sorted.isEmpty else { return [] }
        let percents = [1.0] + stride(from: 5.0, through: 90, by: 5) + (91...99).map(Double.init) + [99.5, 99.9, 100]
        return percents.map { (percentile($0)!, $0 / 100) }
    }
}
