import Testing
@testable import QuiverScheduler

/// End-to-end batching on a virtual clock with a fake runner that takes 10 ms + 1 ms per cost
/// unit (unless a test says otherwise). Every instant below is exact.
@Suite struct DynamicBatcherTests {
    typealias Record = FakeRunner.Record

    @Test func sloRunsAtOnceOnAnIdleDeviceAndBatchesWhatArrivesDuringARun() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100))
        let first = try await rig.submit(Job(id: 1))
        #expect(rig.runner.records == [Record(start: ms(0), ids: [1], cost: 1)], "no waiting for company")

        try await rig.run(until: ms(5))
        let second = try await rig.submit(Job(id: 2))
        let third = try await rig.submit(Job(id: 3))
        #expect(await rig.batcher.state.nextWakeUp == ms(11), "the next batch closes when the device frees")
        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [1], cost: 1), Record(start: ms(11), ids: [2, 3], cost: 2)])
        #expect(try await first.value == 10)
        #expect(try await second.value == 20)
        #expect(try await third.value == 30)
        let stats = await rig.batcher.stats
        #expect(stats.latency.max == .milliseconds(18), "arrived at 5 ms, done at 23 ms")
        #expect(stats.queueDelay.max == .milliseconds(6))
        #expect(stats.late == 0)
    }

    @Test func sloPreparesTheNextBatchSlackBeforeTheDeviceFrees() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), slack: .milliseconds(2))
        _ = try await rig.submit(Job(id: 0))  // runs 0…11 ms
        _ = try await rig.submit(Job(id: 1))
        #expect(await rig.batcher.state.nextWakeUp == ms(9))
        try await rig.run(until: ms(9))
        #expect(await rig.batcher.state.hasReadyBatch, "formed and prepared while the first batch runs")
        _ = try await rig.submit(Job(id: 2))  // too late for that batch: it takes the one after
        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [0], cost: 1), Record(start: ms(11), ids: [1], cost: 1),
                                       Record(start: ms(22), ids: [2], cost: 1)])
    }

    @Test func sloClosesAFullBudgetAtOnceWhileTheDeviceIsBusy() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), maxBatchCost: 4)
        var tasks: [Task<Int, any Error>] = []
        for id in 0..<4 { tasks.append(try await rig.submit(Job(id: id))) }  // 0 runs 0…11 ms
        #expect(!(await rig.batcher.state.hasReadyBatch), "three waiting rows do not fill a budget of four")
        tasks.append(try await rig.submit(Job(id: 4)))
        #expect(await rig.batcher.state.hasReadyBatch, "a full budget closes at once")
        tasks.append(try await rig.submit(Job(id: 5)))
        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [0], cost: 1), Record(start: ms(11), ids: [1, 2, 3, 4], cost: 4),
                                       Record(start: ms(25), ids: [5], cost: 1)])
        for (id, task) in tasks.enumerated() { #expect(try await task.value == id * 10) }
        let stats = await rig.batcher.stats
        #expect(stats.batches == 3 && stats.batchRows == [1: 2, 4: 1] && stats.completed == 6)
    }

    @Test func noneRunsEachRequestAloneAndPreparesTheNextDuringTheRun() async throws {
        let rig = Rig(policy: .none)
        var tasks: [Task<Int, any Error>] = []
        for id in 0..<3 { tasks.append(try await rig.submit(Job(id: id))) }
        let state = await rig.batcher.state
        #expect(state.isRunning && state.hasReadyBatch && state.queued == 1, "one running, one prepared, one waiting")

        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [0], cost: 1), Record(start: ms(11), ids: [1], cost: 1),
                                       Record(start: ms(22), ids: [2], cost: 1)])
        for (id, task) in tasks.enumerated() { #expect(try await task.value == id * 10) }
        #expect(await rig.batcher.stats.batchRows == [1: 3])
    }

    @Test func windowDispatchesAtMaxBatchOrAfterMaxDelay() async throws {
        let rig = Rig(policy: .window(maxBatch: 3, maxDelay: .milliseconds(5)))
        for id in 0..<3 { _ = try await rig.submit(Job(id: id)) }
        #expect(rig.runner.records == [Record(start: ms(0), ids: [0, 1, 2], cost: 3)], "full at three requests")

        try await rig.run(until: ms(20))
        _ = try await rig.submit(Job(id: 3))
        try await rig.run(until: ms(22))
        _ = try await rig.submit(Job(id: 4))
        #expect(await rig.batcher.state.nextWakeUp == ms(25), "the oldest has waited 5 ms at 25 ms")
        try await rig.drain()
        #expect(rig.runner.records.dropFirst() == [Record(start: ms(25), ids: [3, 4], cost: 2)])
        #expect(await rig.batcher.stats.batchRows == [3: 1, 2: 1])
    }

    @Test func resultsGoBackToTheirCallersInServiceOrder() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100))
        _ = try await rig.submit(Job(id: 9))  // occupies the device 0…11 ms
        let early = try await rig.submit(Job(id: 7))
        let urgent = try await rig.submit(Job(id: 3), deadline: ms(60))
        let late = try await rig.submit(Job(id: 5))
        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [9], cost: 1), Record(start: ms(11), ids: [3, 7, 5], cost: 3)])
        #expect(try await early.value == 70)
        #expect(try await urgent.value == 30)
        #expect(try await late.value == 50)
    }

    @Test func lengthBucketsNeverShareABatch() async throws {
        // 10 ms + 0.1 ms per token; budget 64 tokens.
        let rig = Rig(latencyTarget: .milliseconds(100),
                      latency: RunTimeModel(fixed: .milliseconds(10), perUnit: .microseconds(100)))
        _ = try await rig.submit(Job(id: 9, units: 4, bucket: 0))  // occupies the device 0…10.4 ms
        var tasks: [Task<Int, any Error>] = []
        for job in [Job(id: 0, units: 4, bucket: 0), Job(id: 1, units: 30, bucket: 1),
                    Job(id: 2, units: 5, bucket: 0), Job(id: 3, units: 28, bucket: 1)] {
            tasks.append(try await rig.submit(job))
        }
        try await rig.drain()
        // Same deadlines: bucket 0 leads (its head came first), 10 tokens take 11 ms; then bucket 1.
        #expect(rig.runner.records == [Record(start: ms(0), ids: [9], cost: 4), Record(start: ms(10.4), ids: [0, 2], cost: 10),
                                       Record(start: ms(21.4), ids: [1, 3], cost: 60)])
        for (id, task) in tasks.enumerated() { #expect(try await task.value == id * 10) }
        #expect(await rig.batcher.stats.late == 0)
    }

    @Test func multiRowRequestsCountEveryRow() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), maxBatchCost: 8)
        _ = try await rig.submit(Job(id: 9))  // occupies the device 0…11 ms
        _ = try await rig.submit(Job(id: 0, rows: 5))
        #expect(!(await rig.batcher.state.hasReadyBatch))
        _ = try await rig.submit(Job(id: 1, rows: 3))
        #expect(await rig.batcher.state.hasReadyBatch, "5 + 3 rows fill a budget of 8")
        try await rig.drain()
        #expect(rig.runner.records.last == Record(start: ms(11), ids: [0, 1], cost: 8))
        #expect(await rig.batcher.stats.batchRows == [1: 1, 8: 1])
    }

    @Test func drainingClosesWindowsAtOnce() async throws {
        let rig = Rig(policy: .window(maxBatch: 8, maxDelay: .seconds(600)))
        let first = try await rig.submit(Job(id: 0))
        let second = try await rig.submit(Job(id: 1))
        #expect(rig.runner.records.isEmpty)
        #expect(await rig.batcher.state.nextWakeUp == ms(600_000))

        await rig.batcher.drain()
        try await rig.settle()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [0, 1], cost: 2)], "queued work runs now")
        let late = try await rig.submit(Job(id: 2))
        try await rig.drain()
        #expect(rig.runner.records.last == Record(start: ms(12), ids: [2], cost: 1), "a later arrival waits for no window")
        #expect(try await first.value == 0)
        #expect(try await second.value == 10)
        #expect(try await late.value == 20)
    }
}
