/// Predicted run time of one batch as a line in its cost: `fixed + perUnit × cost`
/// (cost in the runner's units, see `BatchRunner`).
public struct RunTimeModel: Sendable, Equatable, CustomStringConvertible {
    /// Per-batch overhead (launches, synchronization, copies).
    public var fixed: Duration
    /// Time per cost unit (token or row).
    public var perUnit: Duration

    public init(fixed: Duration, perUnit: Duration) {
        self.fixed = fixed
        self.perUnit = perUnit
    }

    /// `(fixed + perUnit × cost) × scale`, rounded to whole nanoseconds, never negative.
    public func predict(cost: Int, scale: Double = 1) -> Duration {
        let ns = (fixed.nanoseconds + perUnit.nanoseconds * Double(max(0, cost))) * scale
        return .nanoseconds(Int64(max(0, ns).rounded()))
    }

    public var description: String { "\(fixed) + \(perUnit)/unit" }
}

extension Duration {
    /// This duration in (fractional) nanoseconds.
    var nanoseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e9 + Double(attoseconds) * 1e-9
    }
}
