import Testing
@testable import QuiverScheduler

/// Milliseconds after the virtual clock's origin.
func ms(_ value: Double) -> SchedulerInstant { SchedulerInstant(.microseconds(Int64((value * 1000).rounded()))) }

struct WaitTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition`, yielding between tries, until it holds; fails after `maxTries` instead of
/// hanging. Only the number of tries is bounded, never wall-clock time.
func waitUntil(_ what: String, maxTries: Int = 200_000, _ condition: () async -> Bool) async throws {
    for _ in 0..<maxTries {
        if await condition() { return }
        await Task.yield()
    }
    Issue.record("gave up waiting for: \(what)")
    throw WaitTimeout(description: "gave up waiting for: \(what)")
}

/// A batcher over a `FakeRunner` on a `VirtualClock`, with helpers that move time only once
/// every task has reacted to the previous step.
struct Rig {
    let clock: VirtualClock
    let runner: FakeRunner
    let batcher: DynamicBatcher<FakeRunner>

    /// - Parameters:
    ///   - latency: the fake runner's true run time; also the batcher's initial model unless `initialModel` is given.
    init(policy: BatchPolicy = .slo, latencyTarget: Duration = .milliseconds(50), maxBatchCost: Int = 64,
         minBatchCost: Int = 1, queueCapacity: Int = 64, headroom: Double = 0, slack: Duration = .zero,
         latency: RunTimeModel = RunTimeModel(fixed: .milliseconds(10), perUnit: .milliseconds(1)),
         initialModel: RunTimeModel? = nil, predictorDecay: Double = 0.8, deviceSlots: Int = 1) {
        clock = VirtualClock()
        runner = FakeRunner(clock: clock, latency: latency)
        var configuration = BatcherConfiguration(
            policy: policy, latencyTarget: latencyTarget, maxBatchCost: maxBatchCost, minBatchCost: minBatchCost,
            queueCapacity: queueCapacity, headroom: headroom, initialModel: initialModel ?? latency,
            predictorDecay: predictorDecay)
        configuration.slack = slack
        configuration.deviceSlots = deviceSlots
        batcher = DynamicBatcher(runner: runner, configuration: configuration, clock: clock)
    }

    /// Requests whose admission has been decided (queued or refused), plus queued ones shed since.
    func decided() async -> Int {
        let stats = await batcher.stats
        return stats.admitted + stats.rejected
    }

    /// Submits `job` from a new task and returns once the batcher has admitted or refused it, so
    /// consecutive calls arrive in call order; then lets the batcher settle.
    func submit(_ job: Job, deadline: SchedulerInstant? = nil) async throws -> Task<Int, any Error> {
        let before = await decided()
        let batcher = batcher
        let task = Task { try await batcher.submit(job, deadline: deadline) }
        try await waitUntil("admission of job \(job.id)") { await decided() >= before + 1 }
        try await settle()
        return task
    }

    /// Waits until every task has reacted to the current time: no prepare in flight, the running
    /// batches (if any) sleep on the clock, and the batcher's timer (if any) sleeps on it too.
    func settle() async throws {
        try await waitUntil("the batcher to settle") {
            let state = await batcher.state
            let inRun = runner.inRun
            let sleepers = clock.sleeperDeadlines.count
            return !state.isPreparing && state.runningBatches == inRun
                && sleepers == inRun + (state.nextWakeUp == nil ? 0 : 1)
        }
    }

    /// Moves time to `instant` one wake-up at a time, settling after each, so every sleeper
    /// observes its own deadline.
    func run(until instant: SchedulerInstant) async throws {
        try await settle()
        var steps = 0
        while let next = clock.nextWakeUp, next <= instant {
            clock.advance(to: next)
            try await settle()
            steps += 1
            guard steps < 100_000 else { throw WaitTimeout(description: "more than 100000 wake-ups before \(instant)") }
        }
        clock.advance(to: instant)
        try await settle()
    }

    /// Runs until nobody sleeps on the clock (all work done), at most `limit` virtual time.
    func drain(limit: Duration = .seconds(60)) async throws {
        let end = clock.now + limit
        try await settle()
        while let next = clock.nextWakeUp {
            guard next <= end else { throw WaitTimeout(description: "work still pending at \(end)") }
            try await run(until: next)
        }
    }
}

/// The error a finished task threw, or nil if it returned.
func thrownError<T>(_ task: Task<T, any Error>) async -> (any Error)? {
    do {
        _ = try await task.value
        return nil
    } catch {
        return error
    }
}
