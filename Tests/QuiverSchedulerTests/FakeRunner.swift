@testable import QuiverScheduler

/// A request of the fake workload: `units` cost units per row (tokens), in an optional bucket.
struct Job: Sendable, Equatable {
    var id: Int
    var rows = 1
    var units = 1
    var bucket: Int?
}

/// A runner whose run time is a function of the batch's padded cost, spent sleeping on a
/// `VirtualClock`. Answers each job with `id × 10` and records every batch it runs.
final class FakeRunner: BatchRunner, Sendable {
    typealias Request = Job
    typealias Response = Int

    struct Record: Sendable, Equatable {
        var start: SchedulerInstant
        var ids: [Int]
        var cost: Int
    }

    private struct State {
        var latency: RunTimeModel
        var records: [Record] = []
        var inRun = 0
        var failure: (any Error)?
        var dropLastResponse = false
    }

    let clock: VirtualClock
    private let state: Locked<State>

    /// - Parameter latency: run time of a batch as `fixed + perUnit × cost`.
    init(clock: VirtualClock, latency: RunTimeModel) {
        self.clock = clock
        state = Locked(State(latency: latency))
    }

    /// Changes the run time of batches started from now on (the device slows down or speeds up).
    func setLatency(_ latency: RunTimeModel) { state.withLock { $0.latency = latency } }

    /// Makes the next runs throw `error`.
    func failRuns(with error: any Error) { state.withLock { $0.failure = error } }

    /// Makes the next runs return one response too few.
    func dropLastResponse() { state.withLock { $0.dropLastResponse = true } }

    /// Batches started so far.
    var records: [Record] { state.withLock { $0.records } }

    /// Runs in progress (started, not yet returned).
    var inRun: Int { state.withLock { $0.inRun } }

    func rows(of request: Job) -> Int { request.rows }
    func units(of request: Job) -> Int { request.units }
    func bucket(of request: Job) -> Int? { request.bucket }

    func run(_ batch: [Job]) async throws -> [Int] {
        let cost = cost(of: batch)
        let start = clock.now
        let (latency, failure, drop) = state.withLock { s in
            s.records.append(Record(start: start, ids: batch.map(\.id), cost: cost))
            s.inRun += 1
            return (s.latency, s.failure, s.dropLastResponse)
        }
        defer { state.withLock { $0.inRun -= 1 } }
        try await clock.sleep(until: start + latency.predict(cost: cost))
        if let failure { throw failure }
        let responses = batch.map { $0.id * 10 }
        return drop ? Array(responses.dropLast()) : responses
    }
}
