/// The search of `--sweep`: the highest open-loop rate a target sustains.
///
/// From `startRate`, the rate is multiplied by `growth` while it passes; once a rate fails (or
/// `maxRate` is reached), the gap between the highest pass and the lowest fail is bisected at its
/// geometric midpoint until `fail / pass ≤ 1 + precision`. If `startRate` already fails, the rate
/// is divided by `growth` until one passes (at most down to `minRate`). A failing rate is measured
/// up to `retries` more times and passes if any measurement does: on a shared machine one
/// disturbed run would otherwise end the search early. The caller decides what "passes" means.
public struct RateSweep: Sendable, Equatable {
    public var startRate: Double
    public var growth: Double
    public var minRate: Double
    public var maxRate: Double
    /// Relative width of the final bracket.
    public var precision: Double
    /// Extra measurements of a rate that failed.
    public var retries: Int
    /// Upper bound on measurements.
    public var maxSteps: Int

    public init(startRate: Double = 16, growth: Double = 2, minRate: Double = 0.5, maxRate: Double = 100_000,
                precision: Double = 0.05, retries: Int = 1, maxSteps: Int = 30) {
        self.startRate = max(startRate, 1e-6)
        self.growth = max(growth, 1.01)
        self.minRate = max(minRate, 1e-6)
        self.maxRate = max(maxRate, self.startRate)
        self.precision = max(precision, 1e-3)
        self.retries = max(retries, 0)
        self.maxSteps = max(maxSteps, 1)
    }

    /// A measured step.
    public struct Step: Sendable, Equatable {
        public var rate: Double
        public var passed: Bool
    }

    /// What the search found.
    public struct Outcome: Sendable, Equatable {
        /// Highest rate that passed; nil if none did.
        public var maxSustainableRate: Double?
        /// Lowest rate that failed above it; nil if `maxRate` passed.
        public var firstFailingRate: Double?
        public var steps: [Step]
    }

    /// Runs the search; `passes(rate)` measures the target at `rate` req/s.
    public func run(_ passes: (Double) async -> Bool) async -> Outcome {
        var steps: [Step] = []
        func measure(_ rate: Double) async -> Bool {
            for attempt in 0...retries where attempt == 0 || steps.count < maxSteps {
                let ok = await passes(rate)
                steps.append(Step(rate: rate, passed: ok))
                if ok { return true }
            }
            return false
        }
        var pass: Double?, fail: Double?
        var rate = startRate
        // Bracket: grow while passing, shrink while failing.
        if await measure(rate) {
            pass = rate
            while steps.count < maxSteps, rate < maxRate {
                rate = min(rate * growth, maxRate)
                if await measure(rate) { pass = rate } else { fail = rate; break }
            }
        } else {
            fail = rate
            while steps.count < maxSteps, rate > minRate {
                rate = max(rate / growth, minRate)
                if await measure(rate) { pass = rate; break } else { fail = rate }
            }
        }
        // Bisect the bracket.
        while steps.count < maxSteps, let low = pass, let high = fail, high / low > 1 + precision {
            let mid = (low * high).squareRoot()
            if await measure(mid) { pass = mid } else { fail = mid }
        }
        return Outcome(maxSustainableRate: pass, firstFailingRate: fail, steps: steps)
    }
}
