import Testing
@testable import QuiverScheduler

/// Deadlines, overload, cancellation and failures: every refused or dropped request fails at a
/// known instant, and no caller is left waiting.
@Suite struct AdmissionTests {
    typealias Record = FakeRunner.Record

    struct Boom: Error, Equatable {}

    @Test func aDeadlineThatCannotBeMetFailsAtAdmission() async throws {
        let rig = Rig()
        let hopeless = try await rig.submit(Job(id: 1), deadline: ms(5))
        #expect(await thrownError(hopeless) as? SchedulerError == .deadlineExceeded(deadline: ms(5), predictedCompletion: ms(11)))
        await #expect(throws: SchedulerError.deadlineExceeded(deadline: ms(10), predictedCompletion: ms(11))) {
            try await rig.batcher.submit(Job(id: 2), timeout: .milliseconds(10))
        }
        #expect(await rig.batcher.stats.rejectedDeadline == 2)
        #expect(await rig.batcher.state.queued == 0)
        #expect(rig.clock.now == .zero)
    }

    @Test func admissionAccountsForTheBatchesAhead() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), maxBatchCost: 4)
        // Job 0 runs 0…11 ms; jobs 1–4 fill the next batch (14 ms): the device is booked until 25 ms.
        for id in 0..<5 { _ = try await rig.submit(Job(id: id)) }
        let tooLate = try await rig.submit(Job(id: 5), deadline: ms(30))
        #expect(await thrownError(tooLate) as? SchedulerError == .deadlineExceeded(deadline: ms(30), predictedCompletion: ms(36)))
        let justInTime = try await rig.submit(Job(id: 6), deadline: ms(36))
        try await rig.drain()
        #expect(try await justInTime.value == 60)
        #expect(rig.runner.records.last == Record(start: ms(25), ids: [6], cost: 1))
        #expect(await rig.batcher.stats.late == 0)
    }

    @Test func aWaitingRequestFailsTheMomentItsDeadlineBecomesUnreachable() async throws {
        let rig = Rig(policy: .window(maxBatch: 8, maxDelay: .milliseconds(100)))
        let task = try await rig.submit(Job(id: 1), deadline: ms(30))
        let missAt = ms(19) + .nanoseconds(1)  // 30 ms − 11 ms alone, plus the first nanosecond past it
        #expect(await rig.batcher.state.nextWakeUp == missAt)
        try await rig.run(until: ms(19))
        #expect(await rig.batcher.stats.rejectedDeadline == 0)
        try await rig.run(until: missAt)
        #expect(await rig.batcher.stats.rejectedDeadline == 1)
        #expect(await thrownError(task) as? SchedulerError
            == .deadlineExceeded(deadline: ms(30), predictedCompletion: missAt + .milliseconds(11)))
        #expect(rig.runner.records.isEmpty)
        #expect(await rig.batcher.state.nextWakeUp == nil)
    }

    @Test func aFullQueueRejectsAtOnce() async throws {
        let rig = Rig(latencyTarget: .seconds(1), queueCapacity: 2)
        _ = try await rig.submit(Job(id: 0))  // running, not waiting
        let first = try await rig.submit(Job(id: 1))
        let second = try await rig.submit(Job(id: 2))
        let third = try await rig.submit(Job(id: 3))
        #expect(await thrownError(third) as? SchedulerError == .overloaded(queued: 2, capacity: 2))
        #expect(rig.clock.now == .zero, "the rejection did not wait for time to pass")
        let stats = await rig.batcher.stats
        #expect(stats.rejectedOverload == 1 && stats.admitted == 3)

        try await rig.drain()
        #expect(try await first.value == 10)
        #expect(try await second.value == 20)
    }

    @Test func aCancelledWaitingRequestIsDroppedBeforeItRuns() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100))
        _ = try await rig.submit(Job(id: 0))  // occupies the device
        let keep1 = try await rig.submit(Job(id: 1))
        let cancelled = try await rig.submit(Job(id: 2))
        let keep3 = try await rig.submit(Job(id: 3))
        cancelled.cancel()
        try await waitUntil("the cancellation to reach the batcher") { await rig.batcher.stats.cancelled == 1 }
        #expect(await thrownError(cancelled) is CancellationError)
        #expect(await rig.batcher.state.queued == 2)

        try await rig.drain()
        #expect(rig.runner.records.map(\.ids) == [[0], [1, 3]])
        #expect(try await keep1.value == 10)
        #expect(try await keep3.value == 30)
    }

    @Test func aPreparedBatchWhoseCallersAllCancelledIsNotRun() async throws {
        let rig = Rig(policy: .none)
        _ = try await rig.submit(Job(id: 0))
        let cancelled = try await rig.submit(Job(id: 1))
        _ = try await rig.submit(Job(id: 2))
        #expect(await rig.batcher.state.hasReadyBatch)
        cancelled.cancel()
        try await waitUntil("the cancellation to reach the batcher") { await rig.batcher.stats.cancelled == 1 }
        #expect(await thrownError(cancelled) is CancellationError)
        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [0], cost: 1), Record(start: ms(11), ids: [2], cost: 1)])
    }

    @Test func aCallerCancelledDuringItsRunIsAnsweredAtOnce() async throws {
        let rig = Rig(maxBatchCost: 2)
        let cancelled = try await rig.submit(Job(id: 0))
        let kept = try await rig.submit(Job(id: 1))
        #expect(await rig.batcher.state.isRunning)
        cancelled.cancel()
        #expect(await thrownError(cancelled) is CancellationError)
        #expect(rig.clock.now == .zero, "answered without waiting for the batch")
        try await rig.drain()
        #expect(try await kept.value == 10)
        let stats = await rig.batcher.stats
        #expect(stats.completed == 1 && stats.cancelled == 1)
    }

    @Test func runnerErrorsReachEveryCallerOfTheBatch() async throws {
        let rig = Rig(maxBatchCost: 2)
        rig.runner.failRuns(with: Boom())
        let a = try await rig.submit(Job(id: 0))
        let b = try await rig.submit(Job(id: 1))
        try await rig.drain()
        #expect(await thrownError(a) is Boom)
        #expect(await thrownError(b) is Boom)
        #expect(await rig.batcher.stats.failed == 2)
    }

    @Test func aShortAnswerFromTheRunnerIsAnError() async throws {
        let rig = Rig(maxBatchCost: 2)
        rig.runner.dropLastResponse()
        let alone = try await rig.submit(Job(id: 9))  // runs at once
        let a = try await rig.submit(Job(id: 0))
        _ = try await rig.submit(Job(id: 1))
        try await rig.drain()
        #expect(await thrownError(alone) as? SchedulerError == .responseCountMismatch(expected: 1, got: 0))
        #expect(await thrownError(a) as? SchedulerError == .responseCountMismatch(expected: 2, got: 1))
    }

    @Test func shutdownFailsWaitingRequestsAndRefusesNewOnes() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), maxBatchCost: 2)
        // Job 0 runs, jobs 1 and 2 fill the next batch, job 3 waits.
        let formed = [try await rig.submit(Job(id: 0)), try await rig.submit(Job(id: 1)), try await rig.submit(Job(id: 2))]
        let waiting = try await rig.submit(Job(id: 3))
        await rig.batcher.shutdown()
        #expect(await thrownError(waiting) as? SchedulerError == .shutDown)
        await #expect(throws: SchedulerError.shutDown) { try await rig.batcher.submit(Job(id: 4)) }
        try await rig.drain()
        for (id, task) in formed.enumerated() { #expect(try await task.value == id * 10) }
    }
}
