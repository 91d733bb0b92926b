/// How a `DynamicBatcher` decides when to close a batch (`--policy slo|none|window`).
public enum BatchPolicy: Sendable, Equatable {
    /// Close a batch when its budget is full, or at the last moment that still lets the batch
    /// finish by its earliest deadline given the learned run-time prediction. Groups requests by
    /// length bucket; the budget cap adapts to observed lateness. The default.
    case slo
    /// Every request runs alone, in arrival order (baseline).
    case none
    /// Triton-style dynamic batching: close a batch when `maxBatch` requests wait, or when the
    /// oldest has waited `maxDelay`. No buckets, no prediction.
    case window(maxBatch: Int, maxDelay: Duration)
}

/// Settings of a `DynamicBatcher`. Costs are in the runner's units (tokens or rows, see `BatchRunner`).
public struct BatcherConfiguration: Sendable, Equatable {
    public var policy: BatchPolicy
    /// The latency a request should see (p99 target). Under `slo` a request submitted without a
    /// deadline gets `arrival + latencyTarget`; `none` and `window` leave such requests without one.
    public var latencyTarget: Duration
    /// Hard budget per batch in cost units (GPU memory, kernel limits). A single request larger
    /// than this still runs, alone.
    public var maxBatchCost: Int
    /// Lowest value the adaptive `slo` cap backs off to.
    public var minBatchCost: Int
    /// Requests allowed to wait (not yet in a batch); more are rejected with `.overloaded`.
    public var queueCapacity: Int
    /// Safety margin on predicted run times when planning a dispatch: plan with
    /// `predicted × (1 + headroom)`.
    public var headroom: Double
    /// Absolute time added to every planned run time under `slo`: a real clock's timer wakes a
    /// little late, and a batch planned to start at the last moment must survive that. Zero for
    /// virtual clocks; `Engine` uses 2 ms.
    public var slack: Duration = .zero
    /// Batches that may run at once (each on its own share of the device: on a CPU, one batch per
    /// core runs single-threaded, which measured up to 1.9x the throughput of one batch on all
    /// cores for small batches). 1 (the default): one at a time. Values below 1 mean 1.
    public var deviceSlots: Int = 1
    /// Run-time model assumed before any batch has been observed.
    public var initialModel: RunTimeModel
    /// Weight kept by past observations each time a batch is observed (0 < decay < 1);
    /// about `1 / (1 - decay)` recent batches dominate the prediction.
    public var predictorDecay: Double

    public init(policy: BatchPolicy = .slo,
                latencyTarget: Duration = .milliseconds(50),
                maxBatchCost: Int,
                minBatchCost: Int = 1,
                queueCapacity: Int = 1024,
                headroom: Double = 0.1,
                initialModel: RunTimeModel,
                predictorDecay: Double = 0.8) {
        self.policy = policy
        self.latencyTarget = latencyTarget
        self.maxBatchCost = max(1, maxBatchCost)
        self.minBatchCost = min(max(1, minBatchCost), self.maxBatchCost)
        self.queueCapacity = max(1, queueCapacity)
        self.headroom = max(0, headroom)
        self.initialModel = initialModel
        self.predictorDecay = min(max(predictorDecay, 0.01), 0.999)
    }
}
