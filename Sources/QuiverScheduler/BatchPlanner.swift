/// The batching decisions of each `BatchPolicy`, as pure functions of the queue, the time and the
/// run-time model (the `DynamicBatcher` actor owns the state and calls these).
struct BatchPlanner: Sendable {
    enum Decision: Equatable, Sendable {
        /// Close a batch of these requests (service order) now.
        case dispatch([UInt64])
        /// Nothing to close yet; decide again at this instant (nil: only when something changes).
        case wait(until: SchedulerInstant?)
    }

    var policy: BatchPolicy
    var maxBatchCost: Int
    /// Planned run time = predicted × (1 + headroom) + slack.
    var headroom: Double
    /// Absolute margin added to every planned run time (timers on a real clock wake late).
    var slack: Duration = .zero

    /// Decides whether to close a batch now.
    /// - Parameters:
    ///   - now: the current time.
    ///   - start: earliest instant a new batch could start running (≥ now; later while the device is busy).
    ///   - cap: the `slo` cost cap (≤ `maxBatchCost`).
    ///   - model: the current run-time prediction.
    ///   - closeNow: draining: close the policy's next batch at once instead of waiting for it to
    ///     fill (no window delay, no last-safe-start wait).
    func decide(_ queue: PendingQueue, now: SchedulerInstant, start: SchedulerInstant, cap: Int,
                model: RunTimeModel, closeNow: Bool = false) -> Decision {
        guard let first = queue.items.first else { return .wait(until: nil) }
        if closeNow { return .dispatch(nextBatch(queue, cap: cap)) }
        switch policy {
        case .none:
            return .dispatch([first.id])
        case let .window(maxBatch, maxDelay):
            return window(queue, now: now, maxBatch: max(1, maxBatch), maxDelay: maxDelay)
        case .slo:
            return slo(queue, now: now, start: start, cap: cap, model: model)
        }
    }

    /// The batch the policy would close next, closed now: `none` the first request, `window` the
    /// first `maxBatch` within the budget, `slo` the most urgent request's bucket within `cap`.
    private func nextBatch(_ queue: PendingQueue, cap: Int) -> [UInt64] {
        switch policy {
        case .none:
            return [queue.items[0].id]
        case let .window(maxBatch, _):
            return Self.prefix(queue.items, limit: maxBatchCost, maxRequests: max(1, maxBatch)).prefix.map(\.id)
        case .slo:
            let bucket = queue.items[0].bucket
            return Self.prefix(queue.items.filter { $0.bucket == bucket }, limit: cap, maxRequests: .max).prefix.map(\.id)
        }
    }

    /// The predicted completion of `request` run alone from `start`, if that is after its deadline;
    /// nil while it can still make it (or has no deadline).
    func predictedMiss(_ request: PendingRequest, start: SchedulerInstant, model: RunTimeModel) -> SchedulerInstant? {
        guard let deadline = request.deadline else { return nil }
        let done = start + model.predict(cost: request.aloneCost)
        return done > deadline ? done : nil
    }

    /// The first instant at which `request`, run alone, is predicted to finish after its deadline.
    func missInstant(_ request: PendingRequest, model: RunTimeModel) -> SchedulerInstant? {
        guard let deadline = request.deadline else { return nil }
        return deadline - model.predict(cost: request.aloneCost) + .nanoseconds(1)
    }

    // MARK: - Policies

    /// Triton-style: the first `maxBatch` requests (within the hard budget) close when the batch is
    /// full or when the oldest request has waited `maxDelay`.
    private func window(_ queue: PendingQueue, now: SchedulerInstant, maxBatch: Int, maxDelay: Duration) -> Decision {
        let (prefix, full) = Self.prefix(queue.items, limit: maxBatchCost, maxRequests: maxBatch)
        let oldest = queue.items.map(\.arrival).min() ?? now
        if full || oldest + maxDelay <= now { return .dispatch(prefix.map(\.id)) }
        return .wait(until: oldest + maxDelay)
    }

