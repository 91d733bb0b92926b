import Foundation

/// SplitMix64: a small seedable generator, so a benchmark's arrivals and requests replay exactly
/// for a given `--seed`.
public struct BenchRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// Arrival times of a Poisson process (open-loop load): gaps are exponential with mean
/// `1 / rate`, so arrivals are independent of how fast the server answers.
public struct PoissonArrivals: Sendable {
    /// Mean arrivals per second.
    public let rate: Double
    private var random: BenchRandom

    public init(rate: Double, seed: UInt64) {
        precondition(rate > 0, "rate must be positive")
        self.rate = rate
        random = BenchRandom(seed: seed)
    }

    /// Seconds until the next arrival: −ln(1 − U) / rate.
    public mutating func nextGap() -> Double { -log1p(-random.unit()) / rate }
}
