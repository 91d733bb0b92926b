/// Collects concurrent requests into batches for a `BatchRunner`, to meet per-request deadlines
/// while keeping batches as large as those deadlines allow.
///
/// ## The `slo` policy
/// Requests wait in earliest-deadline-first order, grouped by length bucket. A request submitted
/// without a deadline gets `arrival + latencyTarget`. Each bucket offers one candidate batch: the
/// longest prefix whose padded cost `rows × widest units` stays within the cap. The policy is
/// work-conserving: the device never idles while requests wait.
/// - Device idle: the most urgent candidate closes at once. Under light load batches are small and
///   latency is one run; as load grows, more requests arrive during each run and the next batch
///   grows with them, so batch size follows the load without a window to tune.
/// - Device busy: the next batch is formed `slack` before the running one is predicted to end
///   (it is prepared by then, and includes everything that arrived during the run), or earlier
///   when its budget is full or a deadline requires it. With
///
///       plan(c) = predict(c) × (1 + headroom) + slack,   predict(c) = fixed + perUnit × c
///
///   (`predict` fitted online by `RunTimePredictor`: exponentially weighted least squares over
///   recent batches, so it follows a runner that slows down or speeds up), the candidates are laid
///   out back to back by head deadline and planned backwards,
///
///       latest[i] = min(deadline(head i), latest[i + 1]) − plan(cost i),
///
///   and the first must close by `latest[0]`.
/// - A closing batch is cut to the prefix that finishes the most requests by their own deadlines.
/// The cap backs off to 3/4 whenever a batch finishes after one of its deadlines and recovers by
/// 1/16 of `maxBatchCost` per on-time batch (`BatchCap`).
///
/// ## Every policy
/// - Pipeline depth 1: while batches run, the next one may be formed and prepared; nothing
///   else is committed, so later arrivals keep joining the queue. Up to `deviceSlots` batches run
///   at once; "device busy" above means every slot is, and a formed batch is planned to start on
///   the slot that frees first.
/// - Overload: at most `queueCapacity` requests wait; beyond that `submit` throws
///   `SchedulerError.overloaded` at once. A request that is predicted to finish after its deadline
///   even if run alone on the next free device slot throws `.deadlineExceeded`, at admission or
///   the moment that becomes true while it waits. Nothing waits forever. (Exception: when the
///   device has been idle for a latency target, a request the initial model says could make it
///   runs as a probe, so a prediction left pessimistic by a past slowdown gets corrected.)
/// - Cancelling the calling task removes a waiting request before it runs; `submit` throws
///   `CancellationError` at once. A request already in a formed batch still occupies its row
///   (a batch whose requests are all cancelled is not run).
/// - Results are matched to callers by position in the batch.
///
/// ```swift
/// let batcher = DynamicBatcher(runner: embedRunner, configuration: BatcherConfiguration(
///     latencyTarget: .milliseconds(50), maxBatchCost: 8192,   // tokens per batch
///     initialModel: RunTimeModel(fixed: .milliseconds(2), perUnit: .microseconds(20))))
/// let vector = try await batcher.submit(tokenizedQuery)        // deadline: now + 50 ms
/// ```
public actor DynamicBatcher<Runner: BatchRunner> {
    public typealias Request = Runner.Request
    public typealias Response = Runner.Response

    /// The clock deadlines are measured on.
    public nonisolated let clock: any SchedulerClock
    public nonisolated let configuration: BatcherConfiguration

    private struct Entry {
        var pending: PendingRequest
        var request: Request
        var continuation: CheckedContinuation<Response, any Error>
    }

    private struct Batch {
        var id: UInt64
        var requestIDs: [UInt64]
        var rows: Int
        var cost: Int
        var predicted: Duration
        var earliestDeadline: SchedulerInstant?
        var start: SchedulerInstant?
    }

    private let runner: Runner
    private let planner: BatchPlanner
    private var predictor: RunTimePredictor
    private var cap: BatchCap
    private var statistics = SchedulerStats()

    private var queue = PendingQueue()
    /// Requests whose caller still waits: queued or in a formed/running batch.
    private var entries: [UInt64: Entry] = [:]
    private var lastRequestID: UInt64 = 0
    private var lastBatchID: UInt64 = 0
    /// The batch formed while another runs: preparing (`prepared == nil`) or ready.
    private var next: Batch?
    private var prepared: Runner.Prepared?
    /// Batches running now, by id (at most `deviceSlots`).
    private var running: [UInt64: Batch] = [:]
    private var timer: (deadline: SchedulerInstant, generation: UInt64, task: Task<Void, Never>)?
    private var timerGeneration: UInt64 = 0
    private var isShutDown = false
    private var isDraining = false
    /// A request admitted although predicted to miss (see `isProbe`); never shed.
    private var probeID: UInt64?
    /// When the last batch finished (creation time before the first).
    private var lastRunEnd: SchedulerInstant

    public init(runner: Runner, configuration: BatcherConfiguration,
                clock: any SchedulerClock = ContinuousSchedulerClock()) {
        self.runner = runner
        self.configuration = configuration
        self.clock = clock
        lastRunEnd = clock.now
        planner = BatchPlanner(policy: configuration.policy, maxBatchCost: configuration.maxBatchCost,
                               headroom: configuration.headroom, slack: configuration.slack)
        predictor = RunTimePredictor(initial: configuration.initialModel, referenceCost: configuration.maxBatchCost,
                                     decay: configuration.predictorDecay)
        cap = BatchCap(floor: configuration.minBatchCost, ceiling: configuration.maxBatchCost)
    }

    // MARK: - Public API

    /// Queues `request` and returns its response once its batch has run.
    /// - Parameter deadline: latest acceptable completion on `clock`; nil: `now + latencyTarget`
    ///   under `slo`, none under `none` / `window`.
    /// - Throws: `SchedulerError.overloaded`, `.deadlineExceeded`, `.shutDown`, `CancellationError`,
    ///   or the runner's error.
    public func submit(_ request: Request, deadline: SchedulerInstant? = nil) async throws -> Response {
        try Task.checkCancellation()
        lastRequestID += 1
        let id = lastRequestID
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                admit(id: id, request: request, deadline: deadline, continuation: continuation)
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// `submit` with a deadline `timeout` from now.
    public func submit(_ request: Request, timeout: Duration) async throws -> Response {
        try await submit(request, deadline: clock.now + timeout)
    }

    /// Stops waiting for batches to fill: from now on every queued request is dispatched as soon as
    /// the device is free, in the policy's batches, without window delays or last-moment planning.
    /// New requests are still admitted (and dispatched the same way). A server calls this when it
    /// starts to shut down, so the requests it already accepted are answered promptly.
    public func drain() {
        isDraining = true
        update()
    }

    /// Refuses new requests and fails the waiting ones with `.shutDown`; formed batches finish.
    public func shutdown() {
        isShutDown = true
        for pending in queue.items {
            if let entry = entries.removeValue(forKey: pending.id) {
                statistics.failed += 1
                entry.continuation.resume(throwing: SchedulerError.shutDown)
            }
        }
        queue = PendingQueue()
        armTimer(nil)
    }

    /// Counters since creation.
    public var stats: SchedulerStats { statistics }

    /// What the batcher is doing now.
    public var state: BatcherState {
        BatcherState(queued: queue.count, runningBatches: running.count, isPreparing: next != nil && prepared == nil,
                     hasReadyBatch: prepared != nil, nextWakeUp: timer?.deadline, batchCap: cap.value,
                     model: predictor.model)
    }

    /// Predicted run time of a batch of `cost` units under the current model.
    public func predictedRunTime(cost: Int) -> Duration { predictor.predict(cost: cost) }

    // MARK: - Admission and cancellation

    private func admit(id: UInt64, request: Request, deadline: SchedulerInstant?,
                       continuation: CheckedContinuation<Response, any Error>) {
        if isShutDown { return continuation.resume(throwing: SchedulerError.shutDown) }
        guard queue.count < configuration.queueCapacity else {
            statistics.rejectedOverload += 1
            return continuation.resume(throwing: SchedulerError.overloaded(
                queued: queue.count, capacity: configuration.queueCapacity))
        }
        let now = clock.now
        var effectiveDeadline = deadline
        if effectiveDeadline == nil, configuration.policy == .slo { effectiveDeadline = now + configuration.latencyTarget }
        let pending = PendingRequest(id: id, arrival: now, deadline: effectiveDeadline, rows: max(1, runner.rows(of: request)),
                                     units: max(1, runner.units(of: request)), bucket: runner.bucket(of: request))
        if let miss = planner.predictedMiss(pending, start: deviceFree(now), model: predictor.model), let effectiveDeadline {
            guard isProbe(pending, now) else {
                statistics.rejectedDeadline += 1
                return continuation.resume(throwing: SchedulerError.deadlineExceeded(
                    deadline: effectiveDeadline, predictedCompletion: miss))
            }
            probeID = id
        }
        statistics.admitted += 1
        queue.insert(pending)
        entries[id] = Entry(pending: pending, request: request, continuation: continuation)
        update()
    }

    /// Whether `request`, predicted to miss, is admitted anyway to re-measure the device: it is
    /// idle, nothing has run for a latency target, and the initial model (the device as first
    /// measured) says the request would make it. Without probes a prediction left high by a
    /// slowdown that has passed would refuse every request forever, and nothing would correct it;
    /// a request no known state of the device could serve in time is still refused.
    private func isProbe(_ request: PendingRequest, _ now: SchedulerInstant) -> Bool {
        running.isEmpty && next == nil && now - lastRunEnd >= configuration.latencyTarget
            && planner.predictedMiss(request, start: now, model: configuration.initialModel) == nil
    }

    private func cancel(_ id: UInt64) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        queue.remove(id: id)
        statistics.cancelled += 1
        entry.continuation.resume(throwing: CancellationError())
        if let batch = next, prepared != nil, isAbandoned(batch) {
            next = nil
            prepared = nil
        }
        update()
    }

    private func isAbandoned(_ batch: Batch) -> Bool {
        batch.requestIDs.allSatisfy { entries[$0] == nil }
    }

    // MARK: - Planning

    /// Re-decides after any change: drops requests that can no longer make it, closes a batch if
    /// one is due and the pipeline has room, and sets the timer for the next decision.
    private func update() {
        let now = clock.now
        shedUnreachable(now)
        var wake: SchedulerInstant?
        if next == nil, !queue.isEmpty {
            switch planner.decide(queue, now: now, start: deviceFree(now), cap: cap.value, model: predictor.model,
                                  closeNow: isDraining) {
            case let .dispatch(ids):
                form(ids)
                shedUnreachable(now)
            case let .wait(until):
                wake = until
            }
        }
        for pending in queue.items where pending.id != probeID {
            guard let miss = planner.missInstant(pending, model: predictor.model) else { continue }
            wake = min(wake ?? miss, miss)
        }
        armTimer(wake.map { max($0, now + .nanoseconds(1)) })
    }

    /// Earliest instant a batch formed now could start: on the slot that frees first, after the
    /// running batches (predicted) and the formed one (which takes the first free slot).
    private func deviceFree(_ now: SchedulerInstant) -> SchedulerInstant {
        var ends = running.values.map { batch in max(now, (batch.start ?? now) + batch.predicted) }
        ends += Array(repeating: now, count: max(0, max(1, configuration.deviceSlots) - ends.count))
        ends.sort()
        if let next {
            ends[0] = ends[0] + next.predicted
            ends.sort()
        }
        return ends[0]
    }

    /// Fails, with `.deadlineExceeded`, every waiting request (but the probe) that would finish
    /// after its deadline even if it ran alone on the next free slot.
    private func shedUnreachable(_ now: SchedulerInstant) {
        let start = deviceFree(now)
        let model = predictor.model
        var misses: [UInt64: SchedulerError] = [:]
        for pending in queue.items where pending.id != probeID {
            guard let miss = planner.predictedMiss(pending, start: start, model: model),
                  let deadline = pending.deadline else { continue }
            misses[pending.id] = .deadlineExceeded(deadline: deadline, predictedCompletion: miss)
        }
        guard !misses.isEmpty else { return }
        for pending in queue.remove(ids: Set(misses.keys)) {
            statistics.rejectedDeadline += 1
            if let error = misses[pending.id] { entries.removeValue(forKey: pending.id)?.continuation.resume(throwing: error) }
        }
    }

    private func armTimer(_ wake: SchedulerInstant?) {
        if timer?.deadline == wake { return }
        timer?.task.cancel()
        timer = nil
        guard let wake else { return }
        timerGeneration += 1
        let generation = timerGeneration
        let clock = clock
        let task = Task {
            do { try await clock.sleep(until: wake) } catch { return }
            self.timerFired(generation)
        }
        timer = (wake, generation, task)
    }

    private func timerFired(_ generation: UInt64) {
        guard timer?.generation == generation else { return }
        timer = nil
        update()
    }

    // MARK: - Batches

    private func form(_ ids: [UInt64]) {
        let members = queue.remove(ids: Set(ids))
        var shape = BatchShape()
        for pending in members { shape.add(rows: pending.rows, units: pending.units) }
        lastBatchID += 1
        let batch = Batch(id: lastBatchID, requestIDs: members.map(\.id), rows: shape.rows, cost: shape.cost,
                          predicted: predictor.predict(cost: shape.cost),
                          earliestDeadline: members.compactMap(\.deadline).min())
        next = batch
        prepared = nil
        let requests = members.compactMap { entries[$0.id]?.request }
        let runner = runner
        // Detached: the runner's work must not run on (and block) this actor.
        Task.detached {
            let result: Result<Runner.Prepared, any Error>
            do { result = .success(try await runner.prepare(requests)) } catch { result = .failure(error) }
            await self.didPrepare(batch.id, result)
        }
    }

    private func didPrepare(_ batchID: UInt64, _ result: Result<Runner.Prepared, any Error>) {
        guard let batch = next, batch.id == batchID else { return }
        switch result {
        case let .success(payload):
            if isAbandoned(batch) {
                next = nil
            } else {
                prepared = payload
            }
        case let .failure(error):
            next = nil
            fail(batch, with: error)
        }
        startNextIfIdle()
        update()
    }

    private func startNextIfIdle() {
        guard running.count < max(1, configuration.deviceSlots), var batch = next, let payload = prepared else { return }
        next = nil
        prepared = nil
        let now = clock.now
        batch.start = now
        running[batch.id] = batch
        statistics.batches += 1
        statistics.batchRows[batch.rows, default: 0] += 1
        for id in batch.requestIDs {
            if let entry = entries[id] { statistics.queueDelay.record(now - entry.pending.arrival) }
        }
        let runner = runner
        Task.detached {
            let result: Result<[Response], any Error>
            do { result = .success(try await runner.run(payload)) } catch { result = .failure(error) }
            await self.didRun(batch.id, result)
        }
    }

    private func didRun(_ batchID: UInt64, _ result: Result<[Response], any Error>) {
        guard let batch = running.removeValue(forKey: batchID), let start = batch.start else { return }
        let now = clock.now
        lastRunEnd = now
        switch result {
        case let .success(responses) where responses.count == batch.requestIDs.count:
            predictor.observe(cost: batch.cost, runTime: now - start)
            statistics.runTime.record(now - start)
            for (id, response) in zip(batch.requestIDs, responses) {
                guard let entry = entries.removeValue(forKey: id) else { continue }
                statistics.completed += 1
                statistics.latency.record(now - entry.pending.arrival)
                if let deadline = entry.pending.deadline, now > deadline { statistics.late += 1 }
                entry.continuation.resume(returning: response)
            }
            if configuration.policy == .slo {
                if let deadline = batch.earliestDeadline, now > deadline { cap.batchWasLate() } else { cap.batchWasOnTime() }
            }
        case let .success(responses):
            fail(batch, with: SchedulerError.responseCountMismatch(expected: batch.requestIDs.count, got: responses.count))
        case let .failure(error):
            fail(batch, with: error)
        }
        startNextIfIdle()
        update()
    }

    private func fail(_ batch: Batch, with error: any Error) {
        for id in batch.requestIDs {
            guard let entry = entries.removeValue(forKey: id) else { continue }
            statistics.failed += 1
            entry.continuation.resume(throwing: error)
        }
    }
}