    /// Work-conserving and deadline-aware. One candidate batch per length bucket: the bucket's
    /// service-order prefix within `cap`; candidates ordered by their head's deadline.
    /// - Device idle (`start ≤ now`): the first candidate closes at once. Waiting for a fuller batch
    ///   only adds latency: whatever arrives meanwhile joins the next batch, which grows with the
    ///   load on its own.
    /// - Device busy: the next batch closes `slack` before the device is predicted to free (so it
    ///   is prepared by then and gathers every request that arrived during the run), earlier when
    ///   its budget is full (a full candidate that is not first in line only if running it first
    ///   still lets the first start in time) or when a deadline requires it: with candidates
    ///   planned back to back, `latest[i] = min(deadline[i], latest[i+1]) − plan(cost[i])` is the
    ///   last instant the first may start so that every head finishes in time.
    /// A closing candidate is cut to the prefix that finishes the most requests by their own
    /// deadlines (`Candidate.best`).
    private func slo(_ queue: PendingQueue, now: SchedulerInstant, start: SchedulerInstant, cap: Int,
                     model: RunTimeModel) -> Decision {
        let scale = 1 + headroom
        var buckets: [Int?: [PendingRequest]] = [:]
        for request in queue.items { buckets[request.bucket, default: []].append(request) }
        let candidates = buckets.values.map { group in
            let (prefix, full) = Self.prefix(group, limit: cap, maxRequests: .max)
            return Candidate(requests: prefix, costs: Self.prefixCosts(prefix), full: full)
        }.sorted { $0.head.precedes($1.head) }
        let plan = { (cost: Int) in model.predict(cost: cost, scale: scale) + slack }
        let first = candidates[0]
        if start <= now { return .dispatch(first.best(start: now, plan: plan)) }

        var latestStart: SchedulerInstant?
        for candidate in candidates.reversed() {
            let finishBy = [candidate.head.deadline, latestStart].compactMap { $0 }.min()
            latestStart = finishBy.map { $0 - plan(candidate.cost) }
        }
        let closeBy = [start - slack, latestStart].compactMap { $0 }.min()!
        if closeBy <= now { return .dispatch(first.best(start: start, plan: plan)) }
        if let full = candidates.first(where: \.full) {
            if full.head.id != first.head.id, let latestStart, start + plan(full.cost) > latestStart {
                return .dispatch(first.best(start: start, plan: plan))
            }
            return .dispatch(full.best(start: start, plan: plan))
        }
        return .wait(until: closeBy)
    }

    /// A batch the `slo` policy could close: a bucket's prefix and the padded cost of each sub-prefix.
    private struct Candidate {
        /// In service order: deadlines ascending, requests without one last.
        var requests: [PendingRequest]
        /// costs[k]: padded cost of the first k + 1 requests.
        var costs: [Int]
        var full: Bool

        var head: PendingRequest { requests[0] }
        var cost: Int { costs[costs.count - 1] }

        /// Ids of the prefix that, started at `start` and finishing `plan(cost)` later, has the most
        /// requests done by their own deadlines; among equals the shortest (a request that would
        /// only be late in this batch may still make the next one, and it makes this one no
        /// longer). If none would be on time, the whole candidate (serve the backlog in bulk).
        func best(start: SchedulerInstant, plan: (Int) -> Duration) -> [UInt64] {
            var bestCount = 0, bestLength = requests.count
            var late = 0  // requests of the prefix whose deadline is before its finish
            for length in 1...requests.count {
                let finish = start + plan(costs[length - 1])
                while late < length, let deadline = requests[late].deadline, deadline < finish { late += 1 }
                let onTime = length - late
                if onTime > bestCount { (bestCount, bestLength) = (onTime, length) }
            }
            return requests.prefix(bestLength).map(\.id)
        }
    }

    // MARK: - Helpers

    /// The longest service-order prefix whose padded cost stays within `limit` (at least one
    /// request) and has at most `maxRequests` requests; `full` when nothing more could join it.
    static func prefix(_ items: [PendingRequest], limit: Int, maxRequests: Int) -> (prefix: [PendingRequest], full: Bool) {
        var shape = BatchShape()
        var taken: [PendingRequest] = []
        for request in items {
            let next = shape.adding(rows: request.rows, units: request.units)
            if !taken.isEmpty && next.cost > limit { return (taken, true) }
            taken.append(request)
            shape = next
            if taken.count == maxRequests { return (taken, true) }
        }
        return (taken, shape.cost >= limit)
    }

    /// Padded cost of each prefix: element k is the cost of the first k + 1 requests.
    static func prefixCosts(_ items: [PendingRequest]) -> [Int] {
        var shape = BatchShape()
        return items.map { request in
            shape.add(rows: request.rows, units: request.units)
            return shape.cost
        }
    }
}
