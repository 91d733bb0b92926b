/// Learns `RunTimeModel` online from observed batches: exponentially weighted least squares of
/// run time against batch cost.
///
/// Each observation `(cost c, time t)` enters weighted sums `Σw`, `Σw·c`, `Σw·c²`, `Σw·t`, `Σw·c·t`
/// after all previous weights are multiplied by `decay`, so the last `1 / (1 - decay)` batches
/// dominate and the fit follows a runner that gets slower or faster. The line is refitted after
/// every observation.
///
/// Batches of (nearly) one size cannot tell overhead from per-unit time, so the slope is pulled
/// towards the initial model's slope rescaled by `k = Σw·t / Σw·initial(c)` (how much slower or
/// faster the runner is than assumed): ridge regression on the slope,
///
///     slope = (Σw(c − c̄)(t − t̄) + λ·k·b₀) / (Σw(c − c̄)² + λ),   λ = Σw · (referenceCost / 256)²,
///     fixed = t̄ − slope · c̄                                      (c̄, t̄: weighted means),
///
/// so batches whose costs spread well beyond `referenceCost / 256` set the slope themselves, and
/// the line always passes through the weighted mean of what was observed. Fixed cost and slope are
/// clamped to be ≥ 0.
struct RunTimePredictor: Sendable {
    private struct Sums: Sendable {
        var w = 0.0, c = 0.0, cc = 0.0, t = 0.0, ct = 0.0

        mutating func add(cost: Double, time: Double, weight: Double) {
            w += weight
            c += weight * cost
            cc += weight * cost * cost
            t += weight * time
            ct += weight * cost * time
        }

        mutating func scale(by factor: Double) {
            w *= factor; c *= factor; cc *= factor; t *= factor; ct *= factor
        }
    }

    /// Cost spread, as a fraction of `referenceCost`, below which the initial slope dominates.
    static let shapeSpread = 1.0 / 256

    private(set) var model: RunTimeModel
    private(set) var observations = 0
    private let initial: RunTimeModel
    private let referenceCost: Double
    private let decay: Double
    private var observed = Sums()

    /// - Parameters:
    ///   - initial: the model assumed before any observation; its shape guides later fits.
    ///   - referenceCost: a typical large batch cost (the budget), where the second shape point sits.
    ///   - decay: weight kept by older observations at each new one, in (0, 1).
    init(initial: RunTimeModel, referenceCost: Int, decay: Double) {
        model = initial
        self.initial = initial
        self.referenceCost = Double(max(1, referenceCost))
        self.decay = decay
    }

    func predict(cost: Int, scale: Double = 1) -> Duration { model.predict(cost: cost, scale: scale) }

    /// Records that a batch of `cost` units ran for `runTime`, and refits.
    mutating func observe(cost: Int, runTime: Duration) {
        observed.scale(by: decay)
        observed.add(cost: Double(max(0, cost)), time: max(0, runTime.nanoseconds), weight: 1)
        observations += 1
        model = fit()
    }

    private func fit() -> RunTimeModel {
        let s = observed
        let a0 = initial.fixed.nanoseconds, b0 = initial.perUnit.nanoseconds
        let assumed = a0 * s.w + b0 * s.c
        let k = assumed > 0 ? s.t / assumed : 1
        let lambda = s.w * (Self.shapeSpread * referenceCost) * (Self.shapeSpread * referenceCost)
        let meanCost = s.c / s.w, meanTime = s.t / s.w
        let spread = max(0, s.cc - s.c * meanCost)
        let covariance = s.ct - s.c * meanTime
        var slope = (covariance + lambda * k * b0) / (spread + lambda)
        var fixed = meanTime - slope * meanCost
        if slope < 0 {
            slope = 0
            fixed = meanTime
        }
        if fixed < 0 {
            fixed = 0
            slope = s.cc > 0 ? s.ct / s.cc : 0
        }
        return RunTimeModel(fixed: .seconds(fixed * 1e-9), perUnit: .seconds(slope * 1e-9))
    }
}
