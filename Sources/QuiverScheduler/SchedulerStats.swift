/// Count, sum and extremes of a series of durations.
public struct DurationSummary: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var total: Duration = .zero
    public private(set) var min: Duration?
    public private(set) var max: Duration?

    public init() {}

    /// Mean, or nil when empty.
    public var mean: Duration? { count == 0 ? nil : total / count }

    public mutating func record(_ value: Duration) {
        count += 1
        total += value
        min = Swift.min(min ?? value, value)
        max = Swift.max(max ?? value, value)
    }
}

/// Cumulative counters of a `DynamicBatcher` since it was created (for `quiver bench` and logs).
public struct SchedulerStats: Sendable, Equatable {
    /// Requests accepted into the queue.
    public var admitted = 0
    /// Requests answered with a response.
    public var completed = 0
    /// Completed requests that finished after their deadline.
    public var late = 0
    /// Requests refused because the queue was full (`SchedulerError.overloaded`).
    public var rejectedOverload = 0
    /// Requests refused or dropped because they could no longer meet their deadline.
    public var rejectedDeadline = 0
    /// Requests whose caller was cancelled before they were answered.
    public var cancelled = 0
    /// Requests failed by the runner (or by shutdown).
    public var failed = 0
    /// Batches run.
    public var batches = 0
    /// Batch-size histogram: rows per batch → number of batches.
    public var batchRows: [Int: Int] = [:]
    /// Submission → response, for completed requests.
    public var latency = DurationSummary()
    /// Submission → start of the batch that ran the request.
    public var queueDelay = DurationSummary()
    /// Run time of each batch (`BatchRunner.run`).
    public var runTime = DurationSummary()

    public init() {}

    /// All refusals: overload plus deadline.
    public var rejected: Int { rejectedOverload + rejectedDeadline }
}

/// What a `DynamicBatcher` is doing right now.
public struct BatcherState: Sendable, Equatable {
    /// Requests waiting for a batch.
    public var queued: Int
    /// Batches inside `BatchRunner.run` (at most `deviceSlots`).
    public var runningBatches: Int
    /// A batch is inside `BatchRunner.run`.
    public var isRunning: Bool { runningBatches > 0 }
    /// The next batch is formed and inside `BatchRunner.prepare`.
    public var isPreparing: Bool
    /// The next batch is prepared and waits for a device slot to free.
    public var hasReadyBatch: Bool
    /// When the batcher will next re-decide on its own (dispatch or deadline check), if ever.
    public var nextWakeUp: SchedulerInstant?
    /// Current `slo` cost cap per batch.
    public var batchCap: Int
    /// Current run-time prediction.
    public var model: RunTimeModel
}
