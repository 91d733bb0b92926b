/// A batcher's work during a measured window: the difference of two `SchedulerStats` snapshots.
public struct BatcherWindow: Sendable, Equatable {
    public var batches = 0
    /// Rows per batch → batches.
    public var batchRows: [Int: Int] = [:]
    public var completed = 0
    public var late = 0
    public var rejectedOverload = 0
    public var rejectedDeadline = 0
    /// Sum of batch run times and of request queue delays, seconds.
    public var runTime = 0.0
    public var queueDelay = 0.0
    public var queued = 0

    public init() {}

    /// What happened between `before` (nil: the batcher's creation) and `after`.
    public init(_ after: SchedulerStats, since before: SchedulerStats?) {
        let old = before ?? SchedulerStats()
        batches = after.batches - old.batches
        for (rows, count) in after.batchRows where count > old.batchRows[rows] ?? 0 { batchRows[rows] = count - (old.batchRows[rows] ?? 0) }
        completed = after.completed - old.completed
        late = after.late - old.late
        rejectedOverload = after.rejectedOverload - old.rejectedOverload
        rejectedDeadline = after.rejectedDeadline - old.rejectedDeadline
        runTime = LoadGenerator.seconds(after.runTime.total - old.runTime.total)
        queueDelay = LoadGenerator.seconds(after.queueDelay.total - old.queueDelay.total)
        queued = after.queueDelay.count - old.queueDelay.count
    }

    /// Per batcher name, for `Engine.stats()` snapshots.
    public static func between(_ before: [String: SchedulerStats], _ after: [String: SchedulerStats]) -> [String: BatcherWindow] {
        after.reduce(into: [:]) { out, entry in out[entry.key] = BatcherWindow(entry.value, since: before[entry.key]) }
    }
}
